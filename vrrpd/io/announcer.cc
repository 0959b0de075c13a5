#include "vrrpd/io/announcer.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/sys_error.h"
#include "vrrpd/io/vrrp_socket.h"

#ifndef IPV6_AUTOFLOWLABEL
#define IPV6_AUTOFLOWLABEL 70  // linux/in6.h; glibc's netinet/in.h lacks it
#endif

namespace vrrpd {
namespace {

template <class T>
bool setOpt(int fd, int level, int name, const T& value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
}

common::Result<Announcer> sysFail(const InterfaceInfo& ifc, std::string_view what) {
  return common::Result<Announcer>::fail(fmt::format(
      "announcer on {}: {}", ifc.name, common::SysError{std::string(what), errno}.brief()));
}

}  // namespace

common::Result<Announcer> Announcer::open(const InterfaceInfo& ifc) {
  // ARP: a packet socket on the interface. Protocol 0 receives nothing, so
  // no frames queue up on a socket that only sends.
  common::UniqueFd arp(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!arp) return sysFail(ifc, "socket(AF_PACKET)");
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = 0;
  ll.sll_ifindex = ifc.index;
  if (::bind(arp.get(), reinterpret_cast<const sockaddr*>(&ll), sizeof ll) < 0)
    return sysFail(ifc, "bind(AF_PACKET)");

  // NA: hop limit 255, or receivers drop it (RFC 4861 7.1.2); out of this
  // interface only.
  common::UniqueFd icmp6(
      ::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6));
  if (!icmp6) return sysFail(ifc, "socket(IPPROTO_ICMPV6)");
  const int s = icmp6.get();
  const int hops = 255;
  if (!setOpt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops))
    return sysFail(ifc, "IPV6_MULTICAST_HOPS");
  if (!setOpt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops)) return sysFail(ifc, "IPV6_UNICAST_HOPS");
  if (!setOpt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifc.index))
    return sysFail(ifc, "IPV6_MULTICAST_IF");
  const int off = 0;
  if (!setOpt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, off))
    return sysFail(ifc, "IPV6_MULTICAST_LOOP");
  if (::setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, ifc.name.c_str(),
                   static_cast<socklen_t>(ifc.name.size() + 1)) < 0)
    return sysFail(ifc, "SO_BINDTODEVICE");
  // keepalived writes its NA whole, with flow label 0; the kernel would give
  // this socket an automatic one (net.ipv6.auto_flowlabels), the only field
  // in which our NA differed from keepalived's (tests/interop). Best effort:
  // kernels before 4.7 have no switch.
  (void)setOpt(s, IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, off);
  // Send only: let no ICMPv6 message queue up here.
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  if (!setOpt(s, IPPROTO_ICMPV6, ICMP6_FILTER, filter)) return sysFail(ifc, "ICMP6_FILTER");

  return Announcer(ifc, std::move(arp), std::move(icmp6));
}

common::Result<void> Announcer::announce(const common::IpAddress& vip) {
  if (vip.isV4()) {
    const auto frame = buildGratuitousArp(ifc_.mac, vip);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = ifc_.index;
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    const ssize_t n = ::sendto(arp_.get(), frame.data(), frame.size(), 0,
                               reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (n < 0)
      return common::Result<void>::fail(common::SysError{
          fmt::format("gratuitous ARP for {} on {}", vip.toString(), ifc_.name), errno}
                                            .brief());
    return {};
  }
  if (!vip.isV6())
    return common::Result<void>::fail(fmt::format("announce on {}: no address", ifc_.name));

  const auto na = buildUnsolicitedNa(ifc_.mac, vip);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_addr.s6_addr[0] = 0xff;  // ff02::1, all nodes (RFC 4861 7.2.6)
  to.sin6_addr.s6_addr[1] = 0x02;
  to.sin6_addr.s6_addr[15] = 0x01;
  to.sin6_scope_id = static_cast<std::uint32_t>(ifc_.index);
  // keepalived (vrrp_ndisc.c) sends the NA from the VIP itself; the VIP is
  // added with NODAD so it is usable at once. If it is not (yet) on the
  // interface the kernel refuses that source, and we let it pick one.
  ssize_t n = sendFrom6(icmp6_.get(), na, to, vip.toIn6(), ifc_.index, 0);
  if (n < 0 && (errno == EINVAL || errno == EADDRNOTAVAIL)) {
    n = ::sendto(icmp6_.get(), na.data(), na.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                 sizeof to);
  }
  if (n < 0)
    return common::Result<void>::fail(common::SysError{
        fmt::format("unsolicited NA for {} on {}", vip.toString(), ifc_.name), errno}
                                          .brief());
  return {};
}

}  // namespace vrrpd
