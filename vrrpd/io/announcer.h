// Gratuitous ARP for IPv4 VIPs and unsolicited neighbour advertisements for
// IPv6 VIPs, sent from the interface's real MAC when an instance becomes
// MASTER, so switches and neighbours learn the new home of the VIP at once.
// The frames are built by vrrpd/core/announcement.h; this sends them.
#pragma once

#include "common/ip_address.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "vrrpd/core/announcement.h"
#include "vrrpd/io/interface_info.h"

namespace vrrpd {

class Announcer {
 public:
  static common::Result<Announcer> open(const InterfaceInfo& ifc);
  common::Result<void> announce(const common::IpAddress& vip);

 private:
  Announcer(InterfaceInfo ifc, common::UniqueFd arp, common::UniqueFd icmp6)
      : ifc_(std::move(ifc)), arp_(std::move(arp)), icmp6_(std::move(icmp6)) {}
  InterfaceInfo ifc_;
  common::UniqueFd arp_;    // AF_PACKET, for ARP
  common::UniqueFd icmp6_;  // IPPROTO_ICMPV6, hop limit 255
};

}  // namespace vrrpd
