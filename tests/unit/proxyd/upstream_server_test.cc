#include "proxyd/core/upstream_server.h"

#include <netinet/in.h>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using proxyd::parseUpstreamServer;

TEST_CASE("upstream server: address only takes nginx's defaults", "[upstream_server]") {
  auto s = parseUpstreamServer("192.0.2.11:6443");
  REQUIRE(s.ok());
  CHECK(s->name == "192.0.2.11:6443");
  REQUIRE(s->addrs.size() == 1);
  CHECK(s->addrs[0].toString() == "192.0.2.11:6443");
  CHECK(s->weight == 1);
  CHECK(s->max_fails == 1);
  CHECK(s->fail_timeout == 10s);
  CHECK(s->max_conns == 0);
  CHECK_FALSE(s->backup);
  CHECK_FALSE(s->down);
}

TEST_CASE("upstream server: every parameter", "[upstream_server]") {
  auto s = parseUpstreamServer(
      "192.0.2.12:6443 weight=3 max_fails=0 fail_timeout=30s max_conns=100 backup down");
  REQUIRE(s.ok());
  CHECK(s->weight == 3);
  CHECK(s->max_fails == 0);
  CHECK(s->fail_timeout == 30s);
  CHECK(s->max_conns == 100);
  CHECK(s->backup);
  CHECK(s->down);

  auto t = parseUpstreamServer("  192.0.2.12:6443\tmax_fails=3   fail_timeout=1m  ");
  REQUIRE(t.ok());
  CHECK(t->max_fails == 3);
  CHECK(t->fail_timeout == 60s);
}

TEST_CASE("upstream server: bad parameters are named as nginx names them", "[upstream_server]") {
  auto typo = parseUpstreamServer("192.0.2.11:6443 wieght=2");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error() ==
        "invalid parameter \"wieght=2\" (expected weight=, max_fails=, fail_timeout=, "
        "max_conns=, backup, down, resolve or service=)");

  auto zero = parseUpstreamServer("192.0.2.11:6443 weight=0");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error() == "invalid weight \"0\" (expected a whole number from 1 to 100000)");

  CHECK_FALSE(parseUpstreamServer("192.0.2.11:6443 weight=-1").ok());
  CHECK_FALSE(parseUpstreamServer("192.0.2.11:6443 weight=abc").ok());
  CHECK_FALSE(parseUpstreamServer("192.0.2.11:6443 weight=").ok());
  CHECK_FALSE(parseUpstreamServer("192.0.2.11:6443 max_fails=x").ok());
  CHECK_FALSE(parseUpstreamServer("192.0.2.11:6443 max_conns=-5").ok());
  CHECK_FALSE(parseUpstreamServer("192.0.2.11:6443 fail_timeout=soon").ok());
  CHECK_THAT(parseUpstreamServer("192.0.2.11:6443 backups").error(),
             Catch::StartsWith("invalid parameter \"backups\" (expected weight="));
  // Parameters are checked before the address is looked up.
  CHECK_THAT(parseUpstreamServer("no.such.host.invalid:80 wieght=2").error(),
             Catch::StartsWith("invalid parameter \"wieght=2\" (expected"));
}

TEST_CASE("upstream server: the address", "[upstream_server]") {
  SECTION("IPv6 literal") {
    auto s = parseUpstreamServer("[::1]:80");
    REQUIRE(s.ok());
    CHECK(s->name == "[::1]:80");
    REQUIRE(s->addrs.size() == 1);
    CHECK(s->addrs[0].family() == AF_INET6);
    CHECK(s->addrs[0].port() == 80);
    CHECK(s->addrs[0].toString() == "[::1]:80");
  }
  SECTION("a name resolves to every address it has") {
    auto s = parseUpstreamServer("localhost:8080");
    REQUIRE(s.ok());
    CHECK(s->name == "localhost:8080");
    REQUIRE_FALSE(s->addrs.empty());
    for (const auto& a : s->addrs) CHECK(a.port() == 8080);
  }
  SECTION("unresolvable") {
    auto s = parseUpstreamServer("no.such.host.invalid:80");
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error(), Catch::Contains("no.such.host.invalid"));
  }
  SECTION("a port is required") {
    CHECK_FALSE(parseUpstreamServer("192.0.2.11").ok());
    CHECK_FALSE(parseUpstreamServer("192.0.2.11:0").ok());
    CHECK_FALSE(parseUpstreamServer("192.0.2.11:65536").ok());
  }
  SECTION("nothing at all") {
    CHECK_FALSE(parseUpstreamServer("   ").ok());
  }
}

TEST_CASE("upstream server: unix:PATH with parameters", "[upstream_server]") {
  auto s = parseUpstreamServer("unix:/run/backend.sock weight=2");
  REQUIRE(s.ok());
  CHECK(s->name == "unix:/run/backend.sock");
  REQUIRE(s->addrs.size() == 1);
  CHECK(s->addrs[0].family() == AF_UNIX);
  CHECK(s->addrs[0].toString() == "unix:/run/backend.sock");
  CHECK(s->weight == 2);
  CHECK(parseUpstreamServer("unix:").error() ==
        "no path in the unix domain socket in upstream \"unix:\"");
}
