// The VRRP state machine (RFC 5798 section 6.4), with keepalived's choices
// where the RFC leaves room or keepalived differs. No I/O here: every input
// returns the actions the instance carries out, in order.
#include "vrrpd/core/vrrp_state_machine.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace vrrpd {

namespace {

constexpr std::uint8_t kOwnerPriority = 255;  // RFC 5798 5.2.4: the address owner

double seconds(common::Duration d) {
  return std::chrono::duration<double>(d).count();
}

// Appends an action, constructing the variant in place: pushing a temporary
// variant that may hold a std::string trips GCC 12's -Wmaybe-uninitialized
// at -O2 (a false positive).
template <class T>
void add(Actions& out, T action) {
  out.emplace_back(std::in_place_type<T>, std::move(action));
}

}  // namespace

const char* stateName(State s) {
  switch (s) {
    case State::init:
      return "INIT";
    case State::backup:
      return "BACKUP";
    case State::master:
      return "MASTER";
    case State::fault:
      return "FAULT";
  }
  return "?";
}

const char* timerName(TimerKind k) {
  switch (k) {
    case TimerKind::advert:
      return "advert";
    case TimerKind::master_down:
      return "master_down";
    case TimerKind::garp_repeat:
      return "garp_repeat";
    case TimerKind::garp_refresh:
      return "garp_refresh";
  }
  return "?";
}

VrrpStateMachine::VrrpStateMachine(MachineConfig cfg)
    : cfg_(std::move(cfg)), priority_(cfg_.priority), master_adver_interval_(cfg_.advert_interval) {
  // keepalived (vrrp_complete_instance) resets options that cannot work,
  // with a warning that the config check prints; the machine repeats it so
  // that it never runs a combination keepalived would not:
  // - the address owner always preempts;
  // - `state MASTER` clears nopreempt and preempt_delay;
  // - preempt_delay means nothing with nopreempt.
  if (cfg_.priority == kOwnerPriority || cfg_.initial_master) cfg_.preempt = true;
  if (cfg_.initial_master || !cfg_.preempt) cfg_.preempt_delay = common::Duration::zero();
}

// RFC 5798 6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
// VRRPv2 (RFC 3768 6.1) has no Master_Adver_Interval in it: (256 - Priority) / 256 s.
common::Duration VrrpStateMachine::skewFor(std::uint8_t priority) const {
  common::Duration unit =
      cfg_.version == 3 ? master_adver_interval_ : common::Duration(std::chrono::seconds(1));
  return unit * (256 - priority) / 256;
}

common::Duration VrrpStateMachine::skewTime() const {
  return skewFor(priority_);
}

// RFC 5798 6.1: Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time.
common::Duration VrrpStateMachine::masterDownInterval() const {
  return 3 * master_adver_interval_ + skewTime();
}

void VrrpStateMachine::armMasterDown(Actions& out, common::Duration after, common::TimePoint now) {
  after = std::max(after, common::Duration::zero());
  master_down_at_ = now + after;
  add(out, ArmTimer{TimerKind::master_down, after});
}

Actions VrrpStateMachine::onStartup(common::TimePoint now) {
  if (state_ != State::init) return {};
  master_adver_interval_ = cfg_.advert_interval;
  master_ = {};
  master_priority_ = 0;
  if (faulted_) {
    // A tracker or the interface was already down (keepalived starts such
    // an instance in FAULT).
    state_ = State::fault;
    return {Transition{State::init, State::fault, "start with a fault"}};
  }
  // RFC 5798 6.4.1: the owner becomes MASTER at once.
  if (cfg_.priority == kOwnerPriority) return becomeMaster("priority 255 (address owner)");
  if (cfg_.initial_master) {
    // keepalived (vrrp_init_state): `state MASTER` on a non-owner starts as
    // BACKUP, but with a first down timer of one Master_Adver_Interval plus
    // the smallest skew (the one of priority 255), so it takes over after
    // about one advert interval unless a master speaks up first.
    common::Duration first = master_adver_interval_ + skewFor(kOwnerPriority);
    Actions out = becomeBackup(
        State::init, first,
        fmt::format("start, state MASTER: first down timer {:.2f} s", seconds(first)), now);
    down_reason_ = DownReason::initial;
    return out;
  }
  // RFC 5798 6.4.1: otherwise BACKUP, Master_Down_Timer = Master_Down_Interval.
  return becomeBackup(State::init, masterDownInterval(), "start", now);
}

Actions VrrpStateMachine::becomeMaster(const std::string& cause) {
  // RFC 5798 6.4.1 / 6.4.2 "transition to the Master state": send an
  // advert, announce the VIPs (gratuitous ARP / unsolicited NA), start the
  // Adver_Timer. keepalived adds the VIPs first (vrrp_state_become_master),
  // repeats the GARP burst after garp_master_delay and every
  // garp_master_refresh.
  State from = state_;
  state_ = State::master;
  master_ = cfg_.primary;
  master_priority_ = priority_;
  master_adver_interval_ = cfg_.advert_interval;
  preempt_time_.reset();
  Actions out;
  add(out, AddVips{});
  add(out, SendAdvert{priority_});
  add(out, SendGratuitous{});
  add(out, ArmTimer{TimerKind::advert, cfg_.advert_interval});
  if (cfg_.garp_master_delay > common::Duration::zero()) {
    add(out, ArmTimer{TimerKind::garp_repeat, cfg_.garp_master_delay});
  }
  if (cfg_.garp_master_refresh > common::Duration::zero()) {
    add(out, ArmTimer{TimerKind::garp_refresh, cfg_.garp_master_refresh});
  }
  add(out, Transition{from, State::master, cause});
  return out;
}

Actions VrrpStateMachine::becomeBackup(State from, common::Duration down, const std::string& cause,
                                       common::TimePoint now) {
  state_ = State::backup;
  // keepalived clears preempt_time whenever it enters BACKUP.
  preempt_time_.reset();
  down_reason_ = DownReason::silence;
  last_advert_ = now;
  Actions out;
  armMasterDown(out, down, now);
  add(out, Transition{from, State::backup, cause});
  return out;
}

// Leaving MASTER (to BACKUP, FAULT or INIT): drop the VIPs and the timers
// that only a master runs.
Actions VrrpStateMachine::leaveMaster(Actions out) {
  add(out, DelVips{});
  add(out, CancelTimer{TimerKind::advert});
  add(out, CancelTimer{TimerKind::garp_repeat});
  add(out, CancelTimer{TimerKind::garp_refresh});
  return out;
}

std::string VrrpStateMachine::takeoverCause(common::TimePoint now) const {
  switch (down_reason_) {
    case DownReason::preempt:
      if (cfg_.preempt_delay > common::Duration::zero()) {
        return fmt::format(
            "higher priority {} than master {} (preempt, after preempt_delay {:.2f} s)", priority_,
            master_priority_, seconds(cfg_.preempt_delay));
      }
      return fmt::format("higher priority {} than master {} (preempt)", priority_,
                         master_priority_);
    case DownReason::resigned:
      return fmt::format("master {} resigned (priority 0), Skew_Time {:.2f} s",
                         master_.empty() ? std::string("?") : master_.toString(),
                         seconds(skewTime()));
    case DownReason::initial:
      return fmt::format("state MASTER, no advert within {:.2f} s", seconds(now - last_advert_));
    case DownReason::silence:
      break;
  }
  return fmt::format("master down timer, {:.2f} s without advert", seconds(now - last_advert_));
}

Actions VrrpStateMachine::onAdvert(const AdvertIn& in, common::TimePoint now) {
  if (state_ == State::backup) {
    // RFC 5798 6.4.2, keepalived vrrp_state_backup.
    if (in.priority == 0) {
      // The master resigned: take over after Skew_Time only, so that the
      // highest-priority backup goes first.
      down_reason_ = DownReason::resigned;
      Actions out;
      armMasterDown(out, skewTime(), now);
      return out;
    }
    // keepalived's preempt_delay: the adverts of a lower-priority master are
    // still accepted until preempt_delay after the first of them; only then
    // are they ignored, so the Master_Down_Timer runs out and we take over.
    bool delaying =
        cfg_.preempt_delay > common::Duration::zero() && (!preempt_time_ || *preempt_time_ > now);
    if (!cfg_.preempt || in.priority >= priority_ || delaying) {
      // RFC 5798 6.4.2: VRRPv3 backups learn the master's advert interval.
      if (cfg_.version == 3 && in.interval > common::Duration::zero()) {
        master_adver_interval_ = in.interval;
      }
      master_ = in.src;
      master_priority_ = in.priority;
      last_advert_ = now;
      down_reason_ = DownReason::silence;
      if (cfg_.preempt_delay > common::Duration::zero()) {
        if (in.priority >= priority_) {
          preempt_time_.reset();  // keepalived: "stop preempt delay"
        } else if (!preempt_time_) {
          preempt_time_ = now + cfg_.preempt_delay;  // "start preempt delay"
        }
      }
      Actions out;
      armMasterDown(out, masterDownInterval(), now);
      return out;
    }
    // Lower priority and we preempt: discard it (the Master_Down_Timer
    // keeps running and fires, RFC 5798 6.4.2 "Otherwise discard").
    master_ = in.src;
    master_priority_ = in.priority;
    down_reason_ = DownReason::preempt;
    return {};
  }

  if (state_ == State::master) {
    // RFC 5798 6.4.3, keepalived vrrp_state_master_rx.
    if (in.priority == 0) {
      // A peer resigned (it may have thought it was master after a split
      // brain): answer at once so the backups keep us, and restart the
      // Adver_Timer.
      return {SendAdvert{priority_}, ArmTimer{TimerKind::advert, cfg_.advert_interval}};
    }
    if (in.priority == priority_ && in.src == cfg_.primary) {
      // Our own address at our priority: a looped-back packet or a
      // duplicate address; keepalived warns and ignores it.
      return {};
    }
    bool higher = in.priority > priority_ || (in.priority == priority_ && in.src > cfg_.primary);
    if (higher) {
      Actions out = leaveMaster({});
      if (cfg_.version == 3 && in.interval > common::Duration::zero()) {
        master_adver_interval_ = in.interval;
      }
      std::string cause = in.priority > priority_
                              ? fmt::format("higher priority {} advert from {} (ours {})",
                                            in.priority, in.src.toString(), priority_)
                              : fmt::format("equal priority {} advert from higher address {}",
                                            in.priority, in.src.toString());
      common::Duration mdi = masterDownInterval();
      State from = state_;
      Actions rest = becomeBackup(from, mdi, cause, now);
      // becomeBackup() resets the silence clock; the master is the sender.
      master_ = in.src;
      master_priority_ = in.priority;
      out.insert(out.end(), rest.begin(), rest.end());
      return out;
    }
    // A lower-priority advert (a node that thinks it is master, e.g. after
    // a partition healed): keepalived answers at once with an advert so it
    // steps down now rather than after its next advert, and refreshes the
    // neighbours' ARP caches with a GARP burst, repeated after
    // garp_lower_prio_delay (default: garp_master_delay).
    Actions out{SendAdvert{priority_}, SendGratuitous{}};
    if (cfg_.garp_master_delay > common::Duration::zero()) {
      add(out, ArmTimer{TimerKind::garp_repeat, cfg_.garp_master_delay});
    }
    return out;
  }
  // INIT, FAULT: adverts mean nothing (keepalived ignores them in FAULT).
  return {};
}

Actions VrrpStateMachine::onTimer(TimerKind kind, common::TimePoint now) {
  // A timer that fires in a state where it means nothing is stale: ignore it.
  switch (kind) {
    case TimerKind::advert:
      // RFC 5798 6.4.3: send an advert, restart the Adver_Timer.
      if (state_ != State::master) return {};
      return {SendAdvert{priority_}, ArmTimer{TimerKind::advert, cfg_.advert_interval}};
    case TimerKind::master_down:
      // RFC 5798 6.4.2: Master_Down_Timer fired: become master.
      if (state_ != State::backup) return {};
      return becomeMaster(takeoverCause(now));
    case TimerKind::garp_repeat:
      if (state_ != State::master) return {};
      return {SendGratuitous{}};
    case TimerKind::garp_refresh:
      if (state_ != State::master || cfg_.garp_master_refresh <= common::Duration::zero())
        return {};
      return {SendGratuitous{}, ArmTimer{TimerKind::garp_refresh, cfg_.garp_master_refresh}};
  }
  return {};
}

Actions VrrpStateMachine::onPriority(int effective, common::TimePoint now) {
  // keepalived vrrp_set_effective_priority: the owner never changes; others
  // are clamped to 1..254.
  if (cfg_.priority == kOwnerPriority) return {};
  const auto clamped = static_cast<std::uint8_t>(std::clamp(effective, 1, kOwnerPriority - 1));
  if (clamped == priority_) return {};
  common::Duration old_down = masterDownInterval();
  bool increasing = clamped > priority_;
  priority_ = clamped;
  // A MASTER carries the new priority in its next advert (keepalived sends
  // nothing extra); peers re-elect from it. A BACKUP whose priority rises
  // has a shorter Skew_Time: keepalived moves the running down timer earlier
  // by the difference (vrrp_thread_requeue_read_relative).
  if (state_ == State::backup && increasing) {
    common::Duration shorter = old_down - masterDownInterval();
    Actions out;
    armMasterDown(out, (master_down_at_ - shorter) - now, now);
    return out;
  }
  return {};
}

Actions VrrpStateMachine::onFault(bool faulted, const std::string& cause, common::TimePoint now) {
  if (faulted) {
    if (faulted_) return {};
    faulted_ = true;
    Actions out;
    switch (state_) {
      case State::init:
        return {};  // onStartup() goes to FAULT
      case State::fault:
        return {};
      case State::master:
        // keepalived: a master entering FAULT sends priority 0 first so the
        // backups take over after Skew_Time (RFC 5798 6.4.3 Shutdown).
        add(out, SendAdvert{0});
        out = leaveMaster(std::move(out));
        break;
      case State::backup:
        add(out, CancelTimer{TimerKind::master_down});
        break;
    }
    add(out, Transition{state_, State::fault, cause});
    state_ = State::fault;
    master_ = {};
    preempt_time_.reset();
    return out;
  }
  if (!faulted_) return {};
  faulted_ = false;
  if (state_ != State::fault) return {};
  // keepalived vrrp_state_leave_fault: back to BACKUP with a full
  // Master_Down_Interval (the owner goes straight to MASTER).
  master_adver_interval_ = cfg_.advert_interval;
  if (cfg_.priority == kOwnerPriority) {
    return becomeMaster(fmt::format("{}; priority 255 (address owner)", cause));
  }
  return becomeBackup(State::fault, masterDownInterval(), cause, now);
}

Actions VrrpStateMachine::onVipsLost(common::TimePoint now) {
  // keepalived: a VIP deleted behind our back while MASTER sends the
  // instance to BACKUP; the election then runs again (no priority 0).
  if (state_ != State::master) return {};
  Actions out = leaveMaster({});
  master_ = {};
  Actions rest = becomeBackup(State::master, masterDownInterval(),
                              "a virtual IP was deleted by someone else", now);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

Actions VrrpStateMachine::onShutdown(common::TimePoint /*now*/) {
  Actions out;
  switch (state_) {
    case State::init:
      return {};
    case State::master:
      // RFC 5798 6.4.3 Shutdown: send priority 0, then release the VIPs.
      add(out, SendAdvert{0});
      out = leaveMaster(std::move(out));
      break;
    case State::backup:
      add(out, CancelTimer{TimerKind::master_down});
      break;
    case State::fault:
      break;
  }
  add(out, Transition{state_, State::init, "stopping"});
  state_ = State::init;
  master_ = {};
  preempt_time_.reset();
  return out;
}

}  // namespace vrrpd
