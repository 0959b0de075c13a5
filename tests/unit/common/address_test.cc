#include "common/address.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <set>
#include <string>

using common::Cidr;
using common::parseListenAddress;
using common::resolve;
using common::SocketAddress;
using common::splitHostPort;

namespace {

SocketAddress addr(const std::string& host, std::uint16_t port = 0) {
  auto r = SocketAddress::fromNumeric(host, port);
  INFO("fromNumeric(\"" << host << "\"): " << (r.ok() ? "" : r.error()));
  REQUIRE(r.ok());
  return *r;
}

Cidr cidr(const std::string& text) {
  auto r = Cidr::parse(text);
  INFO("Cidr::parse(\"" << text << "\"): " << (r.ok() ? "" : r.error()));
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("SocketAddress: IPv4 text as nginx prints it", "[address]") {
  auto a = addr("192.0.2.1", 80);
  CHECK(a.family() == AF_INET);
  CHECK(a.len() == sizeof(sockaddr_in));
  CHECK(a.port() == 80);
  CHECK(a.hostText() == "192.0.2.1");
  CHECK(a.toString() == "192.0.2.1:80");
  CHECK_FALSE(a.isWildcard());
  CHECK(addr("0.0.0.0", 1).isWildcard());
  CHECK(addr("255.255.255.255", 65535).toString() == "255.255.255.255:65535");
}

TEST_CASE("SocketAddress: IPv6 text as nginx prints it", "[address]") {
  auto a = addr("2001:db8::1", 80);
  CHECK(a.family() == AF_INET6);
  CHECK(a.len() == sizeof(sockaddr_in6));
  CHECK(a.hostText() == "2001:db8::1");
  CHECK(a.toString() == "[2001:db8::1]:80");
  CHECK(addr("::", 443).toString() == "[::]:443");
  CHECK(addr("::").isWildcard());
  CHECK_FALSE(addr("::1").isWildcard());

  // Known vectors for nginx's ngx_inet6_ntop().
  CHECK(addr("::1").hostText() == "::1");
  CHECK(addr("::").hostText() == "::");
  CHECK(addr("fe80::").hostText() == "fe80::");
  CHECK(addr("2001:DB8::A").hostText() == "2001:db8::a");
  CHECK(addr("2001:db8:0:0:1:0:0:1").hostText() == "2001:db8::1:0:0:1");     // first longest run
  CHECK(addr("2001:db8:0:1:1:1:1:1").hostText() == "2001:db8:0:1:1:1:1:1");  // one zero: kept
  CHECK(addr("2001:0db8:0000:0000:0000:ff00:0042:8329").hostText() == "2001:db8::ff00:42:8329");
  CHECK(addr("1:0:0:2:0:0:0:3").hostText() == "1:0:0:2::3");  // the longer run wins
  CHECK(addr("::2").hostText() == "::2");
  // IPv4-mapped (a client of a dual-stack listener) and IPv4-compatible.
  CHECK(addr("::ffff:192.0.2.1", 80).hostText() == "::ffff:192.0.2.1");
  CHECK(addr("::ffff:c000:0201", 80).toString() == "[::ffff:192.0.2.1]:80");
  CHECK(addr("::192.0.2.1").hostText() == "::192.0.2.1");
  CHECK(addr("::102").hostText() == "::0.0.1.2");  // nginx's own quirk, kept on purpose
}

TEST_CASE("SocketAddress: from a sockaddr, ports, equality", "[address]") {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(8080);
  REQUIRE(inet_pton(AF_INET, "198.51.100.7", &sin.sin_addr) == 1);
  SocketAddress a(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
  CHECK(a.toString() == "198.51.100.7:8080");
  CHECK(a == addr("198.51.100.7", 8080));
  CHECK_FALSE(a == addr("198.51.100.7", 8081));
  CHECK_FALSE(a == addr("198.51.100.8", 8080));
  CHECK_FALSE(addr("::ffff:198.51.100.7", 8080) == a);  // different families
  a.setPort(9);
  CHECK(a.port() == 9);
  CHECK(a.toString() == "198.51.100.7:9");

  auto b = addr("2001:db8::5", 1);
  b.setPort(65535);
  CHECK(b.toString() == "[2001:db8::5]:65535");

  SocketAddress empty;
  CHECK(empty.empty());
  CHECK(empty.port() == 0);
  CHECK(empty.toString().empty());
  CHECK_FALSE(empty.isWildcard());
}

TEST_CASE("SocketAddress::fromNumeric rejects names and sloppy forms", "[address]") {
  for (const char* bad : {"", "localhost", "127.1", "0x7f.0.0.1", "1.2.3.4.5", "256.0.0.1",
                          "1.2.3.4 ", "[::1]", "2001:db8::g", "::1%no-such-if0"}) {
    INFO(bad);
    CHECK_FALSE(SocketAddress::fromNumeric(bad, 80).ok());
  }
  auto r = SocketAddress::fromNumeric("example.org", 80);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "invalid address \"example.org\" (expected an IPv4 or IPv6 address)");
  auto scoped = SocketAddress::fromNumeric("fe80::1%1", 80);
  REQUIRE(scoped.ok());
  CHECK(reinterpret_cast<const sockaddr_in6*>(scoped->sa())->sin6_scope_id == 1);
  CHECK(scoped->hostText() == "fe80::1");
}

TEST_CASE("splitHostPort", "[address]") {
  struct Case {
    const char* text;
    const char* host;
    const char* port;
  };
  for (const Case& c : {
           Case{"10443", "", "10443"},
           Case{"*:10443", "", "10443"},
           Case{"0.0.0.0:10443", "0.0.0.0", "10443"},
           Case{"192.0.2.1:80", "192.0.2.1", "80"},
           Case{"[::]:10443", "::", "10443"},
           Case{"[2001:db8::1]:6443", "2001:db8::1", "6443"},
           Case{"localhost:1", "localhost", "1"},
           Case{"backend.example:65535", "backend.example", "65535"},
       }) {
    INFO(c.text);
    auto r = splitHostPort(c.text);
    REQUIRE(r.ok());
    CHECK(r->host == c.host);
    CHECK(r->port == c.port);
  }
  for (const char* bad : {"", "localhost", "[::1]", "2001:db8::1", "2001:db8::1:80", "host:", ":80",
                          "host:0", "host:65536", "host:99999999", "host:http", "[::1]80",
                          "[::1]:", "[]:80", "[::1:80", "host:-1", "host:+80"}) {
    INFO(bad);
    CHECK_FALSE(splitHostPort(bad).ok());
  }
  auto v6 = splitHostPort("2001:db8::1:80");
  REQUIRE_FALSE(v6.ok());
  CHECK(v6.error().find("brackets") != std::string::npos);
  CHECK(splitHostPort("host:0").error() ==
        "invalid port in \"host:0\" (expected a number from 1 to 65535)");
}

TEST_CASE("splitHostPort without a required port", "[address]") {
  auto name = splitHostPort("backend.example", false);
  REQUIRE(name.ok());
  CHECK(name->host == "backend.example");
  CHECK(name->port.empty());

  auto v6 = splitHostPort("[2001:db8::1]", false);
  REQUIRE(v6.ok());
  CHECK(v6->host == "2001:db8::1");
  CHECK(v6->port.empty());

  auto bare6 = splitHostPort("2001:db8::1", false);
  REQUIRE(bare6.ok());
  CHECK(bare6->host == "2001:db8::1");

  auto with_port = splitHostPort("192.0.2.1:8080", false);
  REQUIRE(with_port.ok());
  CHECK(with_port->host == "192.0.2.1");
  CHECK(with_port->port == "8080");

  CHECK_FALSE(splitHostPort("", false).ok());
  CHECK_FALSE(splitHostPort("host:", false).ok());
}

TEST_CASE("resolve: numeric addresses and localhost, no network", "[address]") {
  auto v4 = resolve("192.0.2.9", 443);
  REQUIRE(v4.ok());
  REQUIRE(v4->size() == 1);
  CHECK(v4->front().toString() == "192.0.2.9:443");

  auto v6 = resolve("2001:db8::9", 443);
  REQUIRE(v6.ok());
  REQUIRE(v6->size() == 1);
  CHECK(v6->front().toString() == "[2001:db8::9]:443");

  auto local = resolve("localhost", 8080);
  REQUIRE(local.ok());
  REQUIRE_FALSE(local->empty());
  std::set<std::string> seen;
  for (const auto& a : *local) {
    INFO(a.toString());
    CHECK(a.port() == 8080);
    CHECK((a.toString() == "127.0.0.1:8080" || a.toString() == "[::1]:8080"));
    CHECK(seen.insert(a.toString()).second);  // duplicates removed (SOCK_STREAM only)
  }

  auto empty = resolve("", 80);
  REQUIRE_FALSE(empty.ok());
}

TEST_CASE("parseListenAddress", "[address]") {
  struct Case {
    const char* text;
    const char* want;
  };
  for (const Case& c : {
           Case{"10443", "0.0.0.0:10443"},
           Case{"*:10443", "0.0.0.0:10443"},
           Case{"0.0.0.0:10443", "0.0.0.0:10443"},
           Case{"192.0.2.1:10443", "192.0.2.1:10443"},
           Case{"[::]:10443", "[::]:10443"},
           Case{"[::1]:10443", "[::1]:10443"},
       }) {
    INFO(c.text);
    auto r = parseListenAddress(c.text);
    REQUIRE(r.ok());
    CHECK(r->toString() == c.want);
  }
  CHECK(parseListenAddress("10443")->isWildcard());

  auto local = parseListenAddress("localhost:10443");
  REQUIRE(local.ok());
  CHECK((local->toString() == "127.0.0.1:10443" || local->toString() == "[::1]:10443"));

  for (const char* bad : {"", "0", "65536", "localhost", "::1:80", "[::1]", "1.2.3.4:"}) {
    INFO(bad);
    CHECK_FALSE(parseListenAddress(bad).ok());
  }
}

TEST_CASE("Cidr: IPv4 networks", "[address]") {
  auto loop = cidr("127.0.0.0/8");
  CHECK(loop.contains(addr("127.0.0.1", 5)));
  CHECK(loop.contains(addr("127.255.255.255")));
  CHECK_FALSE(loop.contains(addr("128.0.0.1")));
  CHECK_FALSE(loop.contains(addr("126.255.255.255")));
  CHECK_FALSE(loop.matchesAll());

  auto odd = cidr("192.0.2.128/25");
  CHECK(odd.contains(addr("192.0.2.128")));
  CHECK(odd.contains(addr("192.0.2.255")));
  CHECK_FALSE(odd.contains(addr("192.0.2.127")));

  auto narrow = cidr("192.0.2.4/30");
  CHECK(narrow.contains(addr("192.0.2.7")));
  CHECK_FALSE(narrow.contains(addr("192.0.2.8")));

  auto host = cidr("192.0.2.1");  // a bare address is /32
  CHECK(host.contains(addr("192.0.2.1")));
  CHECK_FALSE(host.contains(addr("192.0.2.2")));

  auto any4 = cidr("0.0.0.0/0");
  CHECK(any4.contains(addr("203.0.113.1")));
  CHECK_FALSE(any4.contains(addr("2001:db8::1")));  // IPv4 rules never match native IPv6

  // As nginx: host bits set below the prefix are ignored.
  auto sloppy = cidr("192.0.2.77/24");
  CHECK(sloppy.contains(addr("192.0.2.1")));
  CHECK_FALSE(sloppy.contains(addr("192.0.3.1")));
}

TEST_CASE("Cidr: IPv4 rules match IPv4-mapped IPv6 clients", "[address]") {
  auto loop = cidr("127.0.0.0/8");
  CHECK(loop.contains(addr("::ffff:127.0.0.1")));
  CHECK_FALSE(loop.contains(addr("::ffff:10.0.0.1")));
  CHECK_FALSE(loop.contains(addr("::127.0.0.1")));  // IPv4-compatible is not mapped
  CHECK_FALSE(loop.contains(addr("64:ff9b::127.0.0.1")));
  CHECK(cidr("192.0.2.1").contains(addr("::ffff:192.0.2.1")));
}

TEST_CASE("Cidr: IPv6 networks", "[address]") {
  auto doc = cidr("2001:db8::/32");
  CHECK(doc.contains(addr("2001:db8::1")));
  CHECK(doc.contains(addr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  CHECK_FALSE(doc.contains(addr("2001:db9::1")));
  CHECK_FALSE(doc.contains(addr("192.0.2.1")));

  auto odd = cidr("2001:db8::/33");
  CHECK(odd.contains(addr("2001:db8:7fff::1")));
  CHECK_FALSE(odd.contains(addr("2001:db8:8000::1")));

  auto one = cidr("::1");
  CHECK(one.contains(addr("::1")));
  CHECK_FALSE(one.contains(addr("::2")));
  CHECK(cidr("::1/128").contains(addr("::1")));
  CHECK(cidr("::/0").contains(addr("2001:db8::1")));
}

TEST_CASE("Cidr: all, and errors", "[address]") {
  auto all = cidr("all");
  CHECK(all.matchesAll());
  CHECK(all.contains(addr("192.0.2.1")));
  CHECK(all.contains(addr("2001:db8::1")));

  for (const char* bad :
       {"", "ALL", "any", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/", "192.0.2.0/-1",
        "192.0.2.0/8x", "/8", "192.0.2/24", "example.org", "192.0.2.0/24/1", "fe80::1%1/64"}) {
    INFO(bad);
    CHECK_FALSE(Cidr::parse(bad).ok());
  }
  auto r = Cidr::parse("192.0.2.0/33");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "invalid network \"192.0.2.0/33\" (the prefix length must be 0 to 32)");
}

TEST_CASE("SocketAddress: UNIX paths as nginx prints and refuses them", "[address]") {
  auto a = SocketAddress::fromUnixPath("/run/proxyd/api.sock");
  REQUIRE(a.ok());
  CHECK(a->family() == AF_UNIX);
  CHECK(a->unixPath() == "/run/proxyd/api.sock");
  CHECK(a->hostText() == "unix:/run/proxyd/api.sock");
  CHECK(a->toString() == "unix:/run/proxyd/api.sock");
  CHECK(a->port() == 0);
  CHECK_FALSE(a->isWildcard());
  CHECK(*a == *SocketAddress::fromUnixPath("/run/proxyd/api.sock"));
  CHECK_FALSE(*a == *SocketAddress::fromUnixPath("/run/proxyd/api.sock2"));
  // "@x" is a file named so, as in nginx (no abstract names in its syntax).
  CHECK(SocketAddress::fromUnixPath("@x")->unixPath() == "@x");

  CHECK(SocketAddress::fromUnixPath("").error() == "no path in the unix domain socket");
  // sun_path holds 108 bytes with the NUL: 107 characters at most.
  CHECK(SocketAddress::fromUnixPath(std::string(107, 'a')).ok());
  CHECK(SocketAddress::fromUnixPath(std::string(108, 'a')).error() ==
        "too long path in the unix domain socket");
  CHECK_FALSE(SocketAddress::fromUnixPath(std::string("a\0b", 3)).ok());
}

TEST_CASE("SocketAddress: a UNIX peer as accept() gives it reads unix:", "[address]") {
  // An unnamed client: Linux gives only the family (2 bytes).
  sockaddr_un unnamed{};
  unnamed.sun_family = AF_UNIX;
  SocketAddress peer(reinterpret_cast<const sockaddr*>(&unnamed), sizeof(sa_family_t));
  CHECK(peer.hostText() == "unix:");
  CHECK(peer.toString() == "unix:");
  // An abstract name starts with a NUL: nginx prints nothing of it.
  sockaddr_un abstract{};
  abstract.sun_family = AF_UNIX;
  std::memcpy(abstract.sun_path, "\0name", 5);
  SocketAddress ab(reinterpret_cast<const sockaddr*>(&abstract),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 5));
  CHECK(ab.hostText() == "unix:");
  CHECK(ab.unixPath().empty());
}

TEST_CASE("parseListenAddress: unix: in any case, with nginx's errors", "[address]") {
  CHECK(parseListenAddress("unix:/tmp/x.sock")->toString() == "unix:/tmp/x.sock");
  CHECK(parseListenAddress("UNIX:/tmp/x.sock")->unixPath() == "/tmp/x.sock");
  CHECK(parseListenAddress("unix:").error() == "no path in the unix domain socket in \"unix:\"");
  CHECK(common::hasUnixPrefix("Unix:/x"));
  CHECK_FALSE(common::hasUnixPrefix("unix"));
  CHECK_FALSE(common::hasUnixPrefix("127.0.0.1:80"));
}
