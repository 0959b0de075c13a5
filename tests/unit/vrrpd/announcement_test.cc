#include "vrrpd/core/announcement.h"

#include "tests/unit/support/addresses.h"

#include <catch2/catch.hpp>

namespace {

const vrrpd::MacAddress kMac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

using test_support::ip;

}  // namespace

TEST_CASE("gratuitous ARP frame is keepalived's, byte for byte", "[announcement]") {
  const std::vector<std::uint8_t> expected = {
      // Ethernet: broadcast destination, our MAC, ARP
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
      // htype 1, ptype 0x0800, hlen 6, plen 4, op 1 (request)
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
      // sender: our MAC, the VIP
      0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 192, 0, 2, 100,
      // target: ff:ff:ff:ff:ff:ff as keepalived's vrrp_arp.c, the VIP again
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 192, 0, 2, 100};
  CHECK(vrrpd::buildGratuitousArp(kMac, ip("192.0.2.100")) == expected);
}

TEST_CASE("gratuitous ARP carries the given MAC and VIP", "[announcement]") {
  const vrrpd::MacAddress other = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  const auto f = vrrpd::buildGratuitousArp(other, ip("203.0.113.7"));
  REQUIRE(f.size() == 42);
  CHECK(std::vector<std::uint8_t>(f.begin() + 6, f.begin() + 12) ==
        std::vector<std::uint8_t>(other.begin(), other.end()));
  CHECK(std::vector<std::uint8_t>(f.begin() + 22, f.begin() + 28) ==
        std::vector<std::uint8_t>(other.begin(), other.end()));
  const std::vector<std::uint8_t> vip = {203, 0, 113, 7};
  CHECK(std::vector<std::uint8_t>(f.begin() + 28, f.begin() + 32) == vip);
  CHECK(std::vector<std::uint8_t>(f.begin() + 38, f.begin() + 42) == vip);
}

TEST_CASE("unsolicited NA: Override only, target and its link-layer address", "[announcement]") {
  const std::vector<std::uint8_t> expected = {
      136, 0,         // neighbour advertisement, code 0
      0, 0,           // checksum: left to the kernel
      0x20, 0, 0, 0,  // R=0 S=0 O=1, reserved
      // target 2001:db8::100
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
      // option 2 (target link-layer address), length 1 (8 bytes), the MAC
      2, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  CHECK(vrrpd::buildUnsolicitedNa(kMac, ip("2001:db8::100")) == expected);
}
