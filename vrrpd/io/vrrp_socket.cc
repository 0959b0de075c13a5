#include "vrrpd/io/vrrp_socket.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/sys_error.h"

namespace vrrpd {
namespace {

template <class T>
bool setOpt(int fd, int level, int name, const T& value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
}

common::Result<VrrpSocket> sysFail(std::string_view what, const std::string& ifname) {
  return common::Result<VrrpSocket>::fail(fmt::format(
      "VRRP socket on {}: {}", ifname, common::SysError{std::string(what), errno}.brief()));
}

constexpr std::size_t kIpv4HeaderLen = 20;

// The IPv4 header keepalived puts in front of an advert (vrrp.c,
// vrrp_build_ip4(), sent with IP_HDRINCL): version 4, IHL 5, TOS 0xc0
// (internetwork control), ID 0 and fragment field 0 (no DF) so that the
// kernel picks the ID, TTL 255 (RFC 3768 5.2.3 / RFC 5798 5.1.1.3),
// protocol 112, checksum 0 (the kernel always fills it for IP_HDRINCL).
void buildIpv4Header(std::uint8_t* h, std::size_t payload_len, const common::IpAddress& src,
                     const common::IpAddress& dst) {
  const std::size_t total = kIpv4HeaderLen + payload_len;
  h[0] = 0x45;
  h[1] = kVrrpTos;
  h[2] = static_cast<std::uint8_t>(total >> 8);
  h[3] = static_cast<std::uint8_t>(total & 0xff);
  h[4] = h[5] = 0;  // identification: kernel-chosen
  h[6] = h[7] = 0;  // flags / fragment offset
  h[8] = kVrrpTtl;
  h[9] = kIpProtoVrrp;
  h[10] = h[11] = 0;  // header checksum: kernel-computed
  std::memcpy(h + 12, src.bytes(), 4);
  std::memcpy(h + 16, dst.bytes(), 4);
}

}  // namespace

ssize_t sendFrom6(int fd, std::span<const std::uint8_t> data, const sockaddr_in6& to,
                  const in6_addr& src, int ifindex, int flags) {
  iovec iov{const_cast<std::uint8_t*>(data.data()), data.size()};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
  msghdr mh{};
  mh.msg_name = const_cast<sockaddr_in6*>(&to);
  mh.msg_namelen = sizeof to;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
  in6_pktinfo pi{};
  pi.ipi6_addr = src;
  pi.ipi6_ifindex = static_cast<unsigned>(ifindex);
  std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
  return ::sendmsg(fd, &mh, flags);
}

ControlInfo parseControl(const msghdr& msg) {
  ControlInfo info;
  if (msg.msg_control == nullptr) return info;
  const auto* begin = static_cast<const std::uint8_t*>(msg.msg_control);
  const auto* end = begin + msg.msg_controllen;
  // CMSG_NXTHDR only checks that the next header starts inside the buffer;
  // a cmsg_len running past the end (a truncated buffer, MSG_CTRUNC) is
  // checked here before any data is read.
  for (const cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(c))) {
    const auto* at = reinterpret_cast<const std::uint8_t*>(c);
    if (c->cmsg_len < CMSG_LEN(0) || c->cmsg_len > static_cast<std::size_t>(end - at)) break;
    const std::size_t data_len = c->cmsg_len - CMSG_LEN(0);
    const unsigned char* data = CMSG_DATA(c);
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      if (data_len < sizeof(in_pktinfo)) continue;
      in_pktinfo pi;
      std::memcpy(&pi, data, sizeof pi);
      info.ifindex = pi.ipi_ifindex;
      // ipi_addr is the header's destination; ipi_spec_dst the local
      // address a reply would come from.
      info.dst = common::IpAddress::v4(pi.ipi_addr);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
      if (data_len < sizeof(int)) continue;
      int ttl;
      std::memcpy(&ttl, data, sizeof ttl);
      info.hoplimit = ttl;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      if (data_len < sizeof(in6_pktinfo)) continue;
      in6_pktinfo pi;
      std::memcpy(&pi, data, sizeof pi);
      info.ifindex = static_cast<int>(pi.ipi6_ifindex);
      info.dst = common::IpAddress::v6(pi.ipi6_addr);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
      if (data_len < sizeof(int)) continue;
      int hops;
      std::memcpy(&hops, data, sizeof hops);
      info.hoplimit = hops;
    }
  }
  return info;
}

common::Result<VrrpSocket> VrrpSocket::open(int family, const std::string& ifname, int ifindex,
                                            bool multicast) {
  if (family != AF_INET && family != AF_INET6)
    return common::Result<VrrpSocket>::fail(
        fmt::format("VRRP socket on {}: unsupported address family {}", ifname, family));
  if (ifname.empty() || ifname.size() >= IFNAMSIZ)
    return common::Result<VrrpSocket>::fail(
        fmt::format("VRRP socket: invalid interface name \"{}\"", ifname));
  common::UniqueFd fd(::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kIpProtoVrrp));
  if (!fd) return sysFail("socket(SOCK_RAW, 112)", ifname);
  const int s = fd.get();
  const int on = 1;
  const int off = 0;

  // Only this interface's adverts (keepalived if_setsockopt_bindtodevice());
  // also pins the output interface of unicast adverts.
  if (::setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(),
                   static_cast<socklen_t>(ifname.size() + 1)) < 0)
    return sysFail("SO_BINDTODEVICE", ifname);

  // Unlike keepalived's multicast read socket, which it binds to
  // 224.0.0.18 / ::1 to keep unicast out, this socket stays unbound: one
  // socket per interface and family serves multicast and unicast instances
  // alike, and the advert filter tells them apart by destination.
  if (family == AF_INET) {
    if (!setOpt(s, IPPROTO_IP, IP_HDRINCL, on)) return sysFail("IP_HDRINCL", ifname);
    // Groups joined by other sockets are not delivered here
    // (keepalived if_setsockopt_mcast_all()).
    if (!setOpt(s, IPPROTO_IP, IP_MULTICAST_ALL, off)) return sysFail("IP_MULTICAST_ALL", ifname);
    if (!setOpt(s, IPPROTO_IP, IP_TOS, static_cast<int>(kVrrpTos)))
      return sysFail("IP_TOS", ifname);
    if (!setOpt(s, IPPROTO_IP, IP_PKTINFO, on)) return sysFail("IP_PKTINFO", ifname);
    if (multicast) {
      ip_mreqn mreq{};
      mreq.imr_multiaddr = vrrpMulticastV4().toIn4();
      mreq.imr_ifindex = ifindex;
      if (!setOpt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq))
        return sysFail("join 224.0.0.18", ifname);
      ip_mreqn out{};
      out.imr_ifindex = ifindex;
      if (!setOpt(s, IPPROTO_IP, IP_MULTICAST_IF, out)) return sysFail("IP_MULTICAST_IF", ifname);
      const unsigned char loop = 0;
      if (!setOpt(s, IPPROTO_IP, IP_MULTICAST_LOOP, loop))
        return sysFail("IP_MULTICAST_LOOP", ifname);
    }
  } else {
    // The kernel fills in and verifies the VRRP checksum at offset 6
    // (keepalived if_setsockopt_ipv6_checksum()); it uses the same
    // pseudo-header as RFC 5798 5.2.8.
    const int csum_offset = 6;
    if (!setOpt(s, IPPROTO_IPV6, IPV6_CHECKSUM, csum_offset))
      return sysFail("IPV6_CHECKSUM", ifname);
    // RFC 5798 5.1.2.3: hop limit 255, multicast or unicast.
    const int hops = kVrrpTtl;
    if (!setOpt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops))
      return sysFail("IPV6_MULTICAST_HOPS", ifname);
    if (!setOpt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops))
      return sysFail("IPV6_UNICAST_HOPS", ifname);
    // keepalived if_setsockopt_priority(): traffic class 0xc0 (CS6).
    if (!setOpt(s, IPPROTO_IPV6, IPV6_TCLASS, static_cast<int>(kVrrpTos)))
      return sysFail("IPV6_TCLASS", ifname);
    if (!setOpt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, on)) return sysFail("IPV6_RECVPKTINFO", ifname);
    if (!setOpt(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, on))
      return sysFail("IPV6_RECVHOPLIMIT", ifname);
    if (multicast) {
      ipv6_mreq mreq{};
      mreq.ipv6mr_multiaddr = vrrpMulticastV6().toIn6();
      mreq.ipv6mr_interface = static_cast<unsigned>(ifindex);
      if (!setOpt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq)) return sysFail("join ff02::12", ifname);
      if (!setOpt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex))
        return sysFail("IPV6_MULTICAST_IF", ifname);
      if (!setOpt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, off))
        return sysFail("IPV6_MULTICAST_LOOP", ifname);
    }
  }
  return VrrpSocket(std::move(fd), family, ifindex);
}

common::Result<void> VrrpSocket::send(std::span<const std::uint8_t> msg,
                                      const common::IpAddress& src, const common::IpAddress& dst) {
  if (src.family() != family_ || dst.family() != family_)
    return common::Result<void>::fail(
        fmt::format("send VRRP from {} to {}: not the socket's address family", src.toString(),
                    dst.toString()));
  ssize_t n;
  std::size_t expected;
  if (family_ == AF_INET) {
    std::uint8_t header[kIpv4HeaderLen];
    buildIpv4Header(header, msg.size(), src, dst);
    iovec iov[2] = {{header, sizeof header}, {const_cast<std::uint8_t*>(msg.data()), msg.size()}};
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr = dst.toIn4();
    msghdr mh{};
    mh.msg_name = &to;
    mh.msg_namelen = sizeof to;
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    expected = sizeof header + msg.size();
    n = ::sendmsg(fd_.get(), &mh, MSG_DONTWAIT);
  } else {
    // The source is the link-local address (RFC 5798 5.1.2.2), set per
    // datagram with IPV6_PKTINFO; hop limit and traffic class come from
    // the socket options.
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_addr = dst.toIn6();
    if (IN6_IS_ADDR_LINKLOCAL(&to.sin6_addr) || IN6_IS_ADDR_MULTICAST(&to.sin6_addr))
      to.sin6_scope_id = static_cast<std::uint32_t>(ifindex_);
    expected = msg.size();
    n = sendFrom6(fd_.get(), msg, to, src.toIn6(), ifindex_, MSG_DONTWAIT);
  }
  if (n < 0)
    return common::Result<void>::fail(common::SysError{
        fmt::format("send VRRP from {} to {}", src.toString(), dst.toString()), errno}
                                          .brief());
  if (static_cast<std::size_t>(n) != expected)
    return common::Result<void>::fail(fmt::format("send VRRP from {} to {}: short write {}/{}",
                                                  src.toString(), dst.toString(), n, expected));
  return {};
}

Received VrrpSocket::receive() {
  // Large enough for an IPv4 header with options and the largest VRRP
  // message (255 IPv6 addresses); anything longer is not VRRP.
  std::uint8_t buf[4200];
  alignas(cmsghdr) unsigned char control[512];
  sockaddr_storage from{};
  iovec iov{buf, sizeof buf};
  msghdr mh{};
  mh.msg_name = &from;
  mh.msg_namelen = sizeof from;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd_.get(), &mh, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return WouldBlock{};
    return ReceiveError{errno};
  }
  if (mh.msg_flags & MSG_TRUNC)
    return Drop{DropReason::bad_length, fmt::format("datagram longer than {} bytes", sizeof buf)};
  const ControlInfo ctl = parseControl(mh);
  const std::span<const std::uint8_t> bytes(buf, static_cast<std::size_t>(n));

  Datagram d;
  d.ifindex = ctl.ifindex != 0 ? ctl.ifindex : ifindex_;
  if (family_ == AF_INET) {
    // IPv4 raw sockets hand over the whole datagram, IP header included.
    Drop ip_drop{DropReason::bad_ip_header, ""};
    auto ip = parseIpv4(bytes, &ip_drop);
    if (!ip) return ip_drop;
    if (ip->protocol != kIpProtoVrrp)
      return Drop{DropReason::bad_ip_header, fmt::format("IP protocol {}", ip->protocol)};
    d.src = ip->src;
    d.dst = ip->dst;
    d.ttl = ip->ttl;
    d.payload.assign(ip->payload.begin(), ip->payload.end());
  } else {
    // IPv6 raw sockets hand over the payload only; the header's fields come
    // from the source address and the ancillary data.
    if (from.ss_family != AF_INET6)
      return Drop{DropReason::bad_ip_header, "no IPv6 source address"};
    sockaddr_in6 from6;
    std::memcpy(&from6, &from, sizeof from6);
    d.src = common::IpAddress::v6(from6.sin6_addr);
    if (!ctl.dst) return Drop{DropReason::bad_ip_header, "no IPV6_PKTINFO destination"};
    d.dst = *ctl.dst;
    d.ttl = ctl.hoplimit;
    d.payload.assign(bytes.begin(), bytes.end());
  }
  return d;
}

}  // namespace vrrpd
