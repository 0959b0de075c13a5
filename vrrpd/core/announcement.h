// The frames that tell a link where a VIP lives now: a gratuitous ARP for an
// IPv4 VIP, an unsolicited neighbour advertisement for an IPv6 one (FRR's
// vrrp_arp.c and vrrp_ndisc.c). Pure: the announcer sends them.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "common/ip_address.h"

namespace vrrpd {

using MacAddress = std::array<std::uint8_t, 6>;

// The Ethernet frame of a gratuitous ARP request for `vip` (keepalived's:
// broadcast destination, sender IP = target IP = VIP, target MAC
// ff:ff:ff:ff:ff:ff as vrrp_arp.c fills it).
std::vector<std::uint8_t> buildGratuitousArp(const MacAddress& mac, const common::IpAddress& vip);
// The ICMPv6 message of an unsolicited NA for `vip` to ff02::1, Override
// set, target link-layer address option = mac (RFC 4861 4.4, 7.2.6). The
// checksum is left to the kernel (IPPROTO_ICMPV6 raw socket).
std::vector<std::uint8_t> buildUnsolicitedNa(const MacAddress& mac, const common::IpAddress& vip);

}  // namespace vrrpd
