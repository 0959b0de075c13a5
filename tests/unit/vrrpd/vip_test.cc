// virtual_ipaddress grammar: IP[/len] [dev IF] [label L] [scope S].
#include <catch2/catch.hpp>

#include "vrrpd/io/vip_manager.h"

using vrrpd::parseVip;

TEST_CASE("parseVip: a bare address is /32 or /128", "[vip]") {
  auto v = parseVip("192.0.2.100");
  REQUIRE(v);
  CHECK(v->addr.toString() == "192.0.2.100");
  CHECK(v->prefix == -1);
  CHECK(v->prefixLength() == 32);
  CHECK(v->dev.empty());
  CHECK(v->label.empty());
  CHECK(v->scope == "global");
  CHECK(v->toString() == "192.0.2.100/32");

  auto v6 = parseVip("2001:db8::100");
  REQUIRE(v6);
  CHECK(v6->prefixLength() == 128);
  CHECK(v6->toString() == "2001:db8::100/128");
}

TEST_CASE("parseVip: prefix, dev, label and scope in any order", "[vip]") {
  auto v = parseVip("  192.0.2.100/24   label eth0:vip\tscope link dev eth0 ");
  REQUIRE(v);
  CHECK(v->prefixLength() == 24);
  CHECK(v->dev == "eth0");
  CHECK(v->label == "eth0:vip");
  CHECK(v->scope == "link");
  CHECK(v->toString() == "192.0.2.100/24 dev eth0 label eth0:vip scope link");

  auto n = parseVip("198.51.100.1/0 scope 200");
  REQUIRE(n);
  CHECK(n->prefixLength() == 0);
  CHECK(n->scope == "200");

  auto v6 = parseVip("2001:db8::100/64 dev br0");
  REQUIRE(v6);
  CHECK(v6->prefixLength() == 64);
  CHECK(v6->toString() == "2001:db8::100/64 dev br0");
}

TEST_CASE("parseVip: every scope name", "[vip]") {
  for (const char* s : {"global", "site", "link", "host", "nowhere", "0", "255"}) {
    INFO(s);
    CHECK(parseVip(std::string("192.0.2.1 scope ") + s));
  }
}

TEST_CASE("parseVip: errors name the bad word", "[vip]") {
  auto check = [](const char* text, const char* word) {
    auto r = parseVip(text);
    INFO(text);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error(), Catch::Contains(word));
  };
  check("192.0.2.300", "\"192.0.2.300\"");
  check("vip.example", "\"vip.example\"");
  check("192.0.2.1/33", "\"33\"");
  check("2001:db8::1/129", "\"129\"");
  check("192.0.2.1/", "prefix length");
  check("192.0.2.1/24x", "\"24x\"");
  check("192.0.2.1/-1", "\"-1\"");
  check("192.0.2.1 device eth0", "\"device\"");
  check("192.0.2.1 dev", "\"dev\" needs a value");
  check("192.0.2.1 dev eth0 dev eth1", "\"dev\" given twice");
  check("192.0.2.1 scope universe", "\"universe\"");
  check("192.0.2.1 scope 256", "\"256\"");
  check("192.0.2.1 label a-label-that-is-too-long", "\"a-label-that-is-too-long\"");
  check("192.0.2.1 dev an-interface-name-too-long", "\"an-interface-name-too-long\"");
  check("   ", "empty");
}
