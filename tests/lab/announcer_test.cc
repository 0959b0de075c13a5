// Gratuitous ARP and unsolicited NA as the far end of a veth sees them.
#include "vrrpd/io/announcer.h"

#include <linux/if_ether.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/lab/lab_net.h"
#include "vrrpd/core/vrrp_packet.h"
#include "vrrpd/io/vip_manager.h"

namespace {

common::IpAddress ip(const char* text) {
  return *common::IpAddress::parse(text);
}

// The next frame whose bytes [at, at + want.size()) equal `want`.
std::vector<std::uint8_t> frameWith(int fd, std::size_t at, const std::vector<std::uint8_t>& want) {
  for (int i = 0; i < 50; ++i) {
    auto f = lab::nextFrame(fd);
    if (f.empty()) return f;
    if (f.size() >= at + want.size() && std::equal(want.begin(), want.end(), f.begin() + at))
      return f;
  }
  return {};
}

// ICMPv6 frames carrying an NA whose target is `vip`: Ethernet 14 + IPv6 40,
// then type 136 ... target at ICMPv6 offset 8.
std::vector<std::uint8_t> naFor(int fd, const common::IpAddress& vip) {
  for (int i = 0; i < 50; ++i) {
    auto f = lab::nextFrame(fd);
    if (f.empty()) return f;
    if (f.size() >= 54 + 24 && f[20] == 58 && f[54] == 136 &&
        std::equal(vip.bytes(), vip.bytes() + 16, f.begin() + 62))
      return f;
  }
  return {};
}

void checkNa(const std::vector<std::uint8_t>& f, const vrrpd::MacAddress& mac,
             const common::IpAddress& vip, const common::IpAddress& src) {
  const auto body = vrrpd::buildUnsolicitedNa(mac, vip);
  REQUIRE(f.size() == 14 + 40 + body.size());
  // Ethernet: 33:33:00:00:00:01 (RFC 2464 7), from our MAC, IPv6.
  CHECK(std::vector<std::uint8_t>(f.begin(), f.begin() + 6) ==
        std::vector<std::uint8_t>{0x33, 0x33, 0, 0, 0, 1});
  CHECK(std::equal(mac.begin(), mac.end(), f.begin() + 6));
  CHECK(f[12] == 0x86);
  CHECK(f[13] == 0xdd);
  CHECK(f[21] == 255);  // hop limit
  CHECK(std::equal(src.bytes(), src.bytes() + 16, f.begin() + 22));
  const auto all_nodes = ip("ff02::1");
  CHECK(std::equal(all_nodes.bytes(), all_nodes.bytes() + 16, f.begin() + 38));
  std::vector<std::uint8_t> icmp(f.begin() + 54, f.end());
  // The kernel's checksum over the pseudo-header.
  std::vector<std::uint8_t> pseudo(f.begin() + 22, f.begin() + 54);
  pseudo.insert(pseudo.end(), {0, 0, 0, static_cast<std::uint8_t>(icmp.size()), 0, 0, 0, 58});
  pseudo.insert(pseudo.end(), icmp.begin(), icmp.end());
  CHECK(vrrpd::internetChecksum({std::span<const std::uint8_t>(pseudo)}) == 0);
  icmp[2] = icmp[3] = 0;
  CHECK(icmp == body);
}

}  // namespace

TEST_CASE("Announcer: gratuitous ARP arrives byte for byte", "[lab][announcer]") {
  lab::VethLink link;
  auto a = vrrpd::Announcer::open(link.near_info);
  REQUIRE(a);
  common::UniqueFd wire;
  {
    lab::InNetNs in(link.peer);
    wire = lab::capture(link.far_info.index, ETH_P_ARP);
  }
  const auto vip = ip("192.0.2.100");
  REQUIRE(a->announce(vip));
  // Sender protocol address (offset 28) = the VIP.
  const auto f = frameWith(wire.get(), 28, {192, 0, 2, 100});
  const auto expected = vrrpd::buildGratuitousArp(link.near_info.mac, vip);
  REQUIRE(f.size() >= expected.size());
  CHECK(std::vector<std::uint8_t>(f.begin(), f.begin() + 42) == expected);
  // Anything past 42 bytes is Ethernet padding.
  CHECK(std::all_of(f.begin() + 42, f.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST_CASE("Announcer: unsolicited NA from the VIP to ff02::1", "[lab][announcer]") {
  lab::VethLink link;
  auto vm = vrrpd::NetlinkVipManager::open();
  REQUIRE(vm);
  const auto v = vrrpd::parseVip("2001:db8::100/64");
  REQUIRE(v);
  REQUIRE((*vm)->add(*v, link.near_info.index));
  auto a = vrrpd::Announcer::open(link.near_info);
  REQUIRE(a);
  common::UniqueFd wire;
  {
    lab::InNetNs in(link.peer);
    wire = lab::capture(link.far_info.index, ETH_P_IPV6);
  }
  REQUIRE(a->announce(v->addr));
  const auto f = naFor(wire.get(), v->addr);
  REQUIRE_FALSE(f.empty());
  // keepalived sends it from the VIP itself.
  checkNa(f, link.near_info.mac, v->addr, v->addr);
}

TEST_CASE("Announcer: NA for a VIP not on the interface comes from the link-local",
          "[lab][announcer]") {
  lab::VethLink link;
  auto a = vrrpd::Announcer::open(link.near_info);
  REQUIRE(a);
  common::UniqueFd wire;
  {
    lab::InNetNs in(link.peer);
    wire = lab::capture(link.far_info.index, ETH_P_IPV6);
  }
  const auto vip = ip("2001:db8::200");
  REQUIRE(a->announce(vip));
  const auto f = naFor(wire.get(), vip);
  REQUIRE_FALSE(f.empty());
  checkNa(f, link.near_info.mac, vip, *link.near_info.link_local_v6);
}
