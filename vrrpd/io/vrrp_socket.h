// Raw IPPROTO_VRRP sockets: one per interface and family. Multicast to
// 224.0.0.18 / ff02::12 (group joined on the interface) or unicast to each
// peer; TTL / hop limit 255 and TOS 0xc0 as keepalived sends them. The
// recvmsg()/cmsg walk lives here; the VRRP message itself is parsed by
// vrrp_packet.h.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/ip_address.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "vrrpd/core/vrrp_packet.h"

namespace vrrpd {

// One received datagram, with what the IP layer said about it.
struct Datagram {
  common::IpAddress src;
  common::IpAddress dst;
  int ttl = -1;  // IPv4 TTL or IPv6 hop limit; -1 when unknown
  int ifindex = 0;
  std::vector<std::uint8_t> payload;  // the VRRP message (IP header removed)
};

// What one receive() got: a datagram; one malformed below VRRP (the Drop
// says why); nothing, because nothing is waiting (EAGAIN); or a failure of
// recvmsg() itself, with its errno.
struct WouldBlock {};
struct ReceiveError {
  int error = 0;  // errno of recvmsg()
};
using Received = std::variant<Datagram, Drop, WouldBlock, ReceiveError>;

// What the control messages of a recvmsg() carried: IP_PKTINFO /
// IPV6_PKTINFO (destination, interface) and IPV6_HOPLIMIT.
struct ControlInfo {
  std::optional<common::IpAddress> dst;
  int ifindex = 0;
  int hoplimit = -1;
};
ControlInfo parseControl(const msghdr& msg);

// sendmsg() of `data` to `to` with the source address and interface given
// in an IPV6_PKTINFO control message (VRRPv3 adverts from the link-local
// address, NAs from the VIP). Returns what sendmsg() returns; errno is set.
ssize_t sendFrom6(int fd, std::span<const std::uint8_t> data, const sockaddr_in6& to,
                  const in6_addr& src, int ifindex, int flags);

class VrrpSocket {
 public:
  // Opens a raw socket for `family` bound to interface `ifname`
  // (SO_BINDTODEVICE) and, when `multicast`, joins the VRRP group there.
  static common::Result<VrrpSocket> open(int family, const std::string& ifname, int ifindex,
                                         bool multicast);

  int fd() const { return fd_.get(); }

  // Sends `msg` (a VRRP message) from `src` to `dst` with TTL 255, TOS 0xc0.
  common::Result<void> send(std::span<const std::uint8_t> msg, const common::IpAddress& src,
                            const common::IpAddress& dst);

  // Reads one datagram, without waiting.
  Received receive();

 private:
  VrrpSocket(common::UniqueFd fd, int family, int ifindex)
      : fd_(std::move(fd)), family_(family), ifindex_(ifindex) {}
  common::UniqueFd fd_;
  int family_;
  int ifindex_;
};

}  // namespace vrrpd
