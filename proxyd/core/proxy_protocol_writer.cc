#include "proxyd/core/proxy_protocol_writer.h"

#include <cstring>

#include <fmt/format.h>

#include "proxyd/core/crc32c.h"
#include "proxyd/core/proxy_protocol.h"

namespace proxyd {
namespace {

const sockaddr_in& in4(const common::SocketAddress& a) {
  return *reinterpret_cast<const sockaddr_in*>(a.sa());
}
const sockaddr_in6& in6(const common::SocketAddress& a) {
  return *reinterpret_cast<const sockaddr_in6*>(a.sa());
}

// The address family byte of v2: 1 INET, 2 INET6, 0 anything else.
int v2Family(const common::SocketAddress& a) {
  return a.family() == AF_INET ? 1 : a.family() == AF_INET6 ? 2 : 0;
}

bool v4Mapped(const common::SocketAddress& a) {
  return a.family() == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6(a).sin6_addr);
}

void appendPort(std::string& out, const common::SocketAddress& a) {
  const std::uint16_t port = a.port();
  out.push_back(static_cast<char>(port >> 8));
  out.push_back(static_cast<char>(port & 0xff));
}

// The four address bytes of an IPv4 or IPv4-mapped address.
void appendV4(std::string& out, const common::SocketAddress& a) {
  const void* bytes = a.family() == AF_INET ? static_cast<const void*>(&in4(a).sin_addr)
                                            : in6(a).sin6_addr.s6_addr + 12;
  out.append(static_cast<const char*>(bytes), 4);
}

// Sixteen bytes: IPv6 as it is, IPv4 as ::ffff:a.b.c.d.
void appendV6(std::string& out, const common::SocketAddress& a) {
  if (a.family() == AF_INET6) {
    out.append(reinterpret_cast<const char*>(in6(a).sin6_addr.s6_addr), 16);
    return;
  }
  out.append(10, '\0');
  out.append(2, '\xff');
  appendV4(out, a);
}

}  // namespace

std::string nginxAddressText(const common::SocketAddress& addr) {
  if (addr.family() == AF_INET6) return nginxInet6Text(in6(addr).sin6_addr.s6_addr);
  return addr.hostText();
}

std::string proxyProtocolV1(const common::SocketAddress& client,
                            const common::SocketAddress& local) {
  if (client.family() != AF_INET && client.family() != AF_INET6) return "PROXY UNKNOWN\r\n";
  return fmt::format("PROXY {} {} {} {} {}\r\n", client.family() == AF_INET ? "TCP4" : "TCP6",
                     nginxAddressText(client), nginxAddressText(local), client.port(),
                     local.port());
}

std::string proxyProtocolV2(const common::SocketAddress& client,
                            const common::SocketAddress& local) {
  std::string out(kProxyProtocolV2Signature);
  const int src = v2Family(client);
  const int dst = v2Family(local);
  if (src == 0 || dst == 0) {
    out.push_back('\x20');  // version 2, LOCAL
    out.push_back('\x00');  // UNSPEC, UNSPEC
    out.append(2, '\0');
  } else {
    int family = std::max(src, dst);
    if (family == 2 && v4Mapped(client) && v4Mapped(local)) family = 1;
    out.push_back('\x21');                                // version 2, PROXY
    out.push_back(static_cast<char>((family << 4) | 1));  // STREAM
    out.append(2, '\0');
    if (family == 1) {
      appendV4(out, client);
      appendV4(out, local);
    } else {
      appendV6(out, client);
      appendV6(out, local);
    }
    appendPort(out, client);
    appendPort(out, local);
  }
  // The CRC32C TLV, counted in the length, computed with its value zeroed.
  out.append("\x03\x00\x04\x00\x00\x00\x00", 7);
  const std::size_t len = out.size() - kProxyProtocolV2Fixed;
  out[14] = static_cast<char>(len >> 8);
  out[15] = static_cast<char>(len & 0xff);
  const std::uint32_t crc = crc32c(out);
  for (int i = 0; i < 4; ++i) out[out.size() - 4 + i] = static_cast<char>(crc >> (24 - 8 * i));
  return out;
}

}  // namespace proxyd
