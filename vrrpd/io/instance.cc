#include "vrrpd/io/instance.h"

#include "vrrpd/io/link_monitor.h"

#include <net/if.h>

#include <algorithm>

#include <fmt/format.h>

namespace vrrpd {

namespace {

common::TimePoint monoNow() {
  return std::chrono::steady_clock::now();
}

const char* notifyStateName(State s) {
  switch (s) {
    case State::master:
      return "MASTER";
    case State::backup:
      return "BACKUP";
    case State::fault:
      return "FAULT";
    case State::init:
      return "STOP";
  }
  return "UNKNOWN";
}

}  // namespace

VrrpInstance::VrrpInstance(InstanceSection cfg, const InstanceGlobals& global, InterfaceInfo ifc,
                           VrrpSocket& socket, std::unique_ptr<Announcer> announcer,
                           InstanceEnv env)
    : cfg_(std::move(cfg)),
      global_(global),
      ifc_(std::move(ifc)),
      socket_(socket),
      announcer_(std::move(announcer)),
      env_(std::move(env)),
      version_(global.version),
      family_(cfg_.vips.empty() ? AF_INET : cfg_.vips.front().addr.family()),
      machine_(MachineConfig{}) {
  // The source address: configured, else the interface's primary address
  // (IPv4) or link-local address (IPv6), as keepalived picks it.
  if (cfg_.unicast_src_ip) {
    src_ = *cfg_.unicast_src_ip;
  } else if (cfg_.mcast_src_ip) {
    src_ = *cfg_.mcast_src_ip;
  } else if (family_ == AF_INET && ifc_.primary_v4) {
    src_ = *ifc_.primary_v4;
  } else if (family_ == AF_INET6 && ifc_.link_local_v6) {
    src_ = *ifc_.link_local_v6;
  }
  dst_ = family_ == AF_INET ? vrrpMulticastV4() : vrrpMulticastV6();
  codec_.v3_checksum_as_v2 = global_.v3_checksum_as_v2;

  template_.version = version_;
  template_.vrid = static_cast<std::uint8_t>(cfg_.vrid);
  template_.interval_cs = static_cast<std::uint16_t>(cfg_.advert_interval.count() / 10);
  if (version_ == 2) {
    template_.auth_type = cfg_.auth_type;
    if (cfg_.auth_type == AuthType::pass) template_.auth_data = passwordBytes(cfg_.auth_pass);
  }
  for (const Vip& v : cfg_.vips) template_.addrs.push_back(v.addr);

  expect_.version = version_;
  expect_.vrid = template_.vrid;
  expect_.unicast = cfg_.unicast();
  expect_.auth_type = template_.auth_type;
  expect_.auth_data = template_.auth_data;
  expect_.interval_cs = template_.interval_cs;
  expect_.addrs = template_.addrs;
  expect_.skip_check_adv_addr = global_.skip_check_adv_addr;
  if (!src_.empty()) expect_.own_addresses.push_back(src_);
  if (global_.check_unicast_src) expect_.unicast_peers = cfg_.unicast_peers;

  MachineConfig mc;
  mc.version = version_;
  mc.priority = static_cast<std::uint8_t>(cfg_.priority);
  mc.advert_interval = cfg_.advert_interval;
  mc.preempt = cfg_.preempt;
  mc.preempt_delay = cfg_.preempt_delay;
  mc.initial_master = cfg_.initial_master;
  mc.primary = src_;
  mc.garp_master_delay = cfg_.garp_master_delay;
  mc.garp_master_refresh = cfg_.garp_master_refresh;
  machine_ = VrrpStateMachine(mc);

  for (TimerKind k : {TimerKind::advert, TimerKind::master_down, TimerKind::preempt_delay,
                      TimerKind::garp_repeat, TimerKind::garp_refresh}) {
    auto slot = std::make_unique<TimerSlot>();
    slot->self = this;
    slot->kind = k;
    slot->event.reset(evtimer_new(env_.base, onTimer, slot.get()));
    timers_.emplace(k, std::move(slot));
  }
}

VrrpInstance::~VrrpInstance() {
  timers_.clear();
}

int VrrpInstance::vipIfindex(const Vip& v) const {
  if (v.dev.empty() || v.dev == ifc_.name) return ifc_.index;
  return static_cast<int>(::if_nametoindex(v.dev.c_str()));
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
    int idx = static_cast<int>(::if_nametoindex(t.name.c_str()));
    if (idx > 0) link_up_[idx] = linkIsUp(idx);
  }
  // A fault known before the start (a failing init_fail script, a down
  // link) starts the instance in FAULT rather than flapping through
  // BACKUP or MASTER.
  started_ = true;
  std::string fault = currentFault();
  if (!fault.empty()) {
    fault_cause_ = fault;
    apply(machine_.onFault(true, fault, monoNow()));
  }
  apply(machine_.onStartup(monoNow()));
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
  std::string fault;
  int delta = 0;
  if (src_.empty()) {
    fault = fmt::format("no {} address on {} to send from",
                        family_ == AF_INET ? "IPv4" : "IPv6 link-local", ifc_.name);
  } else if (!link_up_[ifc_.index]) {
    fault = fmt::format("interface {} is down", ifc_.name);
  }
  for (const auto& t : cfg_.track_interfaces) {
    int idx = static_cast<int>(::if_nametoindex(t.name.c_str()));
    bool up = idx > 0 && link_up_.count(idx) && link_up_[idx];
    if (t.weight == 0) {
      if (!up && fault.empty()) fault = fmt::format("tracked interface {} is down", t.name);
    } else if (t.weight > 0 ? up : !up) {
      delta += t.weight;
    }
  }
  for (const auto& ts : scripts_) {
    bool ok = ts.script->ok();
    if (ts.weight == 0) {
      if (!ok && fault.empty()) {
        fault =
            fmt::format("track script {} failed ({})", ts.script->name(),
                        ts.script->lastFailure().empty() ? "init_fail" : ts.script->lastFailure());
      }
    } else if (ts.weight > 0 ? ok : !ok) {
      delta += ts.weight;
    }
  }
  delta_ = delta;
  bool own_changed = own_fault_.empty() != fault.empty();
  own_fault_ = fault;
  if (own_changed && env_.fault_changed) env_.fault_changed();
  return fault.empty() ? group_fault_ : fault;
}

// Recomputes FAULT and the effective priority from everything tracked.
void VrrpInstance::reevaluate() {
  if (!started_ || machine_.state() == State::init) return;  // not started, or stopped
  std::string fault = currentFault();
  int delta = delta_;
  common::TimePoint now = monoNow();
  if (!fault.empty() && machine_.state() != State::fault) {
    fault_cause_ = fault;
    apply(machine_.onFault(true, fault, now));
  } else if (fault.empty() && machine_.state() == State::fault) {
    apply(machine_.onFault(false, fmt::format("fault cleared (was: {})", fault_cause_), now));
    fault_cause_.clear();
  }
  int base = cfg_.priority;
  int prio = base == 255 ? 255 : std::clamp(base + delta, 1, 254);
  if (prio != machine_.priority()) {
    env_.log->notice("{}: effective priority {} -> {}", name(), machine_.priority(), prio);
    apply(machine_.onPriority(static_cast<std::uint8_t>(prio), now));
    if (env_.changed) env_.changed();
  }
}

void VrrpInstance::stop() {
  apply(machine_.onShutdown(monoNow()));
  // Whatever the state, none of our VIPs outlives us.
  delVips();
  for (auto& [kind, slot] : timers_) evtimer_del(slot->event.get());
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
  apply(machine_.onAdvert(in, monoNow()));
}

void VrrpInstance::addressDeleted(const common::IpAddress& addr, int ifindex) {
  if (machine_.state() != State::master) return;
  for (const Vip& v : cfg_.vips) {
    if (v.addr == addr && vipIfindex(v) == ifindex) {
      env_.log->warn("{}: VIP {} was deleted from {} by someone else", name(), v.toString(),
                     ifc_.name);
      apply(machine_.onVipsLost(monoNow()));
      return;
    }
  }
}

void VrrpInstance::onTimer(evutil_socket_t, short, void* arg) {
  auto* slot = static_cast<TimerSlot*>(arg);
  slot->self->apply(slot->self->machine_.onTimer(slot->kind, monoNow()));
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
            timeval tv =
                common::toTimeval(std::chrono::duration_cast<std::chrono::microseconds>(a.after));
            evtimer_add(timers_.at(a.kind)->event.get(), &tv);
          } else if constexpr (std::is_same_v<T, CancelTimer>) {
            evtimer_del(timers_.at(a.kind)->event.get());
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
    if (auto r = socket_.send(bytes, src_, dst); !r) {
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
  if (!announcer_) return;
  // A new burst replaces what is left of the previous one.
  announcements_.clear();
  for (int i = 0; i < cfg_.garp_master_repeat; ++i) {
    for (const Vip& v : cfg_.vips) announcements_.push_back(v.addr);
  }
  announceNext();
}

// Sends the next announcement; with vrrp_garp_interval (IPv4) or
// vrrp_gna_interval (IPv6) at 0, keepalived's default, the whole burst goes
// at once, else one per interval.
void VrrpInstance::announceNext() {
  auto gap = global_.announce_interval;
  while (!announcements_.empty()) {
    common::IpAddress vip = announcements_.front();
    announcements_.pop_front();
    if (auto r = announcer_->announce(vip); !r) {
      env_.log->error("{}: announcing {} failed: {}", name(), vip.toString(), r.error());
    }
    if (gap.count() > 0 && !announcements_.empty()) {
      if (!announce_timer_) announce_timer_.reset(evtimer_new(env_.base, onAnnounceTimer, this));
      timeval tv = common::toTimeval(std::chrono::duration_cast<std::chrono::microseconds>(gap));
      evtimer_add(announce_timer_.get(), &tv);
      return;
    }
  }
}

void VrrpInstance::onAnnounceTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<VrrpInstance*>(arg);
  // A burst belongs to a MASTER: one that has stepped down stops announcing.
  if (self->machine_.state() != State::master) {
    self->announcements_.clear();
    return;
  }
  self->announceNext();
}

void VrrpInstance::transition(const Transition& t) {
  if (t.to == State::master) ++counters_.became_master;
  last_transition_ = fmt::format("{} -> {} ({})", stateName(t.from), stateName(t.to), t.cause);
  last_transition_at_ = std::chrono::system_clock::now();
  env_.log->notice("{}: {}", name(), last_transition_);
  runNotify(t.to);
  if (env_.changed) env_.changed();
  if (env_.transitioned) env_.transitioned(*this, t.from, t.to);
}

void VrrpInstance::runNotify(State to) {
  const std::string* specific = nullptr;
  const ScriptRunAs* as = nullptr;
  const char* key = "";
  switch (to) {
    case State::master:
      specific = &cfg_.notify_master, as = &cfg_.notify_master_as, key = "notify_master";
      break;
    case State::backup:
      specific = &cfg_.notify_backup, as = &cfg_.notify_backup_as, key = "notify_backup";
      break;
    case State::fault:
      specific = &cfg_.notify_fault, as = &cfg_.notify_fault_as, key = "notify_fault";
      break;
    case State::init:
      specific = &cfg_.notify_stop, as = &cfg_.notify_stop_as, key = "notify_stop";
      break;
  }
  NotifyEvent ev;
  ev.state = notifyStateName(to);
  std::string priority = std::to_string(machine_.priority());
  // Beyond PATH and LANG, a notify script learns what happened from its
  // environment too (keepalived passes nothing but the generic notify's
  // arguments).
  std::vector<std::pair<std::string, std::string>> env{
      {"VRRPD_INSTANCE", name()}, {"VRRPD_STATE", ev.state}, {"VRRPD_PRIORITY", priority}};
  if (specific && !specific->empty()) {
    ev.calls.push_back({key, *specific, {}, as->user, as->group, env});
  }
  if (!cfg_.notify.empty()) {
    // keepalived's generic notify, after the specific one: TYPE NAME STATE
    // PRIORITY.
    ev.calls.push_back({"notify",
                        cfg_.notify,
                        {"INSTANCE", name(), ev.state, priority},
                        cfg_.notify_as.user,
                        cfg_.notify_as.group,
                        env});
  }
  if (env_.notify) env_.notify(name(), std::move(ev));
}

}  // namespace vrrpd
