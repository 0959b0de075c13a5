// What a HUP does to each instance (DESIGN.md "Reload is a diff, computed
// purely"): a pure function of the running and the new configuration,
// compared by value with defaulted operator==, never by a hand-written
// fingerprint (the last one forgot [global] twice: vrrp_version and
// v3_checksum_as_v2, so a kept instance sent v2 after a switch to v3, and
// encoded its checksum one way while the daemon decoded the other).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "vrrpd/core/config.h"

namespace vrrpd {

// The [global] values a running instance is built with, already resolved for
// that instance. The instance sees nothing else of [global] (its constructor
// takes this), so a value it starts to depend on is added here and the plan
// compares it without being told.
struct InstanceGlobals {
  int version = 2;                 // vrrp_version unless the section or IPv6 VIPs decide
  bool v3_checksum_as_v2 = false;  // only read by v3 over IPv4 (send and receive)
  bool skip_check_adv_addr = false;
  bool check_unicast_src = false;                  // only read in unicast mode
  std::chrono::milliseconds announce_interval{0};  // vrrp_garp_interval / vrrp_gna_interval
  bool operator==(const InstanceGlobals&) const = default;
};
InstanceGlobals globalsFor(const InstanceSection& sec, const GlobalSection& global);

enum class ReloadStep {
  keep,     // same section, same globals: keeps its state and VIPs, a master adverts at once
  restart,  // stopped (priority 0, VIPs removed), then started from the new section
  start,    // new in the file
  stop,     // gone from the file
};
std::string_view reloadStepName(ReloadStep s);

struct InstancePlan {
  std::string name;
  ReloadStep step = ReloadStep::keep;
  std::string why;  // for the log: what changed
  bool operator==(const InstancePlan&) const = default;
};

// One entry per instance of `running` or `next`: first the instances of
// `next` in file order, then the ones that are gone. Where a key was written
// (its line) is not a change: a comment added above a section keeps it.
std::vector<InstancePlan> planReload(const VrrpConfig& running, const VrrpConfig& next);

}  // namespace vrrpd
