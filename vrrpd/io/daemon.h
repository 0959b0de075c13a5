// The running vrrpd: one raw socket per interface and address family shared
// by that interface's instances (adverts are handed to the instance of their
// VRID), the netlink VIP monitor, the script runner, the state file, and the
// signals of DESIGN.md (TERM/INT stop, HUP reload, USR1 state file).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "common/log.h"
#include "common/result.h"
#include "vrrpd/core/config.h"
#include "vrrpd/core/drop_log_limiter.h"
#include "vrrpd/core/reload_plan.h"
#include "vrrpd/io/event_timer.h"
#include "vrrpd/io/instance.h"
#include "vrrpd/io/link_monitor.h"
#include "vrrpd/io/notifier.h"
#include "vrrpd/io/script_runner.h"
#include "vrrpd/io/track_script.h"
#include "vrrpd/io/vip_manager.h"
#include "vrrpd/io/vrrp_socket.h"

namespace vrrpd {

class Daemon {
 public:
  Daemon(VrrpConfig cfg, std::shared_ptr<common::Log> log);
  ~Daemon();

  common::Result<void> start();
  int run();  // until TERM/INT; returns the exit code

  std::string stateFilePath() const;

 private:
  struct Port {
    Daemon* daemon = nullptr;
    std::string ifname;
    int family = 0;
    InterfaceInfo ifc;
    std::unique_ptr<VrrpSocket> socket;
    common::EventPtr event;
    std::array<std::uint64_t, static_cast<size_t>(DropReason::count_)> dropped{};
  };

  common::Result<Port*> port(const std::string& ifname, int family, bool multicast);
  common::Result<std::unique_ptr<VrrpInstance>> makeInstance(const InstanceSection& sec);
  // `scripts`: the reload plan's track scripts (none at start).
  void startInstances(const std::vector<ScriptPlan>& scripts = {});
  // (Re)builds the track scripts the instances use, taking over those the
  // plan keeps, and hands each instance its scripts and weights.
  void wireTracking(const std::vector<ScriptPlan>& scripts);
  void syncGroups();
  void reload();
  void stopAll();
  void drainNotifies();
  void writeStateFile();
  void scheduleStateWrite();

  static void onReadable(evutil_socket_t, short, void* arg);
  static void onVipMonitor(evutil_socket_t, short, void* arg);
  static void onLinkMonitor(evutil_socket_t, short, void* arg);
  static void onSignal(evutil_socket_t sig, short, void* arg);
  static void onStateTimer(evutil_socket_t, short, void* arg);
  // -D: whether this drop's line is written (DropLogLimiter), and the
  // "N more suppressed" lines of the windows that are over.
  bool logDrop(DropReason reason);
  static void onDropLogTimer(evutil_socket_t, short, void* arg);
  void armDropLogTimer();  // at the end of the first window with suppressed lines

  VrrpConfig cfg_;
  std::shared_ptr<common::Log> log_;
  common::EventBasePtr base_;
  // The instances' seams (instance.h).
  common::MonotonicClock clock_;
  std::unique_ptr<EventTimerFactory> timers_;
  HostLinkTable link_table_;
  std::unique_ptr<NetlinkVipManager> vips_;
  std::unique_ptr<ScriptRunner> scripts_;
  std::unique_ptr<Notifier> notifier_;  // after scripts_: destroyed first
  std::map<std::pair<std::string, int>, std::unique_ptr<Port>> ports_;
  std::vector<std::unique_ptr<VrrpInstance>> instances_;
  std::map<std::string, std::unique_ptr<TrackScript>> track_scripts_;
  std::unique_ptr<LinkMonitor> links_;
  common::EventPtr link_event_;
  std::vector<common::EventPtr> signals_;
  common::EventPtr monitor_event_;
  common::EventPtr state_timer_;
  bool state_write_pending_ = false;
  std::uint64_t reloads_ = 0;
  // With -D: 5 lines a second per drop reason (README "Logging").
  DropLogLimiter drop_log_{5, std::chrono::seconds(1)};
  common::EventPtr drop_log_timer_;
};

}  // namespace vrrpd
