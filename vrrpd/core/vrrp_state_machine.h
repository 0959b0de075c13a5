// The VRRP state machine of one instance (RFC 5798 6.4, with keepalived's
// behaviour where it differs), with no sockets, timers or netlink: inputs
// come in with the time they happened, actions come out for the instance to
// carry out. Field names follow the RFC (Master_Down_Interval, Skew_Time).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/ip_address.h"

namespace vrrpd {

enum class State { init, backup, master, fault };
const char* stateName(State s);  // "INIT", "BACKUP", "MASTER", "FAULT"

enum class TimerKind {
  advert,        // MASTER: time to send the next advert (Adver_Timer)
  master_down,   // BACKUP: the master is gone (Master_Down_Timer)
  garp_repeat,   // MASTER: the second GARP/NA burst after garp_master_delay
  garp_refresh,  // MASTER: garp_master_refresh
};
const char* timerName(TimerKind k);

// Actions, carried out in order by the instance.
struct SendAdvert {
  std::uint8_t priority;  // 0 when resigning (stop or FAULT)
};
struct AddVips {};
struct DelVips {};
struct SendGratuitous {};  // one burst of GARP / unsolicited NA for every VIP
struct ArmTimer {
  TimerKind kind;
  common::Duration after;
};
struct CancelTimer {
  TimerKind kind;
};
struct Transition {
  State from;
  State to;
  std::string cause;  // "master down timer, 3.61 s without advert"
};
using Action =
    std::variant<SendAdvert, AddVips, DelVips, SendGratuitous, ArmTimer, CancelTimer, Transition>;
using Actions = std::vector<Action>;

struct MachineConfig {
  int version = 2;              // 2 or 3
  std::uint8_t priority = 100;  // configured priority (255: address owner)
  common::Duration advert_interval = std::chrono::seconds(1);
  bool preempt = true;  // false: nopreempt
  common::Duration preempt_delay{0};
  bool initial_master = false;  // `state MASTER`
  common::IpAddress primary;    // our address, for the tie-break on equal priority
  common::Duration garp_master_delay = std::chrono::seconds(5);  // 0: no second burst
  common::Duration garp_master_refresh{0};                       // 0: off
};

// What the machine needs from a received advert (already through the
// filters of advert_filter.h).
struct AdvertIn {
  std::uint8_t priority;
  common::IpAddress src;      // the sender's primary address
  common::Duration interval;  // v3: Master_Adver_Interval to learn
};

class VrrpStateMachine {
 public:
  explicit VrrpStateMachine(MachineConfig cfg);

  Actions onStartup(common::TimePoint now);
  Actions onAdvert(const AdvertIn& in, common::TimePoint now);
  Actions onTimer(TimerKind kind, common::TimePoint now);
  // Track scripts and interfaces: a new effective priority, the configured
  // one plus the tracking weights, clamped here to 1..254 (ignored for an
  // owner) — sent in the next advert; peers re-elect from it.
  Actions onPriority(int effective, common::TimePoint now);
  // Entering or leaving FAULT (a failing weight-0 tracker, a down interface).
  Actions onFault(bool faulted, const std::string& cause, common::TimePoint now);
  // Someone deleted one of our VIPs while we are MASTER: keepalived goes
  // BACKUP and lets the election run again.
  Actions onVipsLost(common::TimePoint now);
  // Stop (TERM): a master sends priority 0 and removes its VIPs.
  Actions onShutdown(common::TimePoint now);

  State state() const { return state_; }
  std::uint8_t priority() const { return priority_; }
  const common::IpAddress& masterAddress() const { return master_; }
  common::Duration masterAdverInterval() const { return master_adver_interval_; }
  // RFC 5798 6.1: Skew_Time and Master_Down_Interval with the current
  // priority and Master_Adver_Interval (v2: (256 - priority) / 256 s).
  common::Duration skewTime() const;
  common::Duration masterDownInterval() const;

 private:
  MachineConfig cfg_;
  State state_ = State::init;
  std::uint8_t priority_;
  common::Duration master_adver_interval_;
  common::IpAddress master_;  // the current master's address (ours when MASTER)
  common::TimePoint last_advert_{};
  bool faulted_ = false;

  // Implementation state (vrrp_state_machine.cc).
  Actions becomeMaster(const std::string& cause);
  Actions becomeBackup(State from, common::Duration down, const std::string& cause,
                       common::TimePoint now);
  Actions leaveMaster(Actions out);
  void armMasterDown(Actions& out, common::Duration after, common::TimePoint now);
  std::string takeoverCause(common::TimePoint now) const;
  common::Duration skewFor(std::uint8_t priority) const;

  std::uint8_t master_priority_ = 0;    // priority in the master's last advert (even ignored)
  common::TimePoint master_down_at_{};  // when the Master_Down_Timer fires (BACKUP)
  // keepalived's preempt_time: set when a lower-priority master is first
  // seen with preempt_delay; its adverts are accepted until then.
  std::optional<common::TimePoint> preempt_time_;
  // Why the Master_Down_Timer is running, for the transition's cause.
  enum class DownReason { silence, initial, resigned, preempt } down_reason_ = DownReason::silence;
};

}  // namespace vrrpd
