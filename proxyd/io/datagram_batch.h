// Room for one recvmmsg()/sendmmsg() batch of datagrams: kCount buffers
// of nginx's largest datagram (65535 bytes, its UDP receive buffer), their
// iovecs, message headers, peer addresses and packet-info control data.
// One per worker, taken by the UDP listener's read and by a session's
// upstream read in turn (never nested: each runs in its own event callback).
//
// On a wildcard listener ("*:53") the packet info says which local address
// a datagram came to ($server_addr), and answers leave from that address,
// as nginx does (ngx_event_udp.c, ngx_set_srcaddr_cmsg): a client that
// asked the VIP gets its answer from the VIP.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string_view>

#include "common/address.h"

namespace proxyd {

class DatagramBatch {
 public:
  static constexpr int kCount = 16;
  static constexpr std::size_t kMaxDatagram = 65535;

  DatagramBatch();

  // Headers set up to receive kCount datagrams (with the peer's address
  // and the packet info when `named`); msgs()[i].msg_len is the length
  // received. A datagram longer than kMaxDatagram has MSG_TRUNC in its
  // msg_flags.
  mmsghdr* forReceive(bool named);
  // The local address datagram `i` came to (from its packet info), with
  // `port`; empty without packet info.
  common::SocketAddress localOf(int i, std::uint16_t port) const;
  // Headers to send the first `n` received datagrams to `dest` (each of its
  // received length), from `source` when it is not empty.
  mmsghdr* forSend(int n, const common::SocketAddress& dest, const common::SocketAddress& source);

  mmsghdr* msgs() { return msgs_.data(); }
  char* data(int i) { return data_.get() + static_cast<std::size_t>(i) * (kMaxDatagram + 1); }
  const sockaddr_storage& name(int i) const { return names_[i]; }

 private:
  // Big enough for IP_PKTINFO or IPV6_PKTINFO.
  struct alignas(cmsghdr) Control {
    char bytes[CMSG_SPACE(sizeof(in6_pktinfo))];
  };

  std::unique_ptr<char[]> data_;
  std::array<mmsghdr, kCount> msgs_{};
  std::array<iovec, kCount> iov_{};
  std::array<sockaddr_storage, kCount> names_{};
  std::array<Control, kCount> control_{};
};

// Packet info that makes a datagram leave from `source` (none when empty):
// fills `control` and sets msg_control/msg_controllen of `h`.
void setSourceAddress(msghdr& h, const common::SocketAddress& source, void* control,
                      std::size_t space);

// One datagram to `dest` from `source` (see setSourceAddress): a `return`
// text, or the empty datagram nginx sends after an upstream error.
ssize_t sendDatagram(int fd, std::string_view data, const common::SocketAddress& dest,
                     const common::SocketAddress& source);

}  // namespace proxyd
