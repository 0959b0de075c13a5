#include "proxyd/core/pass_address.h"

#include <catch2/catch.hpp>

#include <string>

using proxyd::parsePassAddress;
using proxyd::passMatches;

namespace {

common::SocketAddress ip(const char* host, std::uint16_t port) {
  return *common::SocketAddress::fromNumeric(host, port);
}

std::string errorOf(const char* text) {
  auto r = parsePassAddress(text);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("pass: numeric addresses only, as nginx parses them unresolved", "[pass]") {
  CHECK(parsePassAddress("127.0.0.1:8443")->toString() == "127.0.0.1:8443");
  CHECK(parsePassAddress("[::1]:8443")->toString() == "[::1]:8443");
  CHECK(parsePassAddress("unix:/run/tls.sock")->toString() == "unix:/run/tls.sock");
  CHECK(errorOf("127.0.0.1") == "has no port");
  CHECK(errorOf("8443") == "has no port");
  CHECK(errorOf("*:8443") == "has no addresses");
  CHECK(errorOf("backend.example:8443") == "has no addresses");
  CHECK_FALSE(parsePassAddress("127.0.0.1:70000").ok());
}

TEST_CASE("pass: which listener takes the connection", "[pass]") {
  CHECK(passMatches(ip("127.0.0.1", 8443), ip("127.0.0.1", 8443)));
  CHECK_FALSE(passMatches(ip("127.0.0.1", 8443), ip("127.0.0.2", 8443)));
  CHECK(passMatches(ip("0.0.0.0", 8443), ip("192.0.2.7", 8443)));
  CHECK_FALSE(passMatches(ip("0.0.0.0", 8443), ip("192.0.2.7", 8444)));
  CHECK_FALSE(passMatches(ip("::", 8443), ip("192.0.2.7", 8443)));  // another family
  CHECK(passMatches(ip("::", 8443), ip("2001:db8::1", 8443)));
}
