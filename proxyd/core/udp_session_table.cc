#include "proxyd/core/udp_session_table.h"

#include <netinet/in.h>

namespace proxyd {

std::size_t ClientAddressHash::operator()(const common::SocketAddress& a) const {
  std::size_t h = std::hash<int>{}(a.family()) ^ (std::size_t{a.port()} << 16);
  if (a.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(a.sa());
    return h ^ std::hash<std::uint32_t>{}(in->sin_addr.s_addr);
  }
  if (a.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a.sa());
    std::string_view bytes(reinterpret_cast<const char*>(&in6->sin6_addr), sizeof in6->sin6_addr);
    return h ^ std::hash<std::string_view>{}(bytes);
  }
  return h;
}

}  // namespace proxyd
