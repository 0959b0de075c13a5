// An IPv4 or IPv6 address without a port (VRRP addresses, VIPs, CIDRs).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/result.h"

namespace common {

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(const in_addr& a);
  static IpAddress v6(const in6_addr& a);
  // Numeric text only: "192.0.2.1", "2001:db8::1".
  static Result<IpAddress> parse(std::string_view text);

  int family() const { return family_; }
  bool isV4() const { return family_ == AF_INET; }
  bool isV6() const { return family_ == AF_INET6; }
  bool empty() const { return family_ == AF_UNSPEC; }
  // 4 or 16 bytes in network order.
  const std::uint8_t* bytes() const { return bytes_.data(); }
  std::size_t size() const { return isV4() ? 4 : isV6() ? 16 : 0; }
  in_addr toIn4() const;
  in6_addr toIn6() const;
  std::string toString() const;

  // Network-order comparison of same-family addresses, as VRRP compares
  // primary addresses to break a priority tie (RFC 5798 6.4.3).
  friend std::strong_ordering operator<=>(const IpAddress& a, const IpAddress& b) {
    if (a.family_ != b.family_) return a.family_ <=> b.family_;
    int c = std::memcmp(a.bytes_.data(), b.bytes_.data(), 16);
    return c < 0   ? std::strong_ordering::less
           : c > 0 ? std::strong_ordering::greater
                   : std::strong_ordering::equal;
  }
  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return (a <=> b) == std::strong_ordering::equal;
  }

 private:
  int family_ = AF_UNSPEC;
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace common
