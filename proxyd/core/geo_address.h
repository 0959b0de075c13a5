// Addresses and networks as nginx's geo reads them (ngx_inet_addr,
// ngx_inet6_addr, ngx_ptocidr in src/core/ngx_inet.c), quirks included, so
// that every entry nginx accepts is accepted and means the same network:
// "1..2.3" is 1.0.2.3, "255.255.255.255" is no IPv4 address (INADDR_NONE),
// a leading ":" of an IPv6 address is skipped.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace proxyd {

// An address in network order: IPv4 in the first 4 bytes.
struct GeoAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  bool operator==(const GeoAddress&) const = default;
};

struct GeoNetwork {
  GeoAddress addr;            // the host bits cleared
  int prefix = 0;             // 0..32 or 0..128
  bool low_bits_set = false;  // nginx: "low address bits of X are meaningless"
};

// ngx_inet_addr: host order; nothing for text nginx refuses and for
// 255.255.255.255 (which nginx cannot tell from its error value).
std::optional<std::uint32_t> parseNginxInet4(std::string_view text);
// ngx_inet6_addr.
std::optional<std::array<std::uint8_t, 16>> parseNginxInet6(std::string_view text);
// ngx_parse_addr: an IPv4, else an IPv6 address (the geo source's value).
std::optional<GeoAddress> parseNginxAddress(std::string_view text);
// A geo network: ngx_ptocidr, plus geo's own "255.255.255.255" as /32.
std::optional<GeoNetwork> parseGeoNetwork(std::string_view text);

}  // namespace proxyd
