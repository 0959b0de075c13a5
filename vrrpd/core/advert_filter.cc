#include "vrrpd/core/advert_filter.h"

#include <algorithm>

#include <fmt/format.h>

namespace vrrpd {

namespace {

bool contains(const std::vector<common::IpAddress>& list, const common::IpAddress& ip) {
  return std::find(list.begin(), list.end(), ip) != list.end();
}

// keepalived compares the password with memcmp_constant_time: how many
// leading bytes match must not show in the time taken.
bool equalConstantTime(const std::array<std::uint8_t, 8>& a, const std::array<std::uint8_t, 8>& b) {
  std::uint8_t diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<std::uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

std::string_view authName(AuthType t) {
  switch (t) {
    case AuthType::none:
      return "none";
    case AuthType::pass:
      return "PASS";
    case AuthType::ah:
      return "AH";
  }
  return "unknown";
}

// The address-list check of keepalived's vrrp_check_packet (RFC 3768 7.1
// "MAY verify that the IP address(es) associated with the VRID are valid"):
// the count must be ours and each of our addresses must be in the advert, in
// any order.
std::optional<Drop> checkAddresses(const Advert& a, const AdvertExpectation& want) {
  if (a.addrs.size() != want.addrs.size()) {
    return Drop{DropReason::address_mismatch,
                fmt::format("{} addresses, expected {}", a.addrs.size(), want.addrs.size())};
  }
  for (const auto& ours : want.addrs) {
    if (!contains(a.addrs, ours)) {
      return Drop{DropReason::address_mismatch,
                  fmt::format("{} not in the advert", ours.toString())};
    }
  }
  return std::nullopt;
}

}  // namespace

// The order follows keepalived's receive path where it matters to an
// operator reading the debug log: our own packets first (a looped-back
// multicast is not an error), then TTL (vrrp_check_packet checks it first,
// RFC 3768 7.1 / RFC 5798 7.1), the sender, version, VRID, auth, interval,
// and the address list last.
std::optional<Drop> filterAdvert(const Advert& a, const common::IpAddress& src, std::uint8_t ttl,
                                 const AdvertExpectation& want) {
  if (contains(want.own_addresses, src)) {
    return Drop{DropReason::own_packet, fmt::format("from our own address {}", src.toString())};
  }
  // keepalived skips the TTL check when unicast peers are configured: unicast
  // adverts may cross routers.
  if (!want.unicast && ttl != kVrrpTtl) {
    return Drop{DropReason::bad_ttl, fmt::format("TTL {}, expected {}", ttl, kVrrpTtl)};
  }
  // keepalived checks the sender against unicast_peer only with
  // vrrp_check_unicast_src; we always do when peers are listed, so that a
  // stray host cannot take part in an election it was not configured into.
  if (want.unicast && !want.unicast_peers.empty() && !contains(want.unicast_peers, src)) {
    return Drop{DropReason::not_unicast_peer,
                fmt::format("{} is not a unicast_peer", src.toString())};
  }
  if (a.version != want.version) {
    return Drop{DropReason::bad_version,
                fmt::format("VRRPv{}, expected VRRPv{}", a.version, want.version)};
  }
  if (a.vrid != want.vrid) {
    return Drop{DropReason::unknown_vrid, fmt::format("VRID {}, expected {}", a.vrid, want.vrid)};
  }
  if (!want.addrs.empty() && want.addrs.front().family() != src.family()) {
    return Drop{DropReason::family_mismatch,
                fmt::format("advert from {}, our addresses are {}", src.toString(),
                            want.addrs.front().isV6() ? "IPv6" : "IPv4")};
  }
  if (a.version == 2) {
    // RFC 3768 7.1 / keepalived: the auth type must be ours, and with PASS
    // all 8 bytes must match (the password NUL-padded to 8).
    if (a.auth_type != want.auth_type) {
      return Drop{DropReason::auth_mismatch,
                  fmt::format("auth type {} ({}), expected {} ({})", static_cast<int>(a.auth_type),
                              authName(a.auth_type), static_cast<int>(want.auth_type),
                              authName(want.auth_type))};
    }
    if (a.auth_type == AuthType::pass && !equalConstantTime(a.auth_data, want.auth_data)) {
      return Drop{DropReason::auth_mismatch, "wrong password"};
    }
    // RFC 3768 7.1: a v2 advert with another interval is dropped, so that
    // two masters cannot run the same VRID at different rates. (v3 accepts it:
    // a backup adopts the master's interval, RFC 5798 6.4.2.)
    if (a.interval_cs != want.interval_cs) {
      return Drop{
          DropReason::interval_mismatch,
          fmt::format("interval {} s, ours {} s", a.interval_cs / 100, want.interval_cs / 100.0)};
    }
  }
  // keepalived's vrrp_skip_check_adv_addr: adverts from the master it already
  // knows skip the address-list check; any other sender is checked.
  const bool from_known_master = want.known_master.has_value() && *want.known_master == src;
  if (!(want.skip_check_adv_addr && from_known_master)) {
    if (auto d = checkAddresses(a, want)) return d;
  }
  return std::nullopt;
}

}  // namespace vrrpd
