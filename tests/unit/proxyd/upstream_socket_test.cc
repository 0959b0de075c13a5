#include "proxyd/core/upstream_socket.h"

#include <netinet/in.h>

#include <catch2/catch.hpp>

using proxyd::parseBindAddress;
using proxyd::parseProxyBind;

TEST_CASE("proxy_bind: an address, with or without a port", "[upstream_socket]") {
  auto b = parseProxyBind("192.0.2.1");
  REQUIRE(b.ok());
  REQUIRE(*b);
  CHECK((*b)->value == "192.0.2.1");
  REQUIRE((*b)->address);
  CHECK((*b)->address->toString() == "192.0.2.1:0");
  CHECK_FALSE((*b)->transparent);
  CHECK(parseBindAddress("192.0.2.1:5000")->toString() == "192.0.2.1:5000");
  CHECK(parseBindAddress("2001:db8::1")->toString() == "[2001:db8::1]:0");
  CHECK(parseBindAddress("[2001:db8::1]:5000")->toString() == "[2001:db8::1]:5000");
  // What ngx_parse_addr_port declines.
  for (const char* bad : {"", "example.com", "192.0.2.1:0", "192.0.2.1:65536", "[2001:db8::1]",
                          "192.0.2.1:x", "unix:/x", "fe80::1%lo"}) {
    INFO(bad);
    CHECK_FALSE(parseBindAddress(bad));
  }
}

TEST_CASE("proxy_bind: transparent, off, variables and nginx's errors", "[upstream_socket]") {
  auto t = parseProxyBind("192.0.2.1 transparent");
  REQUIRE(t.ok());
  CHECK((*t)->transparent);
  auto off = parseProxyBind("off");
  REQUIRE(off.ok());
  CHECK_FALSE(*off);
  auto var = parseProxyBind("$bind_addr transparent");
  REQUIRE(var.ok());
  CHECK((*var)->hasVariables());
  CHECK_FALSE((*var)->address);  // evaluated per session
  CHECK(parseProxyBind("example.com").error() == "invalid address \"example.com\"");
  CHECK(parseProxyBind("192.0.2.1 opaque").error() == "invalid parameter \"opaque\"");
  CHECK_FALSE(parseProxyBind("").ok());
  CHECK_FALSE(parseProxyBind("192.0.2.1 transparent x").ok());
}
