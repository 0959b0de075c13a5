#include "common/ip_address.h"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace common {

IpAddress IpAddress::v4(const in_addr& a) {
  IpAddress ip;
  ip.family_ = AF_INET;
  std::memcpy(ip.bytes_.data(), &a, 4);
  return ip;
}

IpAddress IpAddress::v6(const in6_addr& a) {
  IpAddress ip;
  ip.family_ = AF_INET6;
  std::memcpy(ip.bytes_.data(), &a, 16);
  return ip;
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  in_addr a4;
  if (::inet_pton(AF_INET, s.c_str(), &a4) == 1) return v4(a4);
  in6_addr a6;
  if (::inet_pton(AF_INET6, s.c_str(), &a6) == 1) return v6(a6);
  return Result<IpAddress>::fail(fmt::format("invalid IP address \"{}\"", text));
}

in_addr IpAddress::toIn4() const {
  in_addr a{};
  std::memcpy(&a, bytes_.data(), 4);
  return a;
}

in6_addr IpAddress::toIn6() const {
  in6_addr a{};
  std::memcpy(&a, bytes_.data(), 16);
  return a;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (isV4()) {
    in_addr a = toIn4();
    ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  } else if (isV6()) {
    in6_addr a = toIn6();
    ::inet_ntop(AF_INET6, &a, buf, sizeof buf);
  } else {
    return "-";
  }
  return buf;
}

}  // namespace common
