#include "proxyd/core/realip.h"

#include <cstring>

#include <fmt/format.h>

namespace proxyd {
namespace {

// ngx_cidr_match takes an IPv4-mapped IPv6 peer as the IPv4 address: it
// matches IPv4 networks only.
common::SocketAddress unmapped(const common::SocketAddress& peer) {
  if (peer.family() != AF_INET6) return peer;
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(peer.sa());
  if (!IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) return peer;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = sin6->sin6_port;
  std::memcpy(&sin.sin_addr, sin6->sin6_addr.s6_addr + 12, 4);
  return common::SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

bool trusted(const RealIpFrom& from, const common::SocketAddress& peer) {
  if (peer.family() == AF_UNIX) return from.unix_peers;
  const common::SocketAddress addr = unmapped(peer);
  for (const common::Cidr& net : from.networks) {
    if (net.contains(addr)) return true;
  }
  return false;
}

}  // namespace

common::Result<void> addRealIpFrom(RealIpFrom& from, std::string_view text) {
  if (text == "unix:") {
    from.unix_peers = true;
    return {};
  }
  // "all" is access-list syntax; nginx's set_real_ip_from takes it for a
  // host name.
  auto net = text == "all" ? common::Result<common::Cidr>::fail("") : common::Cidr::parse(text);
  if (!net) {
    return common::Result<void>::fail(
        fmt::format("invalid value \"{}\" (expected an address, a network such as 192.0.2.0/24, or "
                    "\"unix:\")",
                    text));
  }
  from.networks.push_back(*net);
  return {};
}

std::optional<common::SocketAddress> realClientAddress(const RealIpFrom& from,
                                                       const common::SocketAddress& peer,
                                                       const ProxyProtocolHeader* header) {
  if (from.empty() || header == nullptr || !trusted(from, peer)) return std::nullopt;
  // ngx_parse_addr: a numeric IPv4 or IPv6 address, nothing else.
  auto addr = common::SocketAddress::fromNumeric(header->src_addr, header->src_port);
  if (!addr) return std::nullopt;
  return *addr;
}

}  // namespace proxyd
