#include "proxyd/core/udp_session_table.h"

#include <catch2/catch.hpp>

#include "tests/unit/support/addresses.h"

using proxyd::ClientAddressHash;
using proxyd::UdpSessionTable;

namespace {
struct FakeSession {
  int id = 0;
};
}  // namespace

TEST_CASE("udp session table: one session per client address (IP and port)") {
  UdpSessionTable<FakeSession> table(8);
  FakeSession a{1}, b{2}, c{3};
  auto a_addr = test_support::socketAddress("192.0.2.1", 5353);
  CHECK(table.insert(a_addr, &a));
  CHECK(table.insert(test_support::socketAddress("192.0.2.1", 5354), &b));
  CHECK(table.insert(test_support::socketAddress("2001:db8::1", 5353), &c));
  CHECK_FALSE(table.insert(a_addr, &b));  // the address has its session
  CHECK(table.find(a_addr) == &a);
  CHECK(table.find(test_support::socketAddress("192.0.2.1", 5354)) == &b);
  CHECK(table.find(test_support::socketAddress("2001:db8::1", 5353)) == &c);
  CHECK(table.find(test_support::socketAddress("192.0.2.2", 5353)) == nullptr);
  CHECK(table.size() == 3);
}

TEST_CASE("udp session table: erase removes only the session's own entry") {
  UdpSessionTable<FakeSession> table(8);
  FakeSession old_one{1}, new_one{2};
  auto addr = test_support::socketAddress("198.51.100.7", 40000);
  REQUIRE(table.insert(addr, &old_one));
  table.erase(addr, &old_one);  // left at proxy_requests
  REQUIRE(table.insert(addr, &new_one));
  table.erase(addr, &old_one);  // the old one ends later: the new entry stays
  CHECK(table.find(addr) == &new_one);
  table.erase(addr, &new_one);
  CHECK(table.size() == 0);
}

TEST_CASE("udp session table: bounded") {
  UdpSessionTable<FakeSession> table(2);
  FakeSession s[3];
  CHECK(table.insert(test_support::socketAddress("203.0.113.1", 1), &s[0]));
  CHECK(table.insert(test_support::socketAddress("203.0.113.1", 2), &s[1]));
  CHECK_FALSE(table.insert(test_support::socketAddress("203.0.113.1", 3), &s[2]));
  CHECK(table.size() == 2);
}

TEST_CASE("udp session table: equal addresses hash alike") {
  ClientAddressHash h;
  CHECK(h(test_support::socketAddress("192.0.2.9", 53)) ==
        h(test_support::socketAddress("192.0.2.9", 53)));
  CHECK(h(test_support::socketAddress("2001:db8::9", 53)) ==
        h(test_support::socketAddress("2001:db8::9", 53)));
}
