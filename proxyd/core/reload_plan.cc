#include "proxyd/core/reload_plan.h"

#include <algorithm>

#include "proxyd/core/virtual_servers.h"

namespace proxyd {

namespace {

template <class T>
T withoutLine(T s) {
  s.line = 0;
  return s;
}

ServerSection withoutLine(ServerSection s) {
  s.line = 0;
  for (SetDirective& set : s.sets) set.line = 0;
  for (ListenDirective& l : s.listen) l.line = 0;
  for (LimitConnDirective& limit : s.limit_conn) limit.line = 0;
  return s;
}

const AddressServers* listeningOn(const std::vector<AddressServers>& addrs,
                                  const ListenDirective& socket) {
  for (const auto& a : addrs) {
    if (a.listen.sameSocket(socket)) return &a;
  }
  return nullptr;
}

std::vector<GroupStep> planGroups(const ProxyConfig& running, const ProxyConfig& next) {
  std::vector<GroupStep> plan;
  for (const auto& up : next.upstreams) {
    const UpstreamSection* old = running.findUpstream(up.name);
    if (old == nullptr) {
      plan.push_back({up.name, ReloadStep::start});
    } else if (withoutLine(*old) != withoutLine(up)) {
      plan.push_back({up.name, ReloadStep::restart});
    } else {
      plan.push_back({up.name, ReloadStep::keep});
    }
  }
  for (const auto& up : running.upstreams) {
    if (next.findUpstream(up.name) == nullptr) plan.push_back({up.name, ReloadStep::stop});
  }
  return plan;
}

// Whether new sessions on a kept socket of `now` run as those of `was`
// did: the same section, the same group state, the same log format.
bool sameBlock(const ProxyConfig& running, const ServerSection& was, const ProxyConfig& next,
               const ServerSection& now, const std::vector<GroupStep>& groups) {
  if (withoutLine(was) != withoutLine(now)) return false;
  // Templates refer to user variables by index in the table: a new table
  // means new blocks everywhere.
  if (running.variables != next.variables) return false;
  // A proxy_pass with variables may reach any group: it keeps its block
  // only when every group is kept.
  const bool any_group = now.passHasVariables();
  for (const auto& g : groups) {
    if ((any_group || g.name == now.proxy_pass) && g.step != ReloadStep::keep) return false;
  }
  for (const AccessLogTarget& log : now.access_logs) {
    const auto& name = log.format_name;
    auto a = running.log_format_text.find(name), b = next.log_format_text.find(name);
    if (a == running.log_format_text.end() || b == next.log_format_text.end() ||
        a->second != b->second) {
      return false;
    }
    auto ea = running.log_format_escape.find(name), eb = next.log_format_escape.find(name);
    if ((ea == running.log_format_escape.end()) != (eb == next.log_format_escape.end()) ||
        (ea != running.log_format_escape.end() && ea->second != eb->second)) {
      return false;
    }
  }
  return true;
}

// An address is kept when the same [server]s, each the same block, listen
// on it with the same default; any change there is an update.
bool sameServers(const ProxyConfig& running, const AddressServers& was, const ProxyConfig& next,
                 const AddressServers& now, const std::vector<GroupStep>& groups) {
  if (was.servers.size() != now.servers.size() || was.default_pos != now.default_pos) return false;
  for (std::size_t i = 0; i < now.servers.size(); ++i) {
    const ServerSection& a = running.servers[was.servers[i]];
    const ServerSection& b = next.servers[now.servers[i]];
    if (a.name != b.name || !sameBlock(running, a, next, b, groups)) return false;
  }
  return true;
}

std::vector<ListenStep> planListeners(const ProxyConfig& running, const ProxyConfig& next,
                                      const std::vector<GroupStep>& groups) {
  std::vector<ListenStep> plan;
  const auto was_addrs = serversByAddress(running), now_addrs = serversByAddress(next);
  for (const auto& now : now_addrs) {
    const AddressServers* was = listeningOn(was_addrs, now.listen);
    ReloadStep step = ReloadStep::start;
    if (was != nullptr) {
      step = sameServers(running, *was, next, now, groups) ? ReloadStep::keep : ReloadStep::update;
    }
    plan.push_back({now.addr, next.servers[now.servers[now.default_pos]].name, step, now.listen});
  }
  for (const auto& was : was_addrs) {
    if (listeningOn(now_addrs, was.listen) == nullptr) {
      plan.push_back({was.addr, running.servers[was.servers[was.default_pos]].name,
                      ReloadStep::stop, was.listen});
    }
  }
  return plan;
}

std::optional<ReloadStep> planStatus(const std::optional<StatusSection>& was,
                                     const std::optional<StatusSection>& now) {
  if (!was && !now) return std::nullopt;
  if (!now) return ReloadStep::stop;
  if (!was) return ReloadStep::start;
  if (was->listen != now->listen) return ReloadStep::restart;
  return withoutLine(*was) == withoutLine(*now) ? ReloadStep::keep : ReloadStep::update;
}

}  // namespace

ReloadPlan planReload(const ProxyConfig& running, const ProxyConfig& next) {
  ReloadPlan plan;
  plan.groups = planGroups(running, next);
  plan.listeners = planListeners(running, next, plan.groups);
  plan.status = planStatus(running.status, next.status);
  plan.rlimit_changed = running.main.worker_rlimit_nofile != next.main.worker_rlimit_nofile;
  return plan;
}

}  // namespace proxyd
