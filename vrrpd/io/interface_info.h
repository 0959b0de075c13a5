// Facts about a network interface that vrrpd needs: index, MAC, state, and
// its primary addresses (the VRRP source address when none is configured).
#pragma once

#include <optional>
#include <string>

#include "common/ip_address.h"
#include "common/result.h"
#include "vrrpd/core/announcement.h"  // MacAddress

namespace vrrpd {

struct InterfaceInfo {
  std::string name;
  int index = 0;
  MacAddress mac{};
  bool up = false;                                 // IFF_UP and IFF_RUNNING
  std::optional<common::IpAddress> primary_v4;     // first IPv4 address that is not a VIP
  std::optional<common::IpAddress> link_local_v6;  // fe80:: address
};

// Reads the interface now (ioctl/getifaddrs); an error names the interface.
common::Result<InterfaceInfo> lookupInterface(const std::string& name);

}  // namespace vrrpd
