#include "proxyd/io/datagram_batch.h"

#include <cstring>

namespace proxyd {

DatagramBatch::DatagramBatch()
    // One byte more than the largest datagram, so that a longer one shows
    // as truncated rather than fitting exactly.
    : data_(std::make_unique_for_overwrite<char[]>(kCount * (kMaxDatagram + 1))) {}

mmsghdr* DatagramBatch::forReceive(bool named) {
  for (int i = 0; i < kCount; ++i) {
    iov_[i] = iovec{data(i), kMaxDatagram + 1};
    msghdr& h = msgs_[i].msg_hdr;
    h = msghdr{};
    h.msg_iov = &iov_[i];
    h.msg_iovlen = 1;
    if (named) {
      h.msg_name = &names_[i];
      h.msg_namelen = sizeof names_[i];
      h.msg_control = control_[i].bytes;
      h.msg_controllen = sizeof control_[i].bytes;
    }
    msgs_[i].msg_len = 0;
  }
  return msgs_.data();
}

common::SocketAddress DatagramBatch::localOf(int i, std::uint16_t port) const {
  msghdr h = msgs_[i].msg_hdr;
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_addr = info.ipi_addr;
      sin.sin_port = htons(port);
      return common::SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_addr = info.ipi6_addr;
      sin6.sin6_port = htons(port);
      return common::SocketAddress(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
    }
  }
  return {};
}

mmsghdr* DatagramBatch::forSend(int n, const common::SocketAddress& dest,
                                const common::SocketAddress& source) {
  for (int i = 0; i < n; ++i) {
    iov_[i].iov_len = msgs_[i].msg_len;
    msghdr& h = msgs_[i].msg_hdr;
    h.msg_iov = &iov_[i];
    h.msg_iovlen = 1;
    h.msg_name = const_cast<sockaddr*>(dest.sa());
    h.msg_namelen = dest.len();
    h.msg_flags = 0;
    setSourceAddress(h, source, control_[i].bytes, sizeof control_[i].bytes);
  }
  return msgs_.data();
}

void setSourceAddress(msghdr& h, const common::SocketAddress& source, void* control,
                      std::size_t space) {
  h.msg_control = nullptr;
  h.msg_controllen = 0;
  if (source.empty()) return;
  std::memset(control, 0, space);
  h.msg_control = control;
  if (source.family() == AF_INET) {
    h.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_spec_dst = reinterpret_cast<const sockaddr_in*>(source.sa())->sin_addr;
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
  } else {
    h.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo info{};
    info.ipi6_addr = reinterpret_cast<const sockaddr_in6*>(source.sa())->sin6_addr;
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
  }
}

ssize_t sendDatagram(int fd, std::string_view data, const common::SocketAddress& dest,
                     const common::SocketAddress& source) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr h{};
  h.msg_name = const_cast<sockaddr*>(dest.sa());
  h.msg_namelen = dest.len();
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))];
  setSourceAddress(h, source, control, sizeof control);
  return ::sendmsg(fd, &h, 0);
}

}  // namespace proxyd
