// keepalived's tracking, as a function of what is tracked: why an instance
// must be FAULT, if it must, and how far the tracking weights move its
// priority. A weight of 0 makes a failure a FAULT; a positive weight is
// added while the tracked thing is up (a script: succeeding), a negative one
// while it is down (vrrp_track.c). Pure: the instance gathers the states.
#pragma once

#include <string>
#include <vector>

namespace vrrpd {

struct TrackedLinkState {
  std::string name;
  int weight = 0;
  bool up = false;  // false too when there is no such interface
};

struct TrackedScriptState {
  std::string name;
  int weight = 0;  // the instance's override, else the script's, `reverse` applied
  bool ok = true;
  std::string last_failure;  // "exited with 1"; empty: it has not run yet (init_fail)
};

struct TrackingState {
  std::string interface;  // the instance's own
  bool ipv6 = false;      // the instance's family, for the "no address" cause
  bool has_source = true;
  bool interface_up = true;
  std::vector<TrackedLinkState> links;  // track_interface, in config order
  std::vector<TrackedScriptState> scripts;
  std::string group_fault;  // why the sync group faults it ("" if it does not)
};

struct TrackingVerdict {
  std::string own_fault;  // the first cause of the instance's own, "" if none
  std::string fault;      // own_fault, else the sync group's
  int delta = 0;          // sum of the weights that apply
};

TrackingVerdict judgeTracking(const TrackingState& s);

}  // namespace vrrpd
