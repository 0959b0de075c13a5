// lookupInterface() against real veth interfaces in the lab namespace.
#include "vrrpd/io/interface_info.h"

#include <net/if.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "tests/lab/lab_net.h"

namespace {

// The MAC `ip -o link show` prints after "link/ether".
vrrpd::MacAddress macOf(const std::string& ifname) {
  const std::string out = lab::mustRun({"ip", "-o", "link", "show", "dev", ifname});
  const auto at = out.find("link/ether ");
  REQUIRE(at != std::string::npos);
  vrrpd::MacAddress mac{};
  unsigned m[6];
  REQUIRE(std::sscanf(out.c_str() + at + 11, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
                      &m[5]) == 6);
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(m[i]);
  return mac;
}

}  // namespace

TEST_CASE("lookupInterface: index, MAC, state, primary and link-local", "[lab][interface]") {
  lab::VethLink link;
  // A secondary in the same /24 and a /32 VIP outside it must not be taken
  // for the primary address.
  lab::mustRun({"ip", "addr", "add", "192.0.2.5/24", "dev", "v0"});
  lab::mustRun({"ip", "addr", "add", "203.0.113.10/32", "dev", "v0"});

  auto info = vrrpd::lookupInterface("v0");
  REQUIRE(info);
  CHECK(info->name == "v0");
  CHECK(info->index == static_cast<int>(::if_nametoindex("v0")));
  CHECK(info->mac == macOf("v0"));
  CHECK(info->up);
  REQUIRE(info->primary_v4);
  CHECK(info->primary_v4->toString() == "192.0.2.1");
  REQUIRE(info->link_local_v6);
  CHECK(info->link_local_v6->toString().rfind("fe80::", 0) == 0);
}

TEST_CASE("lookupInterface: up needs IFF_UP and IFF_RUNNING", "[lab][interface]") {
  lab::VethLink link;
  // The far end down: v0 is administratively up but has no carrier.
  link.peerIp({"link", "set", "p0", "down"});
  // IFF_RUNNING follows the carrier through the kernel's link watch, which
  // may lag by up to a second.
  bool up = true;
  for (int i = 0; i < 150 && up; ++i) {
    auto no_carrier = vrrpd::lookupInterface("v0");
    REQUIRE(no_carrier);
    up = no_carrier->up;
    if (up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(up);

  lab::mustRun({"ip", "link", "set", "v0", "down"});
  auto down = vrrpd::lookupInterface("v0");
  REQUIRE(down);
  CHECK_FALSE(down->up);
}

TEST_CASE("lookupInterface: an interface without IPv4 has no primary", "[lab][interface]") {
  lab::VethLink link;
  lab::mustRun({"ip", "-4", "addr", "flush", "dev", "v0"});
  auto info = vrrpd::lookupInterface("v0");
  REQUIRE(info);
  CHECK_FALSE(info->primary_v4);
}

TEST_CASE("lookupInterface: an unknown interface is an error naming it", "[lab][interface]") {
  auto info = vrrpd::lookupInterface("nosuch0");
  REQUIRE_FALSE(info);
  CHECK_THAT(info.error(), Catch::Contains("nosuch0"));
}
