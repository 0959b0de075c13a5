// The receive checks that depend on the instance (RFC 3768 7.1, RFC 5798
// 7.1, keepalived's behaviour): TTL, version, authentication, interval,
// address list. Pure: an advert and what we expect in, a verdict out.
#pragma once

#include <optional>
#include <vector>

#include "common/ip_address.h"
#include "vrrpd/core/vrrp_packet.h"

namespace vrrpd {

struct AdvertExpectation {
  int version = 2;
  std::uint8_t vrid = 0;
  bool unicast = false;  // TTL is not checked in unicast mode (keepalived)
  AuthType auth_type = AuthType::none;
  std::array<std::uint8_t, 8> auth_data{};
  std::uint16_t interval_cs = 100;
  std::vector<common::IpAddress> addrs;  // our VIPs of the advert's family
  // keepalived's vrrp_skip_check_adv_addr: skip the address-list check for
  // adverts from the master we already know.
  bool skip_check_adv_addr = false;
  std::optional<common::IpAddress> known_master;
  std::vector<common::IpAddress> own_addresses;  // to drop our own looped-back adverts
  std::vector<common::IpAddress> unicast_peers;  // unicast: only these senders count
};

// nullopt: accept. v3 interval differences are accepted (the backup adopts
// the master's interval) and are not a drop.
std::optional<Drop> filterAdvert(const Advert& a, const common::IpAddress& src, std::uint8_t ttl,
                                 const AdvertExpectation& want);

}  // namespace vrrpd
