#include "vrrpd/io/instance.h"

#include <fmt/format.h>

#include "vrrpd/core/instance_notify.h"
#include "vrrpd/core/instance_setup.h"
#include "vrrpd/core/tracking_policy.h"

namespace vrrpd {

VrrpInstance::VrrpInstance(InstanceSection cfg, const InstanceGlobals& global, InterfaceInfo ifc,
                           std::unique_ptr<PacketIo> packets, InstanceEnv env)
    : cfg_(std::move(cfg)),
      global_(global),
      ifc_(std::move(ifc)),
      packets_(std::move(packets)),
      env_(std::move(env)),
      version_(global.version),
      family_(cfg_.vips.empty() ? AF_INET : cfg_.vips.front().addr.family()),
      src_(pickSourceAddress(cfg_, family_, ifc_.primary_v4, ifc_.link_local_v6)),
      dst_(family_ == AF_INET ? vrrpMulticastV4() : vrrpMulticastV6()),
      template_(advertTemplate(cfg_, version_)),
      expect_(advertExpectation(cfg_, global_, template_, src_)),
      machine_(machineConfig(cfg_, version_, src_)),
      burst_(global.announce_interval) {
  codec_.v3_checksum_as_v2 = global_.v3_checksum_as_v2;
  for (TimerKind k : {TimerKind::advert, TimerKind::master_down, TimerKind::garp_repeat,
                      TimerKind::garp_refresh}) {
    timers_.emplace(k, env_.timers->timer([this, k] { onTimer(k); }));
  }
  announce_timer_ = env_.timers->timer([this] { onAnnounceTimer(); });
}

VrrpInstance::~VrrpInstance() = default;

int VrrpInstance::vipIfindex(const Vip& v) const {
  if (v.dev.empty() || v.dev == ifc_.name) return ifc_.index;
  return env_.links->index(v.dev);
}

void VrrpInstance::start() {
  // A killed predecessor may have left our VIPs behind: remove them so
  // that only a MASTER holds them (DESIGN.md).
  for (const Vip& v : cfg_.vips) {
    int idx = vipIfindex(v);
    if (idx > 0 && env_.vips->present(v, idx)) {
      env_.log->notice("{}: removing stale VIP {}", name(), v.toString());
      if (auto r = env_.vips->remove(v, idx); !r) env_.log->error("{}: {}", name(), r.error());
    }
  }
  link_up_[ifc_.index] = ifc_.up;
  for (const auto& t : cfg_.track_interfaces) {
    int idx = env_.links->index(t.name);
    if (idx > 0) link_up_[idx] = env_.links->up(idx);
  }
  // A fault known before the start (a failing init_fail script, a down
  // link) starts the instance in FAULT rather than flapping through
  // BACKUP or MASTER.
  started_ = true;
  std::string fault = currentFault();
  if (!fault.empty()) {
    fault_cause_ = fault;
    apply(machine_.onFault(true, fault, now()));
  }
  apply(machine_.onStartup(now()));
  reevaluate();
}

void VrrpInstance::linkChanged(int ifindex, bool up) {
  auto it = link_up_.find(ifindex);
  if (it == link_up_.end() || it->second == up) return;
  it->second = up;
  reevaluate();
}

void VrrpInstance::setGroupFault(const std::string& cause) {
  if (group_fault_ == cause) return;
  group_fault_ = cause;
  reevaluate();
}

// Why the instance must be in FAULT now ("" if it need not be), and the
// sum of the weights that apply (delta_).
std::string VrrpInstance::currentFault() {
  TrackingState st;
  st.interface = ifc_.name;
  st.ipv6 = family_ == AF_INET6;
  st.has_source = !src_.empty();
  st.interface_up = link_up_[ifc_.index];
  for (const auto& t : cfg_.track_interfaces) {
    int idx = env_.links->index(t.name);
    auto it = idx > 0 ? link_up_.find(idx) : link_up_.end();
    st.links.push_back({t.name, t.weight, it != link_up_.end() && it->second});
  }
  for (const auto& ts : scripts_) {
    st.scripts.push_back({ts.script->name(), ts.weight, ts.script->ok(), ts.script->lastFailure()});
  }
  st.group_fault = group_fault_;
  TrackingVerdict v = judgeTracking(st);
  delta_ = v.delta;
  bool own_changed = own_fault_.empty() != v.own_fault.empty();
  own_fault_ = v.own_fault;
  if (own_changed && env_.fault_changed) env_.fault_changed();
  return v.fault;
}

// Recomputes FAULT and the effective priority from everything tracked.
void VrrpInstance::reevaluate() {
  if (!started_ || machine_.state() == State::init) return;  // not started, or stopped
  std::string fault = currentFault();
  int delta = delta_;
  common::TimePoint at = now();
  if (!fault.empty() && machine_.state() != State::fault) {
    fault_cause_ = fault;
    apply(machine_.onFault(true, fault, at));
  } else if (fault.empty() && machine_.state() == State::fault) {
    apply(machine_.onFault(false, fmt::format("fault cleared (was: {})", fault_cause_), at));
    fault_cause_.clear();
  }
  // The machine clamps (an owner's 255 never moves): it says whether the
  // priority changed.
  const std::uint8_t before = machine_.priority();
  Actions actions = machine_.onPriority(cfg_.priority + delta, at);
  if (machine_.priority() != before) {
    env_.log->notice("{}: effective priority {} -> {}", name(), before, machine_.priority());
    apply(actions);
    if (env_.changed) env_.changed();
  }
}

void VrrpInstance::stop() {
  apply(machine_.onShutdown(now()));
  // Whatever the state, none of our VIPs outlives us.
  delVips();
  for (auto& [kind, timer] : timers_) timer->cancel();
}

void VrrpInstance::reloaded() {
  if (machine_.state() == State::master) sendAdvert(machine_.priority());
}

void VrrpInstance::receive(const Advert& advert, const common::IpAddress& src, int ttl) {
  if (machine_.state() == State::master || machine_.state() == State::backup) {
    expect_.known_master = machine_.masterAddress();
  }
  if (auto drop =
          filterAdvert(advert, src, static_cast<std::uint8_t>(ttl < 0 ? 0 : ttl), expect_)) {
    countDrop(drop->reason);
    if (env_.log->enabled(common::LogLevel::debug) &&
        (!env_.log_drop || env_.log_drop(drop->reason))) {
      env_.log->debug("{}: dropped advert from {}: {} ({})", name(), src.toString(),
                      dropReasonName(drop->reason), drop->detail);
    }
    return;
  }
  ++counters_.adverts_received;
  if (advert.priority == 0) ++counters_.priority_zero_received;
  AdvertIn in{advert.priority, src, std::chrono::milliseconds(advert.interval_cs * 10)};
  apply(machine_.onAdvert(in, now()));
}

void VrrpInstance::addressDeleted(const common::IpAddress& addr, int ifindex) {
  if (machine_.state() != State::master) return;
  for (const Vip& v : cfg_.vips) {
    if (v.addr == addr && vipIfindex(v) == ifindex) {
      env_.log->warn("{}: VIP {} was deleted from {} by someone else", name(), v.toString(),
                     ifc_.name);
      apply(machine_.onVipsLost(now()));
      return;
    }
  }
}

void VrrpInstance::onTimer(TimerKind kind) {
  apply(machine_.onTimer(kind, now()));
}

void VrrpInstance::apply(const Actions& actions) {
  for (const Action& action : actions) {
    std::visit(
        [&](const auto& a) {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, SendAdvert>) {
            sendAdvert(a.priority);
          } else if constexpr (std::is_same_v<T, AddVips>) {
            addVips();
          } else if constexpr (std::is_same_v<T, DelVips>) {
            delVips();
          } else if constexpr (std::is_same_v<T, SendGratuitous>) {
            announce();
          } else if constexpr (std::is_same_v<T, ArmTimer>) {
            timers_.at(a.kind)->arm(a.after);
          } else if constexpr (std::is_same_v<T, CancelTimer>) {
            timers_.at(a.kind)->cancel();
          } else if constexpr (std::is_same_v<T, Transition>) {
            transition(a);
          }
        },
        action);
  }
}

void VrrpInstance::sendAdvert(std::uint8_t priority) {
  if (src_.empty()) return;
  Advert a = template_;
  a.priority = priority;
  auto send_to = [&](const common::IpAddress& dst) {
    auto bytes = encodeAdvert(a, src_, dst, codec_);
    if (auto r = packets_->sendAdvert(bytes, src_, dst); !r) {
      ++counters_.send_errors;
      env_.log->error("{}: sending advert to {} failed: {}", name(), dst.toString(), r.error());
      return;
    }
    ++counters_.adverts_sent;
    if (priority == 0) ++counters_.priority_zero_sent;
  };
  if (cfg_.unicast()) {
    // Unicast: one copy per peer, each checksummed with its own
    // destination (keepalived's v3 pseudo-header).
    for (const auto& peer : cfg_.unicast_peers) send_to(peer);
  } else {
    send_to(dst_);
  }
}

void VrrpInstance::addVips() {
  for (const Vip& v : cfg_.vips) {
    int idx = vipIfindex(v);
    if (idx <= 0) {
      env_.log->error("{}: cannot add VIP {}: no interface \"{}\"", name(), v.toString(), v.dev);
      continue;
    }
    if (auto r = env_.vips->add(v, idx); !r) {
      env_.log->error("{}: cannot add VIP {}: {}", name(), v.toString(), r.error());
    }
  }
}

void VrrpInstance::delVips() {
  for (const Vip& v : cfg_.vips) {
    int idx = vipIfindex(v);
    if (idx <= 0) continue;
    if (auto r = env_.vips->remove(v, idx); !r) {
      env_.log->error("{}: cannot remove VIP {}: {}", name(), v.toString(), r.error());
    }
  }
}

void VrrpInstance::announce() {
  if (!packets_->canAnnounce()) return;
  std::vector<common::IpAddress> vips;
  for (const Vip& v : cfg_.vips) vips.push_back(v.addr);
  burst_.start(vips, cfg_.garp_master_repeat);
  announceNext();
}

void VrrpInstance::announceNext() {
  GarpBurst::Step step = burst_.next();
  for (const auto& vip : step.send) {
    if (auto r = packets_->announce(vip); !r) {
      env_.log->error("{}: announcing {} failed: {}", name(), vip.toString(), r.error());
    }
  }
  if (step.wait) announce_timer_->arm(*step.wait);
}

void VrrpInstance::onAnnounceTimer() {
  // A burst belongs to a MASTER: one that has stepped down stops announcing.
  if (machine_.state() != State::master) {
    burst_.clear();
    return;
  }
  announceNext();
}

void VrrpInstance::transition(const Transition& t) {
  if (t.to == State::master) ++counters_.became_master;
  last_transition_ = fmt::format("{} -> {} ({})", stateName(t.from), stateName(t.to), t.cause);
  last_transition_at_ = std::chrono::system_clock::now();
  env_.log->notice("{}: {}", name(), last_transition_);
  if (env_.notify) env_.notify(name(), transitionNotify(cfg_, t.to, machine_.priority()));
  if (env_.changed) env_.changed();
  if (env_.transitioned) env_.transitioned(*this, t.from, t.to);
}

}  // namespace vrrpd
