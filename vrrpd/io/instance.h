// One [vrrp_instance] at run time: carries out what its state machine asks
// (send adverts, add and remove VIPs, announce them, arm timers, run notify
// scripts) through the seams it is given (STYLE.md): PacketIo, VipManager,
// TimerFactory, the clock and the host's links. What to decide is pure and
// elsewhere: tracking_policy.h, garp_burst.h, instance_notify.h.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/ip_address.h"
#include "common/log.h"
#include "common/timer.h"
#include "vrrpd/core/advert_filter.h"
#include "vrrpd/core/config.h"
#include "vrrpd/core/garp_burst.h"
#include "vrrpd/core/notify_queue.h"
#include "vrrpd/core/reload_plan.h"
#include "vrrpd/core/vrrp_packet.h"
#include "vrrpd/core/vrrp_state_machine.h"
#include "vrrpd/io/interface_info.h"
#include "vrrpd/io/link_monitor.h"
#include "vrrpd/io/packet_io.h"
#include "vrrpd/io/track_script.h"
#include "vrrpd/io/vip_manager.h"

namespace vrrpd {

class VrrpInstance;

struct InstanceCounters {
  std::uint64_t adverts_sent = 0;
  std::uint64_t adverts_received = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t became_master = 0;
  std::uint64_t priority_zero_received = 0;
  std::uint64_t priority_zero_sent = 0;
  std::array<std::uint64_t, static_cast<size_t>(DropReason::count_)> dropped{};
};

// What an instance needs from the daemon; owned by the daemon.
struct InstanceEnv {
  common::Log* log = nullptr;
  const common::Clock* clock = nullptr;  // monotonic: drives the machine
  common::TimerFactory* timers = nullptr;
  VipManager* vips = nullptr;
  const LinkTable* links = nullptr;
  // Queues a transition's notify scripts (the daemon's Notifier runs them
  // in order, per instance).
  std::function<void(const std::string& instance, NotifyEvent ev)> notify;
  std::function<void()> changed;  // state or counters changed: rewrite the state file
  // A transition happened (sync groups follow their members).
  std::function<void(VrrpInstance&, State from, State to)> transitioned;
  // This instance's own reason to be FAULT appeared or went away.
  std::function<void()> fault_changed;
  // Whether the debug line of a drop for this reason may be written (the
  // daemon's DropLogLimiter); unset: always.
  std::function<bool(DropReason)> log_drop;
};

// A `track_script` of an instance: the script and the weight it carries
// here (the instance's override, else the script's, `reverse` applied).
struct TrackedScript {
  const TrackScript* script = nullptr;
  int weight = 0;
};

class VrrpInstance {
 public:
  VrrpInstance(InstanceSection cfg, const InstanceGlobals& globals, InterfaceInfo ifc,
               std::unique_ptr<PacketIo> packets, InstanceEnv env);
  ~VrrpInstance();
  VrrpInstance(const VrrpInstance&) = delete;
  VrrpInstance& operator=(const VrrpInstance&) = delete;

  const std::string& name() const { return cfg_.name; }
  const InstanceSection& config() const { return cfg_; }
  const InstanceGlobals& globals() const { return global_; }
  int version() const { return version_; }
  int family() const { return family_; }
  const InterfaceInfo& interface() const { return ifc_; }
  std::uint8_t vrid() const { return static_cast<std::uint8_t>(cfg_.vrid); }

  // Removes stale copies of our VIPs (a killed predecessor may have left
  // them) and starts the machine.
  void start();
  // TERM: priority 0 if MASTER, VIPs removed.
  void stop();
  // HUP with this instance unchanged: a master sends an advert at once.
  void reloaded();

  // A decoded advert for our VRID arrived on our interface.
  void receive(const Advert& advert, const common::IpAddress& src, int ttl);
  void countDrop(DropReason r) { ++counters_.dropped[static_cast<size_t>(r)]; }
  // An address was deleted from an interface by someone else.
  void addressDeleted(const common::IpAddress& addr, int ifindex);

  // Tracking (keepalived's track_script / track_interface / sync group):
  // weight 0 and failing -> FAULT; otherwise weights move the effective
  // priority (tracking_policy.h; the machine clamps it).
  void trackScripts(std::vector<TrackedScript> scripts) { scripts_ = std::move(scripts); }
  void linkChanged(int ifindex, bool up);
  void setGroupFault(const std::string& cause);  // empty: cleared
  void reevaluate();
  // FAULT for a reason of this instance's own (not its sync group's).
  bool ownFault() const { return !own_fault_.empty(); }

  State state() const { return machine_.state(); }
  std::uint8_t priority() const { return machine_.priority(); }
  const InstanceCounters& counters() const { return counters_; }
  const common::IpAddress& masterAddress() const { return machine_.masterAddress(); }
  const common::IpAddress& sourceAddress() const { return src_; }
  const std::string& lastTransition() const { return last_transition_; }
  std::chrono::system_clock::time_point lastTransitionTime() const { return last_transition_at_; }

 private:
  void onTimer(TimerKind kind);
  void onAnnounceTimer();
  void announceNext();
  void apply(const Actions& actions);
  void sendAdvert(std::uint8_t priority);
  void addVips();
  void delVips();
  void announce();
  void transition(const Transition& t);
  int vipIfindex(const Vip& v) const;
  std::string currentFault();
  common::TimePoint now() const { return env_.clock->now(); }

  InstanceSection cfg_;
  InstanceGlobals global_;  // the only [global] values it reads (reload_plan.h)
  InterfaceInfo ifc_;
  std::unique_ptr<PacketIo> packets_;
  InstanceEnv env_;
  int version_;
  int family_;
  common::IpAddress src_;
  common::IpAddress dst_;  // multicast group (unused in unicast mode)
  Advert template_;        // our advert with everything but the priority
  AdvertExpectation expect_;
  CodecOptions codec_;
  VrrpStateMachine machine_;
  std::map<TimerKind, std::unique_ptr<common::Timer>> timers_;
  std::vector<TrackedScript> scripts_;
  std::map<int, bool> link_up_;  // ifindex -> up, for our interface and tracked ones
  std::string own_fault_;        // why this instance is FAULT of its own accord
  std::string group_fault_;      // why its sync group put it in FAULT
  std::string fault_cause_;      // the cause the machine was given
  int delta_ = 0;                // sum of the tracking weights that apply
  bool started_ = false;
  // GARPs/NAs of the running burst still to send.
  GarpBurst burst_;
  std::unique_ptr<common::Timer> announce_timer_;
  InstanceCounters counters_;
  std::string last_transition_ = "starting";
  std::chrono::system_clock::time_point last_transition_at_ = std::chrono::system_clock::now();
};

}  // namespace vrrpd
