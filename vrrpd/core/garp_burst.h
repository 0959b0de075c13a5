// The announcements of a new MASTER: garp_master_repeat rounds of a
// gratuitous ARP (IPv4) or unsolicited NA (IPv6) per VIP, paced by
// vrrp_garp_interval / vrrp_gna_interval. With the interval at 0,
// keepalived's default, the whole burst goes at once, else one announcement
// per interval. Pure: the instance sends and arms the timer.
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/ip_address.h"

namespace vrrpd {

class GarpBurst {
 public:
  explicit GarpBurst(common::Duration gap) : gap_(gap) {}

  // A new burst replaces what is left of the previous one.
  void start(const std::vector<common::IpAddress>& vips, int repeat);
  void clear() { pending_.clear(); }
  bool empty() const { return pending_.empty(); }

  struct Step {
    std::vector<common::IpAddress> send;   // to announce now, in order
    std::optional<common::Duration> wait;  // before the next step; none: the burst is over
  };
  Step next();

 private:
  common::Duration gap_;
  std::deque<common::IpAddress> pending_;
};

}  // namespace vrrpd
