// A virtual IP address as the configuration names it; vrrpd/io/vip_manager
// puts it on an interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ip_address.h"
#include "common/result.h"

namespace vrrpd {

// `virtual_ipaddress = IP[/len] [dev IF] [label L] [scope S]`.
struct Vip {
  common::IpAddress addr;
  int prefix = -1;  // default: /32 or /128
  std::string dev;  // empty: the instance's interface
  std::string label;
  std::string scope = "global";  // global, site, link, host, nowhere or a number
  int line = 0;

  int prefixLength() const { return prefix >= 0 ? prefix : (addr.isV4() ? 32 : 128); }
  std::string toString() const;  // "192.0.2.100/24 dev eth0"
  bool operator==(const Vip&) const = default;
};
common::Result<Vip> parseVip(std::string_view text);

// The scope names `ip address` and keepalived (netlink_scope_a2n()) accept,
// or a number 0..255, as the kernel's number.
std::optional<int> vipScopeNumber(std::string_view name);

}  // namespace vrrpd
