// An instance's section turned into its source address, its advert, its
// receive expectation and its machine's settings.
#include "vrrpd/core/instance_setup.h"

#include <sys/socket.h>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace vrrpd;

namespace {

common::IpAddress ip(const char* text) {
  return *common::IpAddress::parse(text);
}

InstanceSection section() {
  InstanceSection s;
  s.name = "VI_1";
  s.vrid = 51;
  s.priority = 120;
  s.advert_interval = 2s;
  Vip v;
  v.addr = ip("192.0.2.100");
  s.vips.push_back(v);
  return s;
}

}  // namespace

TEST_CASE("instance setup: the source address as keepalived picks it", "[instance_setup]") {
  InstanceSection s = section();
  const auto v4 = std::optional(ip("192.0.2.11"));
  const auto ll = std::optional(ip("fe80::11"));
  CHECK(pickSourceAddress(s, AF_INET, v4, ll) == ip("192.0.2.11"));
  CHECK(pickSourceAddress(s, AF_INET6, v4, ll) == ip("fe80::11"));
  CHECK(pickSourceAddress(s, AF_INET, std::nullopt, ll).empty());
  s.mcast_src_ip = ip("192.0.2.12");
  CHECK(pickSourceAddress(s, AF_INET, v4, ll) == ip("192.0.2.12"));
  s.unicast_src_ip = ip("192.0.2.13");
  CHECK(pickSourceAddress(s, AF_INET, v4, ll) == ip("192.0.2.13"));
}

TEST_CASE("instance setup: the advert carries the password in v2 only", "[instance_setup]") {
  InstanceSection s = section();
  s.auth_type = AuthType::pass;
  s.auth_pass = "secret";
  Advert v2 = advertTemplate(s, 2);
  CHECK(v2.vrid == 51);
  CHECK(v2.interval_cs == 200);
  CHECK(v2.auth_type == AuthType::pass);
  CHECK(v2.auth_data == passwordBytes("secret"));
  CHECK(v2.addrs == std::vector<common::IpAddress>{ip("192.0.2.100")});
  Advert v3 = advertTemplate(s, 3);
  CHECK(v3.version == 3);
  CHECK(v3.auth_type == AuthType::none);
  CHECK(v3.auth_data == std::array<std::uint8_t, 8>{});
}

TEST_CASE("instance setup: the expectation follows the advert and the globals",
          "[instance_setup]") {
  InstanceSection s = section();
  s.unicast_peers = {ip("192.0.2.12")};
  InstanceGlobals g;
  Advert ours = advertTemplate(s, 2);
  auto e = advertExpectation(s, g, ours, ip("192.0.2.11"));
  CHECK(e.vrid == 51);
  CHECK(e.unicast);
  CHECK(e.interval_cs == 200);
  CHECK(e.own_addresses == std::vector<common::IpAddress>{ip("192.0.2.11")});
  CHECK(e.unicast_peers.empty());  // vrrp_check_unicast_src is off
  g.check_unicast_src = true;
  g.skip_check_adv_addr = true;
  e = advertExpectation(s, g, ours, {});
  CHECK(e.own_addresses.empty());
  CHECK(e.unicast_peers == s.unicast_peers);
  CHECK(e.skip_check_adv_addr);
}

TEST_CASE("instance setup: the machine's settings", "[instance_setup]") {
  InstanceSection s = section();
  s.preempt = false;
  s.garp_master_delay = 3s;
  MachineConfig mc = machineConfig(s, 3, ip("192.0.2.11"));
  CHECK(mc.version == 3);
  CHECK(mc.priority == 120);
  CHECK(mc.advert_interval == 2s);
  CHECK_FALSE(mc.preempt);
  CHECK(mc.primary == ip("192.0.2.11"));
  CHECK(mc.garp_master_delay == 3s);
}
