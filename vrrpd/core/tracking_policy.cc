#include "vrrpd/core/tracking_policy.h"

#include <fmt/format.h>

namespace vrrpd {
namespace {

// Whether a weighted tracker adds its weight: a positive weight while up, a
// negative one while down.
bool weightApplies(int weight, bool up) {
  return weight > 0 ? up : !up;
}

}  // namespace

TrackingVerdict judgeTracking(const TrackingState& s) {
  TrackingVerdict v;
  // The first cause found is the one reported: no address to send from,
  // then our own link, then the trackers in config order.
  std::string& fault = v.own_fault;
  if (!s.has_source) {
    fault = fmt::format("no {} address on {} to send from", s.ipv6 ? "IPv6 link-local" : "IPv4",
                        s.interface);
  } else if (!s.interface_up) {
    fault = fmt::format("interface {} is down", s.interface);
  }
  for (const auto& t : s.links) {
    if (t.weight == 0) {
      if (!t.up && fault.empty()) fault = fmt::format("tracked interface {} is down", t.name);
    } else if (weightApplies(t.weight, t.up)) {
      v.delta += t.weight;
    }
  }
  for (const auto& t : s.scripts) {
    if (t.weight == 0) {
      if (!t.ok && fault.empty()) {
        fault = fmt::format("track script {} failed ({})", t.name,
                            t.last_failure.empty() ? "init_fail" : t.last_failure);
      }
    } else if (weightApplies(t.weight, t.ok)) {
      v.delta += t.weight;
    }
  }
  v.fault = fault.empty() ? s.group_fault : fault;
  return v;
}

}  // namespace vrrpd
