// Gratuitous ARP for IPv4 VIPs and unsolicited neighbour advertisements for
// IPv6 VIPs, sent from the interface's real MAC when an instance becomes
// MASTER, so switches and neighbours learn the new home of the VIP at once.
#pragma once

#include <cstdint>
#include <vector>

#include "common/ip_address.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "vrrpd/io/interface_info.h"

namespace vrrpd {

// The Ethernet frame of a gratuitous ARP request for `vip` (keepalived's:
// broadcast destination, sender IP = target IP = VIP, target MAC
// ff:ff:ff:ff:ff:ff as vrrp_arp.c fills it).
std::vector<std::uint8_t> buildGratuitousArp(const MacAddress& mac, const common::IpAddress& vip);
// The ICMPv6 message of an unsolicited NA for `vip` to ff02::1, Override
// set, target link-layer address option = mac (RFC 4861 4.4, 7.2.6). The
// checksum is left to the kernel (IPPROTO_ICMPV6 raw socket).
std::vector<std::uint8_t> buildUnsolicitedNa(const MacAddress& mac, const common::IpAddress& vip);

class Announcer {
 public:
  static common::Result<Announcer> open(const InterfaceInfo& ifc);
  common::Result<bool> announce(const common::IpAddress& vip);

 private:
  Announcer(InterfaceInfo ifc, common::UniqueFd arp, common::UniqueFd icmp6)
      : ifc_(std::move(ifc)), arp_(std::move(arp)), icmp6_(std::move(icmp6)) {}
  InterfaceInfo ifc_;
  common::UniqueFd arp_;    // AF_PACKET, for ARP
  common::UniqueFd icmp6_;  // IPPROTO_ICMPV6, hop limit 255
};

}  // namespace vrrpd
