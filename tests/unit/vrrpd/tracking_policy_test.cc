// keepalived's tracking as a function: weights and FAULT causes
// (vrrp_track.c: weight 0 faults, a positive weight counts while up, a
// negative one while down).
#include "vrrpd/core/tracking_policy.h"

#include <catch2/catch.hpp>

using vrrpd::judgeTracking;
using vrrpd::TrackingState;

namespace {

TrackingState healthy() {
  TrackingState s;
  s.interface = "eth0";
  return s;
}

}  // namespace

TEST_CASE("tracking: nothing tracked, nothing wrong", "[tracking_policy]") {
  auto v = judgeTracking(healthy());
  CHECK(v.own_fault.empty());
  CHECK(v.fault.empty());
  CHECK(v.delta == 0);
}

TEST_CASE("tracking: the instance's own causes come first", "[tracking_policy]") {
  TrackingState s = healthy();
  s.links.push_back({"eth1", 0, false});
  s.interface_up = false;
  CHECK(judgeTracking(s).own_fault == "interface eth0 is down");
  s.has_source = false;
  CHECK(judgeTracking(s).own_fault == "no IPv4 address on eth0 to send from");
  s.ipv6 = true;
  CHECK(judgeTracking(s).own_fault == "no IPv6 link-local address on eth0 to send from");
}

TEST_CASE("tracking: weight 0 faults, the first failing tracker is the cause",
          "[tracking_policy]") {
  TrackingState s = healthy();
  s.links.push_back({"eth1", 0, true});
  s.scripts.push_back({"chk_a", 0, false, "exited with 1"});
  s.scripts.push_back({"chk_b", 0, false, ""});
  CHECK(judgeTracking(s).own_fault == "track script chk_a failed (exited with 1)");
  s.scripts[0].ok = true;
  // A script that has not run yet fails by its init_fail.
  CHECK(judgeTracking(s).own_fault == "track script chk_b failed (init_fail)");
  s.links[0].up = false;
  CHECK(judgeTracking(s).own_fault == "tracked interface eth1 is down");
}

TEST_CASE("tracking: positive weights count while up, negative ones while down",
          "[tracking_policy]") {
  TrackingState s = healthy();
  s.links.push_back({"eth1", 10, true});
  s.links.push_back({"eth2", -20, true});
  s.scripts.push_back({"chk_a", 5, true, ""});
  s.scripts.push_back({"chk_b", -7, true, ""});
  CHECK(judgeTracking(s).delta == 15);
  s.links[0].up = false;
  s.links[1].up = false;
  s.scripts[0].ok = false;
  s.scripts[1].ok = false;
  auto v = judgeTracking(s);
  CHECK(v.delta == -27);
  CHECK(v.fault.empty());  // weighted trackers never fault
}

TEST_CASE("tracking: the sync group's cause applies when there is none of its own",
          "[tracking_policy]") {
  TrackingState s = healthy();
  s.group_fault = "sync group G: VI_2 is FAULT";
  auto v = judgeTracking(s);
  CHECK(v.own_fault.empty());
  CHECK(v.fault == "sync group G: VI_2 is FAULT");
  s.interface_up = false;
  v = judgeTracking(s);
  CHECK(v.own_fault == "interface eth0 is down");
  CHECK(v.fault == "interface eth0 is down");
}
