#include "vrrpd/core/vrrp_packet.h"
#include "tests/unit/support/addresses.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using common::IpAddress;
using vrrpd::Advert;
using vrrpd::AuthType;
using vrrpd::CodecOptions;
using vrrpd::decodeAdvert;
using vrrpd::DropReason;
using vrrpd::encodeAdvert;
using vrrpd::internetChecksum;
using vrrpd::parseIpv4;
using vrrpd::passwordBytes;

namespace {

std::vector<std::uint8_t> hex(std::string_view s) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

using test_support::ip;

std::vector<std::uint8_t> tail(const std::vector<std::uint8_t>& v, std::size_t from) {
  return {v.begin() + static_cast<std::ptrdiff_t>(from), v.end()};
}

std::vector<std::uint8_t> toVector(std::span<const std::uint8_t> s) {
  return {s.begin(), s.end()};
}

std::array<std::uint8_t, 8> pw(const char* text) {
  return passwordBytes(text);
}

// ---------------------------------------------------------------------------
// Known vectors: real keepalived 2.2.7 (Debian bookworm) adverts, captured by
// tests/unit/vrrpd/vectors/capture_keepalived.sh (run it as root to regenerate; it
// prints the configs below and these hex strings). keepalived ran in a
// namespace on veth "va" (192.0.2.1/24, fe80::a/64) with
//   ip netns exec kvN-a keepalived -n -l -D -G -P -f CONF -p PID -r VRRP_PID
// and tcpdump captured in the peer namespace with
//   ip netns exec kvN-b tcpdump -i vb -nn -U -w FILE 'ip proto 112 or ip6 proto 112'
// Each string is the IP datagram (IPv4 or IPv6 header + VRRP message) without
// the Ethernet header or padding.
// ---------------------------------------------------------------------------

// (a) vrrp_instance { state MASTER; interface va; virtual_router_id 51;
//     priority 100; advert_int 1; authentication { auth_type PASS;
//     auth_pass K8SHA_KA_AUTH } virtual_ipaddress { 192.0.2.100/24
//     203.0.113.100/24 } }  (keepalived: "Truncating auth_pass to 8 characters")
constexpr const char* kV2Pass =
    "45c0002c00010000ff70188dc0000201e0000012"
    "2133640201014fdec0000264cb0071644b385348415f4b41";
constexpr const char* kV2PassSecond =  // the next advert: IP ID 2
    "45c0002c00020000ff70188cc0000201e0000012"
    "2133640201014fdec0000264cb0071644b385348415f4b41";
constexpr const char* kV2PassPrio0 =  // sent on SIGTERM ("sent 0 priority")
    "45c0002c00030000ff70188bc0000201e0000012"
    "213300020101b3dec0000264cb0071644b385348415f4b41";

// (b) version 3; virtual_router_id 52; priority 150; advert_int 0.5;
//     virtual_ipaddress { 192.0.2.52/24 }
constexpr const char* kV3Ipv4 =
    "45c0002000010000ff701899c0000201e0000012"
    "313496010032d3d2c0000234";
constexpr const char* kV3Ipv4Prio0 =
    "45c0002000040000ff701896c0000201e0000012"
    "31340001003269d3c0000234";

// (c) version 3; virtual_router_id 53; priority 100; advert_int 1;
//     virtual_ipaddress { 2001:db8::100/64 }  -- source: link-local fe80::a.
//     (The flow label 0x8e3c5 is the kernel's choice, not keepalived's.)
constexpr const char* kV3Ipv6 =
    "6c08e3c5001870fffe80000000000000000000000000000aff020000000000000000000000000012"
    "3135640100643d8420010db8000000000000000000000100";
constexpr const char* kV3Ipv6Prio0 =
    "6c08e3c5001870fffe80000000000000000000000000000aff020000000000000000000000000012"
    "313500010064a18420010db8000000000000000000000100";

// (d) version 3; virtual_router_id 54; priority 100; advert_int 1;
//     unicast_src_ip 192.0.2.1; unicast_peer { 192.0.2.2 192.0.2.3 }
//     virtual_ipaddress { 192.0.2.54/24 }
//     One datagram per peer, same IP ID, checksum per peer (pseudo-header dst).
constexpr const char* kV3UnicastPeer2 =
    "45c0002000010000ff7036a9c0000201c0000202"
    "31366401006423adc0000236";
constexpr const char* kV3UnicastPeer3 =
    "45c0002000010000ff7036a8c0000201c0000203"
    "31366401006423acc0000236";
constexpr const char* kV3UnicastPeer2Prio0 =
    "45c0002000030000ff7036a7c0000201c0000202"
    "31360001006487adc0000236";
constexpr const char* kV3UnicastPeer3Prio0 =
    "45c0002000030000ff7036a6c0000201c0000203"
    "31360001006487acc0000236";

// The IPv4 header fields keepalived (vrrp_build_ip4) sends, for the socket
// code to copy: version 4, IHL 5, TOS 0xc0, total length, ID counting up from
// 1 per advert (shared by all unicast peers of one round), flags/fragment 0
// (no DF), TTL 255, protocol 112; the header checksum is the kernel's.
void checkKeepalivedIpv4Header(const std::vector<std::uint8_t>& d, std::uint16_t id) {
  REQUIRE(d.size() >= 20);
  CHECK(d[0] == 0x45);
  CHECK(d[1] == vrrpd::kVrrpTos);
  CHECK(static_cast<std::size_t>((d[2] << 8) | d[3]) == d.size());
  CHECK(((d[4] << 8) | d[5]) == id);
  CHECK(d[6] == 0x00);  // no DF, not a fragment
  CHECK(d[7] == 0x00);
  CHECK(d[8] == vrrpd::kVrrpTtl);
  CHECK(d[9] == vrrpd::kIpProtoVrrp);
  // A valid IPv4 header sums to zero.
  CHECK(internetChecksum({std::span<const std::uint8_t>(d.data(), 20)}) == 0);
}

}  // namespace

TEST_CASE("keepalived VRRPv2 PASS advert decodes and re-encodes byte for byte", "[vrrp_packet]") {
  const auto d = hex(kV2Pass);
  checkKeepalivedIpv4Header(d, 1);
  checkKeepalivedIpv4Header(hex(kV2PassSecond), 2);

  auto dg = parseIpv4(d);
  REQUIRE(dg);
  CHECK(dg->src == ip("192.0.2.1"));
  CHECK(dg->dst == vrrpd::vrrpMulticastV4());
  CHECK(dg->ttl == 255);
  CHECK(dg->protocol == 112);
  REQUIRE(dg->payload.size() == 24);  // 8 header + 2 x 4 addresses + 8 auth

  auto r = decodeAdvert(dg->payload, dg->src, dg->dst);
  REQUIRE(r.ok());
  const Advert& a = *r.advert;
  CHECK(a.version == 2);
  CHECK(a.vrid == 51);
  CHECK(a.priority == 100);
  CHECK(a.interval_cs == 100);
  CHECK(a.auth_type == AuthType::pass);
  CHECK(a.auth_data == pw("K8SHA_KA"));
  CHECK(a.auth_data == pw("K8SHA_KA_AUTH"));
  REQUIRE(a.addrs.size() == 2);
  CHECK(a.addrs[0] == ip("192.0.2.100"));
  CHECK(a.addrs[1] == ip("203.0.113.100"));

  Advert mine;
  mine.version = 2;
  mine.vrid = 51;
  mine.priority = 100;
  mine.interval_cs = 100;
  mine.auth_type = AuthType::pass;
  bool truncated = false;
  mine.auth_data = passwordBytes("K8SHA_KA_AUTH", &truncated);
  CHECK(truncated);
  mine.addrs = {ip("192.0.2.100"), ip("203.0.113.100")};
  CHECK(encodeAdvert(mine, ip("192.0.2.1"), vrrpd::vrrpMulticastV4()) == toVector(dg->payload));

  // Priority 0 on stop: only the priority and the checksum change.
  const auto stop = hex(kV2PassPrio0);
  checkKeepalivedIpv4Header(stop, 3);
  mine.priority = 0;
  CHECK(encodeAdvert(mine, ip("192.0.2.1"), vrrpd::vrrpMulticastV4()) == tail(stop, 20));
  auto r0 = decodeAdvert(tail(stop, 20), ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
  REQUIRE(r0.ok());
  CHECK(r0.advert->priority == 0);
}

TEST_CASE("keepalived VRRPv3 IPv4 advert (advert_int 0.5) decodes and re-encodes",
          "[vrrp_packet]") {
  const auto d = hex(kV3Ipv4);
  checkKeepalivedIpv4Header(d, 1);
  auto dg = parseIpv4(d);
  REQUIRE(dg);
  REQUIRE(dg->payload.size() == 12);  // no auth data in v3

  auto r = decodeAdvert(dg->payload, dg->src, dg->dst);
  REQUIRE(r.ok());
  CHECK(r.advert->version == 3);
  CHECK(r.advert->vrid == 52);
  CHECK(r.advert->priority == 150);
  CHECK(r.advert->interval_cs == 50);
  CHECK(r.advert->auth_type == AuthType::none);
  REQUIRE(r.advert->addrs.size() == 1);
  CHECK(r.advert->addrs[0] == ip("192.0.2.52"));

  Advert mine;
  mine.version = 3;
  mine.vrid = 52;
  mine.priority = 150;
  mine.interval_cs = 50;
  mine.addrs = {ip("192.0.2.52")};
  CHECK(encodeAdvert(mine, ip("192.0.2.1"), vrrpd::vrrpMulticastV4()) == toVector(dg->payload));
  mine.priority = 0;
  CHECK(encodeAdvert(mine, ip("192.0.2.1"), vrrpd::vrrpMulticastV4()) ==
        tail(hex(kV3Ipv4Prio0), 20));

  // keepalived's v3 checksum covers the pseudo-header: without it (or with
  // another source) the same bytes do not check.
  CodecOptions as_v2;
  as_v2.v3_checksum_as_v2 = true;
  CHECK(decodeAdvert(dg->payload, dg->src, dg->dst, as_v2).drop.reason == DropReason::bad_checksum);
  CHECK(decodeAdvert(dg->payload, ip("192.0.2.9"), dg->dst).drop.reason ==
        DropReason::bad_checksum);
}

TEST_CASE("keepalived VRRPv3 IPv6 advert decodes and re-encodes", "[vrrp_packet]") {
  const auto d = hex(kV3Ipv6);
  REQUIRE(d.size() == 40 + 24);
  // IPv6 header keepalived's socket produced: traffic class 0xc0, payload
  // length 24, next header 112, hop limit 255, from the link-local address.
  CHECK(d[0] >> 4 == 6);
  CHECK((((d[0] & 0x0f) << 4) | (d[1] >> 4)) == 0xc0);
  CHECK(((d[4] << 8) | d[5]) == 24);
  CHECK(d[6] == 112);
  CHECK(d[7] == 255);
  const IpAddress src = ip("fe80::a");
  const IpAddress dst = vrrpd::vrrpMulticastV6();
  const auto payload = tail(d, 40);

  auto r = decodeAdvert(payload, src, dst);
  REQUIRE(r.ok());
  CHECK(r.advert->version == 3);
  CHECK(r.advert->vrid == 53);
  CHECK(r.advert->priority == 100);
  CHECK(r.advert->interval_cs == 100);
  REQUIRE(r.advert->addrs.size() == 1);
  CHECK(r.advert->addrs[0] == ip("2001:db8::100"));

  Advert mine;
  mine.version = 3;
  mine.vrid = 53;
  mine.priority = 100;
  mine.interval_cs = 100;
  mine.addrs = {ip("2001:db8::100")};
  CHECK(encodeAdvert(mine, src, dst) == payload);
  mine.priority = 0;
  CHECK(encodeAdvert(mine, src, dst) == tail(hex(kV3Ipv6Prio0), 40));

  // The RFC 2460 pseudo-header is part of the checksum.
  CHECK(decodeAdvert(payload, ip("fe80::b"), dst).drop.reason == DropReason::bad_checksum);
}

TEST_CASE("keepalived VRRPv3 unicast adverts carry one checksum per peer", "[vrrp_packet]") {
  const IpAddress src = ip("192.0.2.1");
  Advert mine;
  mine.version = 3;
  mine.vrid = 54;
  mine.priority = 100;
  mine.interval_cs = 100;
  mine.addrs = {ip("192.0.2.54")};

  struct Case {
    const char* hex;
    const char* peer;
    std::uint8_t priority;
    std::uint16_t id;
  };
  for (const Case& c :
       {Case{kV3UnicastPeer2, "192.0.2.2", 100, 1}, Case{kV3UnicastPeer3, "192.0.2.3", 100, 1},
        Case{kV3UnicastPeer2Prio0, "192.0.2.2", 0, 3},
        Case{kV3UnicastPeer3Prio0, "192.0.2.3", 0, 3}}) {
    INFO(c.peer << " priority " << int(c.priority));
    const auto d = hex(c.hex);
    checkKeepalivedIpv4Header(d, c.id);
    auto dg = parseIpv4(d);
    REQUIRE(dg);
    CHECK(dg->src == src);
    CHECK(dg->dst == ip(c.peer));
    auto r = decodeAdvert(dg->payload, dg->src, dg->dst);
    REQUIRE(r.ok());
    CHECK(r.advert->vrid == 54);
    CHECK(r.advert->priority == c.priority);
    mine.priority = c.priority;
    CHECK(encodeAdvert(mine, src, ip(c.peer)) == toVector(dg->payload));
  }
  // Checked against the multicast group instead of the peer, it fails: the
  // peer really is in the pseudo-header.
  const auto d = hex(kV3UnicastPeer2);
  auto dg = parseIpv4(d);  // the payload points into d
  REQUIRE(dg);
  CHECK(decodeAdvert(dg->payload, src, vrrpd::vrrpMulticastV4()).drop.reason ==
        DropReason::bad_checksum);
}

TEST_CASE("encode/decode round trips", "[vrrp_packet]") {
  SECTION("v2 without auth still carries 8 zero auth bytes") {
    Advert a;
    a.version = 2;
    a.vrid = 7;
    a.priority = 254;
    a.interval_cs = 300;
    a.auth_data = pw("ignored");  // keepalived only copies it with PASS
    a.addrs = {ip("198.51.100.1")};
    auto bytes = encodeAdvert(a, ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
    REQUIRE(bytes.size() == 8 + 4 + 8);
    CHECK(bytes[0] == 0x21);
    CHECK(bytes[4] == 0);  // auth type none
    CHECK(bytes[5] == 3);  // whole seconds
    for (std::size_t i = 12; i < 20; ++i) CHECK(bytes[i] == 0);
    CHECK(internetChecksum({bytes}) == 0);
    auto r = decodeAdvert(bytes, ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
    REQUIRE(r.ok());
    CHECK(r.advert->version == 2);
    CHECK(r.advert->vrid == 7);
    CHECK(r.advert->priority == 254);
    CHECK(r.advert->interval_cs == 300);
    CHECK(r.advert->auth_type == AuthType::none);
    CHECK(r.advert->auth_data == std::array<std::uint8_t, 8>{});
    CHECK(r.advert->addrs == a.addrs);
  }
  SECTION("v2 checksum does not depend on the addresses of the IP header") {
    Advert a;
    a.vrid = 1;
    a.addrs = {ip("192.0.2.100")};
    CHECK(encodeAdvert(a, ip("192.0.2.1"), vrrpd::vrrpMulticastV4()) ==
          encodeAdvert(a, ip("192.0.2.2"), ip("192.0.2.3")));
  }
  SECTION("v2 interval is cut to whole seconds, read back as centiseconds") {
    Advert a;
    a.interval_cs = 250;
    auto bytes = encodeAdvert(a, ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
    CHECK(bytes[5] == 2);
    CHECK(decodeAdvert(bytes, ip("192.0.2.1"), vrrpd::vrrpMulticastV4()).advert->interval_cs ==
          200);
  }
  SECTION("v3 IPv4 with no addresses and the largest interval") {
    Advert a;
    a.version = 3;
    a.vrid = 255;
    a.priority = 1;
    a.interval_cs = 4095;
    auto bytes = encodeAdvert(a, ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
    REQUIRE(bytes.size() == 8);
    CHECK(bytes[4] == 0x0f);
    CHECK(bytes[5] == 0xff);
    auto r = decodeAdvert(bytes, ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
    REQUIRE(r.ok());
    CHECK(r.advert->interval_cs == 4095);
    CHECK(r.advert->addrs.empty());
  }
  SECTION("v3 reserved bits are ignored on receive") {
    Advert a;
    a.version = 3;
    a.interval_cs = 100;
    auto bytes = encodeAdvert(a, ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
    bytes[4] |= 0xf0;
    bytes[6] = bytes[7] = 0;
    const std::uint16_t sum =
        internetChecksum({hex("c0000201e000001200700008"), bytes});  // pseudo-header + message
    bytes[6] = static_cast<std::uint8_t>(sum >> 8);
    bytes[7] = static_cast<std::uint8_t>(sum);
    auto r = decodeAdvert(bytes, ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
    REQUIRE(r.ok());
    CHECK(r.advert->interval_cs == 100);
  }
  SECTION("v3 IPv6 with several addresses") {
    Advert a;
    a.version = 3;
    a.vrid = 9;
    a.addrs = {ip("2001:db8::1"), ip("2001:db8::2"), ip("fe80::1")};
    auto bytes = encodeAdvert(a, ip("fe80::a"), vrrpd::vrrpMulticastV6());
    REQUIRE(bytes.size() == 8 + 3 * 16);
    auto r = decodeAdvert(bytes, ip("fe80::a"), vrrpd::vrrpMulticastV6());
    REQUIRE(r.ok());
    CHECK(r.advert->addrs == a.addrs);
  }
  SECTION("only addresses of the sender's family are encoded") {
    Advert a;
    a.version = 3;
    a.addrs = {ip("192.0.2.100"), ip("2001:db8::100")};
    auto bytes = encodeAdvert(a, ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
    CHECK(bytes[3] == 1);
    CHECK(bytes.size() == 12);
  }
  SECTION("v3_checksum_as_v2 leaves the pseudo-header out on both sides") {
    CodecOptions opt;
    opt.v3_checksum_as_v2 = true;
    Advert a;
    a.version = 3;
    a.addrs = {ip("192.0.2.100")};
    auto bytes = encodeAdvert(a, ip("192.0.2.1"), vrrpd::vrrpMulticastV4(), opt);
    CHECK(internetChecksum({bytes}) == 0);
    CHECK(decodeAdvert(bytes, ip("192.0.2.1"), vrrpd::vrrpMulticastV4(), opt).ok());
    CHECK(decodeAdvert(bytes, ip("192.0.2.1"), vrrpd::vrrpMulticastV4()).drop.reason ==
          DropReason::bad_checksum);
  }
}

TEST_CASE("decode drop reasons", "[vrrp_packet]") {
  const IpAddress src = ip("192.0.2.1");
  const IpAddress dst = vrrpd::vrrpMulticastV4();
  const auto good = tail(hex(kV2Pass), 20);  // v2, 2 addresses, PASS
  auto reason = [&](const std::vector<std::uint8_t>& m, const IpAddress& s = ip("192.0.2.1")) {
    auto r = decodeAdvert(m, s, dst);
    CHECK_FALSE(r.ok());
    INFO(r.drop.detail);
    CHECK_FALSE(r.drop.detail.empty());
    return r.drop.reason;
  };
  REQUIRE(decodeAdvert(good, src, dst).ok());

  CHECK(reason({}) == DropReason::too_short);
  CHECK(reason({good.begin(), good.begin() + 7}) == DropReason::too_short);

  auto v4 = good;
  v4[0] = 0x41;
  CHECK(reason(v4) == DropReason::bad_version);
  auto v1 = good;
  v1[0] = 0x11;
  CHECK(reason(v1) == DropReason::bad_version);

  // v2 is IPv4 only.
  CHECK(reason(good, ip("fe80::a")) == DropReason::family_mismatch);

  CHECK(reason({good.begin(), good.end() - 1}) == DropReason::bad_length);  // auth cut short
  auto longer = good;
  longer.push_back(0);
  CHECK(reason(longer) == DropReason::bad_length);  // keepalived: "too long"
  auto more = good;
  more[3] = 3;  // claims 3 addresses, carries 2
  CHECK(reason(more) == DropReason::bad_length);
  // A v3 message is read with v3's length (no auth data).
  auto v3len = good;
  v3len[0] = 0x31;
  CHECK(reason(v3len) == DropReason::bad_length);

  auto type2 = good;
  type2[0] = 0x22;
  CHECK(reason(type2) == DropReason::bad_type);

  auto flipped = good;
  flipped[2] ^= 0x01;  // priority changed, checksum not
  CHECK(reason(flipped) == DropReason::bad_checksum);
  auto r = decodeAdvert(flipped, src, dst);
  CHECK(r.drop.detail == "checksum 0x4fde, expected 0x4ede");
  auto badpw = good;
  badpw.back() ^= 0x20;  // the auth data is covered by the v2 checksum
  CHECK(reason(badpw) == DropReason::bad_checksum);
}

TEST_CASE("a checksum of 0xffff and one of 0x0000 are the same (one's complement)",
          "[vrrp_packet]") {
  // Find a message whose computed checksum is 0 and send it as 0xffff:
  // keepalived's receive check sums everything and accepts it.
  Advert a;
  a.version = 2;
  for (int v = 0; v < 256; ++v) {
    for (int p = 0; p < 256; ++p) {
      a.vrid = static_cast<std::uint8_t>(v);
      a.priority = static_cast<std::uint8_t>(p);
      auto bytes = encodeAdvert(a, ip("192.0.2.1"), vrrpd::vrrpMulticastV4());
      if (bytes[6] == 0 && bytes[7] == 0) {
        bytes[6] = bytes[7] = 0xff;
        CHECK(decodeAdvert(bytes, ip("192.0.2.1"), vrrpd::vrrpMulticastV4()).ok());
        return;
      }
    }
  }
  FAIL("no message with checksum 0 found");
}

TEST_CASE("internet checksum", "[vrrp_packet]") {
  // RFC 1071 1.(4) example: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2, the
  // checksum its complement.
  const auto rfc = hex("0001f203f4f5f6f7");
  CHECK(internetChecksum({rfc}) == 0x220d);
  // The parts are one stream, also split at odd offsets.
  CHECK(internetChecksum({std::span(rfc).first(3), std::span(rfc).subspan(3)}) == 0x220d);
  CHECK(internetChecksum({std::span(rfc).first(1), std::span(rfc).subspan(1, 4),
                          std::span(rfc).subspan(5)}) == 0x220d);
  // An odd length pads with a zero byte.
  CHECK(internetChecksum({hex("01")}) == static_cast<std::uint16_t>(~0x0100));
  CHECK(internetChecksum({}) == 0xffff);
  // Carries wrap around.
  CHECK(internetChecksum({hex("ffff0001")}) == static_cast<std::uint16_t>(~0x0001));
  // A known IPv4 header (keepalived's first advert) sums to zero.
  const auto h = hex(kV2Pass);
  CHECK(internetChecksum({std::span(h).first(20)}) == 0);
}

TEST_CASE("passwordBytes cuts to 8 bytes and pads with NUL", "[vrrp_packet]") {
  bool truncated = false;
  auto p = passwordBytes("K8SHA_KA_AUTH", &truncated);
  CHECK(truncated);
  CHECK(std::string(p.begin(), p.end()) == "K8SHA_KA");

  p = passwordBytes("secret", &truncated);
  CHECK_FALSE(truncated);
  CHECK(p == std::array<std::uint8_t, 8>{'s', 'e', 'c', 'r', 'e', 't', 0, 0});

  p = passwordBytes("12345678", &truncated);
  CHECK_FALSE(truncated);
  CHECK(std::string(p.begin(), p.end()) == "12345678");

  p = passwordBytes("", &truncated);
  CHECK_FALSE(truncated);
  CHECK(p == std::array<std::uint8_t, 8>{});
  CHECK(passwordBytes("x") == pw("x"));  // the flag is optional
}

TEST_CASE("parseIpv4", "[vrrp_packet]") {
  const auto good = hex(kV3Ipv4);
  vrrpd::Drop why{DropReason::too_short, ""};
  REQUIRE(parseIpv4(good, &why));

  auto bad = [&](std::vector<std::uint8_t> d) {
    why = {DropReason::too_short, ""};
    CHECK_FALSE(parseIpv4(d, &why));
    CHECK(why.reason == DropReason::bad_ip_header);
    CHECK_FALSE(why.detail.empty());
    return why.detail;
  };
  bad({good.begin(), good.begin() + 19});
  auto v6 = good;
  v6[0] = 0x65;
  bad(v6);
  auto ihl4 = good;
  ihl4[0] = 0x44;
  bad(ihl4);
  auto ihl_big = good;
  ihl_big[0] = 0x4f;  // 60-byte header in a 32-byte datagram
  bad(ihl_big);
  CHECK(bad({good.begin(), good.end() - 1}) == "total length 32, received 31");
  auto padded = good;
  padded.push_back(0);
  bad(padded);
  auto mf = good;
  mf[6] = 0x20;
  bad(mf);
  auto offset = good;
  offset[7] = 0x01;
  bad(offset);
  CHECK_FALSE(parseIpv4({good.begin(), good.begin() + 3}));  // `why` is optional

  // DF set is fine; options are skipped.
  auto df = good;
  df[6] = 0x40;
  CHECK(parseIpv4(df));
  auto opts = hex("46c00024000100004070000cc0000201e000001201010101");
  auto vrrp = tail(good, 20);
  opts.insert(opts.end(), vrrp.begin(), vrrp.end());
  auto dg = parseIpv4(opts);
  REQUIRE(dg);
  CHECK(toVector(dg->payload) == vrrp);
  CHECK(dg->ttl == 0x40);
}

TEST_CASE("drop reasons have distinct names", "[vrrp_packet]") {
  std::vector<std::string_view> names;
  for (int i = 0; i < static_cast<int>(DropReason::count_); ++i) {
    auto n = vrrpd::dropReasonName(static_cast<DropReason>(i));
    CHECK(n != "unknown");
    CHECK(std::find(names.begin(), names.end(), n) == names.end());
    names.push_back(n);
  }
  CHECK(vrrpd::dropReasonName(DropReason::bad_ttl) == "bad_ttl");
}

TEST_CASE("VRRP multicast groups", "[vrrp_packet]") {
  CHECK(vrrpd::vrrpMulticastV4().toString() == "224.0.0.18");
  CHECK(vrrpd::vrrpMulticastV6().toString() == "ff02::12");
}
