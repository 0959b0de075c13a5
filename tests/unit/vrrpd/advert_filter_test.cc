#include "vrrpd/core/advert_filter.h"
#include "tests/unit/support/addresses.h"

#include <catch2/catch.hpp>

using common::IpAddress;
using vrrpd::Advert;
using vrrpd::AdvertExpectation;
using vrrpd::AuthType;
using vrrpd::DropReason;
using vrrpd::filterAdvert;

namespace {

using test_support::ip;

// The seed's VI_1 as a backup sees it: v2, VRID 51, PASS K8SHA_KA_AUTH,
// advert_int 1, two VIPs.
AdvertExpectation seedExpectation() {
  AdvertExpectation w;
  w.version = 2;
  w.vrid = 51;
  w.auth_type = AuthType::pass;
  w.auth_data = vrrpd::passwordBytes("K8SHA_KA_AUTH");
  w.interval_cs = 100;
  w.addrs = {ip("192.0.2.100"), ip("203.0.113.100")};
  w.own_addresses = {ip("192.0.2.11")};
  return w;
}

Advert seedAdvert() {
  Advert a;
  a.version = 2;
  a.vrid = 51;
  a.priority = 150;
  a.interval_cs = 100;
  a.auth_type = AuthType::pass;
  a.auth_data = vrrpd::passwordBytes("K8SHA_KA");
  a.addrs = {ip("192.0.2.100"), ip("203.0.113.100")};
  return a;
}

const IpAddress kPeer = ip("192.0.2.12");

std::optional<DropReason> reason(const Advert& a, const AdvertExpectation& w,
                                 const IpAddress& src = kPeer, std::uint8_t ttl = 255) {
  auto d = filterAdvert(a, src, ttl, w);
  if (!d) return std::nullopt;
  INFO(d->detail);
  CHECK_FALSE(d->detail.empty());
  return d->reason;
}

}  // namespace

TEST_CASE("filter accepts a matching v2 PASS advert", "[advert_filter]") {
  CHECK_FALSE(filterAdvert(seedAdvert(), kPeer, 255, seedExpectation()));
}

TEST_CASE("filter accepts priority 0", "[advert_filter]") {
  auto a = seedAdvert();
  a.priority = 0;
  CHECK_FALSE(filterAdvert(a, kPeer, 255, seedExpectation()));
}

TEST_CASE("filter: own packets", "[advert_filter]") {
  CHECK(reason(seedAdvert(), seedExpectation(), ip("192.0.2.11")) == DropReason::own_packet);
  // Own packets come first: a looped-back advert is not a TTL error.
  CHECK(reason(seedAdvert(), seedExpectation(), ip("192.0.2.11"), 1) == DropReason::own_packet);
}

TEST_CASE("filter: TTL must be 255 on multicast", "[advert_filter]") {
  auto d = filterAdvert(seedAdvert(), kPeer, 64, seedExpectation());
  REQUIRE(d);
  CHECK(d->reason == DropReason::bad_ttl);
  CHECK(d->detail == "TTL 64, expected 255");
  CHECK(reason(seedAdvert(), seedExpectation(), kPeer, 254) == DropReason::bad_ttl);
}

TEST_CASE("filter: unicast mode", "[advert_filter]") {
  auto w = seedExpectation();
  w.unicast = true;
  w.unicast_peers = {ip("192.0.2.12"), ip("192.0.2.13")};
  SECTION("TTL is not checked (keepalived)") {
    CHECK_FALSE(filterAdvert(seedAdvert(), kPeer, 61, w));
    CHECK_FALSE(filterAdvert(seedAdvert(), ip("192.0.2.13"), 1, w));
  }
  SECTION("the sender must be a unicast peer") {
    CHECK(reason(seedAdvert(), w, ip("192.0.2.99")) == DropReason::not_unicast_peer);
  }
  SECTION("no peer list: any sender") {
    w.unicast_peers.clear();
    CHECK_FALSE(filterAdvert(seedAdvert(), ip("192.0.2.99"), 64, w));
  }
}

TEST_CASE("filter: version", "[advert_filter]") {
  auto a = seedAdvert();
  a.version = 3;
  CHECK(reason(a, seedExpectation()) == DropReason::bad_version);
  auto w = seedExpectation();
  w.version = 3;
  CHECK(reason(seedAdvert(), w) == DropReason::bad_version);
}

TEST_CASE("filter: VRID", "[advert_filter]") {
  auto a = seedAdvert();
  a.vrid = 52;
  CHECK(reason(a, seedExpectation()) == DropReason::unknown_vrid);
}

TEST_CASE("filter: family", "[advert_filter]") {
  auto w = seedExpectation();
  w.version = 3;
  w.auth_type = AuthType::none;
  auto a = seedAdvert();
  a.version = 3;
  a.auth_type = AuthType::none;
  a.addrs = {ip("2001:db8::100")};
  CHECK(reason(a, w, ip("fe80::12")) == DropReason::family_mismatch);
}

TEST_CASE("filter: v2 authentication", "[advert_filter]") {
  SECTION("wrong type") {
    auto a = seedAdvert();
    a.auth_type = AuthType::none;
    a.auth_data = {};
    CHECK(reason(a, seedExpectation()) == DropReason::auth_mismatch);
    auto w = seedExpectation();
    w.auth_type = AuthType::none;
    w.auth_data = {};
    CHECK(reason(seedAdvert(), w) == DropReason::auth_mismatch);
    a.auth_type = static_cast<AuthType>(7);
    CHECK(reason(a, seedExpectation()) == DropReason::auth_mismatch);
  }
  SECTION("wrong password, any of the 8 bytes") {
    for (std::size_t i = 0; i < 8; ++i) {
      auto a = seedAdvert();
      a.auth_data[i] ^= 0x01;
      CHECK(reason(a, seedExpectation()) == DropReason::auth_mismatch);
    }
    auto a = seedAdvert();
    a.auth_data = vrrpd::passwordBytes("K8SHA_K");  // a prefix is not enough: NUL != 'A'
    CHECK(reason(a, seedExpectation()) == DropReason::auth_mismatch);
  }
  SECTION("auth none: the auth bytes are not compared") {
    auto w = seedExpectation();
    w.auth_type = AuthType::none;
    w.auth_data = {};
    auto a = seedAdvert();
    a.auth_type = AuthType::none;
    a.auth_data = vrrpd::passwordBytes("garbage");
    CHECK_FALSE(filterAdvert(a, kPeer, 255, w));
  }
  SECTION("v3 has no auth: our v2 auth settings do not apply") {
    auto w = seedExpectation();
    w.version = 3;
    auto a = seedAdvert();
    a.version = 3;
    a.auth_type = AuthType::none;
    a.auth_data = {};
    CHECK_FALSE(filterAdvert(a, kPeer, 255, w));
  }
}

TEST_CASE("filter: advert interval", "[advert_filter]") {
  SECTION("v2: a different interval is dropped") {
    auto a = seedAdvert();
    a.interval_cs = 200;
    auto d = filterAdvert(a, kPeer, 255, seedExpectation());
    REQUIRE(d);
    CHECK(d->reason == DropReason::interval_mismatch);
    CHECK(d->detail == "interval 2 s, ours 1 s");
  }
  SECTION("v3: a different interval is accepted (the backup adopts it)") {
    auto w = seedExpectation();
    w.version = 3;
    w.auth_type = AuthType::none;
    w.interval_cs = 100;
    auto a = seedAdvert();
    a.version = 3;
    a.auth_type = AuthType::none;
    a.interval_cs = 50;
    CHECK_FALSE(filterAdvert(a, kPeer, 255, w));
    a.interval_cs = 4095;
    CHECK_FALSE(filterAdvert(a, kPeer, 255, w));
  }
}

TEST_CASE("filter: address list", "[advert_filter]") {
  SECTION("order does not matter (keepalived looks each of ours up)") {
    auto a = seedAdvert();
    a.addrs = {ip("203.0.113.100"), ip("192.0.2.100")};
    CHECK_FALSE(filterAdvert(a, kPeer, 255, seedExpectation()));
  }
  SECTION("fewer addresses") {
    auto a = seedAdvert();
    a.addrs = {ip("192.0.2.100")};
    auto d = filterAdvert(a, kPeer, 255, seedExpectation());
    REQUIRE(d);
    CHECK(d->reason == DropReason::address_mismatch);
    CHECK(d->detail == "1 addresses, expected 2");
  }
  SECTION("more addresses") {
    auto a = seedAdvert();
    a.addrs.push_back(ip("198.51.100.1"));
    CHECK(reason(a, seedExpectation()) == DropReason::address_mismatch);
  }
  SECTION("same count, another address") {
    auto a = seedAdvert();
    a.addrs[1] = ip("203.0.113.101");
    auto d = filterAdvert(a, kPeer, 255, seedExpectation());
    REQUIRE(d);
    CHECK(d->reason == DropReason::address_mismatch);
    CHECK(d->detail == "203.0.113.100 not in the advert");
  }
  SECTION("skip_check_adv_addr: only for the master we know") {
    auto w = seedExpectation();
    w.skip_check_adv_addr = true;
    auto a = seedAdvert();
    a.addrs = {ip("198.51.100.1")};
    // No known master yet: checked.
    CHECK(reason(a, w) == DropReason::address_mismatch);
    w.known_master = kPeer;
    CHECK_FALSE(filterAdvert(a, kPeer, 255, w));
    // Another sender is still checked.
    CHECK(reason(a, w, ip("192.0.2.13")) == DropReason::address_mismatch);
    // Without the option, the known master is checked too.
    w.skip_check_adv_addr = false;
    CHECK(reason(a, w) == DropReason::address_mismatch);
  }
  SECTION("the skip does not skip the other checks") {
    auto w = seedExpectation();
    w.skip_check_adv_addr = true;
    w.known_master = kPeer;
    auto a = seedAdvert();
    a.auth_data = {};
    CHECK(reason(a, w) == DropReason::auth_mismatch);
  }
}

TEST_CASE("filter: IPv6 v3 advert from the link-local address", "[advert_filter]") {
  AdvertExpectation w;
  w.version = 3;
  w.vrid = 53;
  w.addrs = {ip("2001:db8::100")};
  w.own_addresses = {ip("fe80::a")};
  Advert a;
  a.version = 3;
  a.vrid = 53;
  a.interval_cs = 100;
  a.addrs = {ip("2001:db8::100")};
  CHECK_FALSE(filterAdvert(a, ip("fe80::b"), 255, w));
  CHECK(reason(a, w, ip("fe80::a")) == DropReason::own_packet);
  CHECK(reason(a, w, ip("fe80::b"), 64) == DropReason::bad_ttl);
}
