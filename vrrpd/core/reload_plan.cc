#include "vrrpd/core/reload_plan.h"

#include <algorithm>

#include <fmt/format.h>

namespace vrrpd {

namespace {

// The section as it runs: line numbers only say where it was written.
InstanceSection withoutLines(InstanceSection s) {
  s.line = 0;
  for (auto& v : s.vips) v.line = 0;
  for (auto& t : s.track_scripts) t.line = 0;
  for (auto& t : s.track_interfaces) t.line = 0;
  return s;
}

std::string globalsChange(const InstanceGlobals& a, const InstanceGlobals& b) {
  std::vector<std::string> what;
  if (a.version != b.version) what.push_back(fmt::format("version {} -> {}", a.version, b.version));
  if (a.v3_checksum_as_v2 != b.v3_checksum_as_v2) what.push_back("v3_checksum_as_v2");
  if (a.skip_check_adv_addr != b.skip_check_adv_addr) what.push_back("vrrp_skip_check_adv_addr");
  if (a.check_unicast_src != b.check_unicast_src) what.push_back("vrrp_check_unicast_src");
  if (a.announce_interval != b.announce_interval) what.push_back("vrrp_garp/gna_interval");
  return fmt::format("[global] changed: {}", fmt::join(what, ", "));
}

}  // namespace

InstanceGlobals globalsFor(const InstanceSection& sec, const GlobalSection& global) {
  InstanceGlobals g;
  g.version = sec.effectiveVersion(global.vrrp_version);
  bool v6 = !sec.vips.empty() && sec.vips.front().addr.isV6();
  // keepalived's v3_checksum_as_v2 only changes v3 over IPv4 (vrrp_packet.cc):
  // a v2 or IPv6 instance is not restarted for it.
  g.v3_checksum_as_v2 = g.version == 3 && !v6 && global.v3_checksum_as_v2;
  g.skip_check_adv_addr = global.skip_check_adv_addr;
  g.check_unicast_src = sec.unicast() && global.check_unicast_src;
  g.announce_interval = v6 ? global.gna_interval : global.garp_interval;
  return g;
}

namespace {

std::vector<InstancePlan> planInstances(const VrrpConfig& running, const VrrpConfig& next) {
  std::vector<InstancePlan> plan;
  for (const auto& sec : next.instances) {
    const InstanceSection* old = running.findInstance(sec.name);
    if (old == nullptr) {
      plan.push_back({sec.name, ReloadStep::start, "new"});
      continue;
    }
    InstanceGlobals was = globalsFor(*old, running.global), now = globalsFor(sec, next.global);
    if (withoutLines(*old) != withoutLines(sec)) {
      plan.push_back({sec.name, ReloadStep::restart, "its section changed"});
    } else if (was != now) {
      plan.push_back({sec.name, ReloadStep::restart, globalsChange(was, now)});
    } else {
      plan.push_back({sec.name, ReloadStep::keep, "unchanged"});
    }
  }
  for (const auto& sec : running.instances) {
    if (next.findInstance(sec.name) == nullptr) {
      plan.push_back({sec.name, ReloadStep::stop, "removed"});
    }
  }
  return plan;
}

// The scripts some instance of `cfg` tracks, in the order they are tracked.
std::vector<const ScriptSection*> trackedScripts(const VrrpConfig& cfg) {
  std::vector<const ScriptSection*> tracked;
  for (const auto& inst : cfg.instances) {
    for (const auto& ref : inst.track_scripts) {
      const ScriptSection* sec = cfg.findScript(ref.name);
      if (sec == nullptr) continue;  // the config check made this an error
      if (std::find(tracked.begin(), tracked.end(), sec) == tracked.end()) tracked.push_back(sec);
    }
  }
  return tracked;
}

// The script as it runs and is judged (kScriptSectionDecisions): the
// weight is the instances' business.
ScriptSection howItRuns(ScriptSection s) {
  s.line = 0;
  s.weight = 0;
  s.reverse = false;
  return s;
}

std::vector<ScriptPlan> planScripts(const VrrpConfig& running, const VrrpConfig& next) {
  std::vector<const ScriptSection*> was = trackedScripts(running);
  auto wasTracked = [&](const std::string& name) -> const ScriptSection* {
    for (const ScriptSection* s : was) {
      if (s->name == name) return s;
    }
    return nullptr;
  };
  const bool same_policy = ScriptPolicy::from(running.global) == ScriptPolicy::from(next.global);
  std::vector<ScriptPlan> plan;
  std::vector<const ScriptSection*> now = trackedScripts(next);
  for (const ScriptSection* sec : now) {
    const ScriptSection* old = wasTracked(sec->name);
    if (old == nullptr) {
      plan.push_back({sec->name, ReloadStep::start});
    } else if (!same_policy || howItRuns(*old) != howItRuns(*sec)) {
      plan.push_back({sec->name, ReloadStep::restart});
    } else if (old->weight != sec->weight || old->reverse != sec->reverse) {
      plan.push_back({sec->name, ReloadStep::update});
    } else {
      plan.push_back({sec->name, ReloadStep::keep});
    }
  }
  for (const ScriptSection* old : was) {
    bool gone = std::none_of(now.begin(), now.end(),
                             [&](const ScriptSection* s) { return s->name == old->name; });
    if (gone) plan.push_back({old->name, ReloadStep::stop});
  }
  return plan;
}

}  // namespace

ReloadPlan planReload(const VrrpConfig& running, const VrrpConfig& next) {
  return {planInstances(running, next), planScripts(running, next)};
}

}  // namespace vrrpd
