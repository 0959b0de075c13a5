// VrrpSocket over a veth pair: the sender in the test's namespace, the
// receivers in the peer namespace, as two VRRP routers on one link.
#include "vrrpd/io/vrrp_socket.h"

#include <fcntl.h>
#include <linux/if_ether.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/lab/lab_net.h"

namespace {

common::IpAddress ip(const char* text) {
  return *common::IpAddress::parse(text);
}

// A VRRPv2 advert for VRID 51, priority 100, one address (the socket does
// not look inside; the bytes only have to come out as they went in).
const std::vector<std::uint8_t> kAdvertV2 = {0x21, 51,  100, 1, 0, 1, 0xab, 0xcd, 192, 0,
                                             2,    100, 0,   0, 0, 0, 0,    0,    0,   0};
// A VRRPv3 advert with one IPv6 address; bytes 6-7 are the checksum, which
// the kernel fills in for IPv6 (IPV6_CHECKSUM).
const std::vector<std::uint8_t> kAdvertV3 = {0x31, 51,   100,  1,    0x00, 0x64, 0,    0,
                                             0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,
                                             0,    0,    0,    0,    0,    0,    0x01, 0x00};

std::optional<vrrpd::Datagram> receiveWithin(
    vrrpd::VrrpSocket& s, std::chrono::milliseconds t = std::chrono::milliseconds(2000)) {
  if (!lab::waitReadable(s.fd(), t)) return std::nullopt;
  auto got = s.receive();
  if (const auto* why = std::get_if<vrrpd::Drop>(&got)) UNSCOPED_INFO("drop: " << why->detail);
  if (const auto* err = std::get_if<vrrpd::ReceiveError>(&got))
    UNSCOPED_INFO("errno " << err->error);
  const auto* d = std::get_if<vrrpd::Datagram>(&got);
  CHECK(d);
  if (d == nullptr) return std::nullopt;
  return *d;
}

std::uint16_t checksum(const std::vector<std::uint8_t>& bytes) {
  return vrrpd::internetChecksum({std::span<const std::uint8_t>(bytes)});
}

}  // namespace

TEST_CASE("VrrpSocket IPv4 multicast: keepalived's IP header on the wire", "[lab][vrrp_socket]") {
  lab::VethLink link;
  const int v0 = link.near_info.index, p0 = link.far_info.index;
  auto tx = vrrpd::VrrpSocket::open(AF_INET, "v0", v0, true);
  REQUIRE(tx);
  std::optional<common::Result<vrrpd::VrrpSocket>> rx, rx_unicast;
  common::UniqueFd wire;
  {
    lab::InNetNs in(link.peer);
    rx.emplace(vrrpd::VrrpSocket::open(AF_INET, "p0", p0, true));
    rx_unicast.emplace(vrrpd::VrrpSocket::open(AF_INET, "p0", p0, false));
    wire = lab::capture(p0, ETH_P_IP);
  }
  REQUIRE(*rx);
  REQUIRE(*rx_unicast);

  REQUIRE(tx->send(kAdvertV2, ip("192.0.2.1"), ip("224.0.0.18")));
  auto d = receiveWithin(**rx);
  REQUIRE(d);
  CHECK(d->src == ip("192.0.2.1"));
  CHECK(d->dst == ip("224.0.0.18"));
  CHECK(d->ttl == 255);
  CHECK(d->ifindex == p0);
  CHECK(d->payload == kAdvertV2);
  // Not joined, IP_MULTICAST_ALL off: the unicast socket does not see it.
  CHECK_FALSE(lab::waitReadable((*rx_unicast)->fd(), std::chrono::milliseconds(100)));

  // The frame: 01:00:5e:00:00:12, then vrrp_build_ip4()'s header.
  std::vector<std::uint8_t> f;
  for (int i = 0; i < 10 && (f.size() < 34 || f[23] != 112); ++i) f = lab::nextFrame(wire.get());
  REQUIRE(f.size() == 14 + 20 + kAdvertV2.size());
  CHECK(std::vector<std::uint8_t>(f.begin(), f.begin() + 6) ==
        std::vector<std::uint8_t>{0x01, 0x00, 0x5e, 0x00, 0x00, 0x12});
  CHECK(std::vector<std::uint8_t>(f.begin() + 6, f.begin() + 12) ==
        std::vector<std::uint8_t>(link.near_info.mac.begin(), link.near_info.mac.end()));
  const std::vector<std::uint8_t> hdr(f.begin() + 14, f.begin() + 34);
  CHECK(hdr[0] == 0x45);
  CHECK(hdr[1] == 0xc0);                  // TOS internetwork control
  CHECK(((hdr[2] << 8) | hdr[3]) == 40);  // total length
  CHECK(hdr[6] == 0x00);                  // no DF, no fragment offset
  CHECK(hdr[7] == 0x00);
  CHECK(hdr[8] == 255);       // TTL
  CHECK(hdr[9] == 112);       // protocol VRRP
  CHECK(checksum(hdr) == 0);  // kernel-filled header checksum
  CHECK(std::vector<std::uint8_t>(hdr.begin() + 12, hdr.end()) ==
        std::vector<std::uint8_t>{192, 0, 2, 1, 224, 0, 0, 18});
  CHECK(std::vector<std::uint8_t>(f.begin() + 34, f.end()) == kAdvertV2);
}

TEST_CASE("VrrpSocket IPv4 unicast to the peer", "[lab][vrrp_socket]") {
  lab::VethLink link;
  const int v0 = link.near_info.index, p0 = link.far_info.index;
  auto tx = vrrpd::VrrpSocket::open(AF_INET, "v0", v0, false);
  REQUIRE(tx);
  std::optional<common::Result<vrrpd::VrrpSocket>> rx, rx_multicast;
  {
    lab::InNetNs in(link.peer);
    rx.emplace(vrrpd::VrrpSocket::open(AF_INET, "p0", p0, false));
    rx_multicast.emplace(vrrpd::VrrpSocket::open(AF_INET, "p0", p0, true));
  }
  REQUIRE(*rx);
  REQUIRE(*rx_multicast);

  REQUIRE(tx->send(kAdvertV2, ip("192.0.2.1"), ip("192.0.2.2")));
  auto d = receiveWithin(**rx);
  REQUIRE(d);
  CHECK(d->src == ip("192.0.2.1"));
  CHECK(d->dst == ip("192.0.2.2"));
  CHECK(d->ttl == 255);
  CHECK(d->ifindex == p0);
  CHECK(d->payload == kAdvertV2);
  // A socket that joined the group still takes unicast: one socket serves
  // the multicast and the unicast instances of an interface.
  auto both = receiveWithin(**rx_multicast);
  REQUIRE(both);
  CHECK(both->dst == ip("192.0.2.2"));

  // Nothing more waiting: that, and neither a drop nor an error.
  CHECK(std::holds_alternative<vrrpd::WouldBlock>((*rx)->receive()));
}

TEST_CASE("VrrpSocket IPv6 multicast from the link-local address", "[lab][vrrp_socket]") {
  lab::VethLink link;
  const int v0 = link.near_info.index, p0 = link.far_info.index;
  const common::IpAddress src = *link.near_info.link_local_v6;
  auto tx = vrrpd::VrrpSocket::open(AF_INET6, "v0", v0, true);
  REQUIRE(tx);
  std::optional<common::Result<vrrpd::VrrpSocket>> rx;
  common::UniqueFd wire;
  {
    lab::InNetNs in(link.peer);
    rx.emplace(vrrpd::VrrpSocket::open(AF_INET6, "p0", p0, true));
    wire = lab::capture(p0, ETH_P_IPV6);
  }
  REQUIRE(*rx);

  REQUIRE(tx->send(kAdvertV3, src, ip("ff02::12")));
  auto d = receiveWithin(**rx);
  REQUIRE(d);
  CHECK(d->src == src);
  CHECK(d->dst == ip("ff02::12"));
  CHECK(d->ttl == 255);
  CHECK(d->ifindex == p0);
  REQUIRE(d->payload.size() == kAdvertV3.size());
  auto without_checksum = [](std::vector<std::uint8_t> v) {
    v[6] = v[7] = 0;
    return v;
  };
  CHECK(without_checksum(d->payload) == kAdvertV3);
  // RFC 5798 5.2.8: the checksum covers the IPv6 pseudo-header.
  std::vector<std::uint8_t> pseudo(src.bytes(), src.bytes() + 16);
  const auto group = ip("ff02::12");
  pseudo.insert(pseudo.end(), group.bytes(), group.bytes() + 16);
  pseudo.insert(pseudo.end(), {0, 0, 0, static_cast<std::uint8_t>(kAdvertV3.size()), 0, 0, 0, 112});
  pseudo.insert(pseudo.end(), d->payload.begin(), d->payload.end());
  CHECK(checksum(pseudo) == 0);

  // On the wire: traffic class 0xc0, next header 112, hop limit 255.
  std::vector<std::uint8_t> f;
  for (int i = 0; i < 20 && (f.size() < 54 || f[20] != 112); ++i) f = lab::nextFrame(wire.get());
  REQUIRE(f.size() >= 54);
  CHECK(f[20] == 112);
  CHECK(f[21] == 255);
  CHECK((((f[14] & 0x0f) << 4) | (f[15] >> 4)) == 0xc0);
}

TEST_CASE("VrrpSocket IPv6 unicast to the peer's link-local address", "[lab][vrrp_socket]") {
  lab::VethLink link;
  const int v0 = link.near_info.index, p0 = link.far_info.index;
  const common::IpAddress src = *link.near_info.link_local_v6;
  const common::IpAddress dst = *link.far_info.link_local_v6;
  auto tx = vrrpd::VrrpSocket::open(AF_INET6, "v0", v0, false);
  REQUIRE(tx);
  std::optional<common::Result<vrrpd::VrrpSocket>> rx;
  {
    lab::InNetNs in(link.peer);
    rx.emplace(vrrpd::VrrpSocket::open(AF_INET6, "p0", p0, false));
  }
  REQUIRE(*rx);

  REQUIRE(tx->send(kAdvertV3, src, dst));
  auto d = receiveWithin(**rx);
  REQUIRE(d);
  CHECK(d->src == src);
  CHECK(d->dst == dst);
  CHECK(d->ttl == 255);
  CHECK(d->ifindex == p0);
}

TEST_CASE("VrrpSocket: a send with the wrong family is an error", "[lab][vrrp_socket]") {
  lab::VethLink link;
  auto tx = vrrpd::VrrpSocket::open(AF_INET, "v0", link.near_info.index, true);
  REQUIRE(tx);
  auto r = tx->send(kAdvertV2, ip("2001:db8::1"), ip("ff02::12"));
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error(), Catch::Contains("2001:db8::1"));
  auto bad = vrrpd::VrrpSocket::open(AF_INET, "nosuch0", 12345, true);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error(), Catch::Contains("nosuch0"));
}

TEST_CASE("VrrpSocket: too long for VRRP is a drop, a failing recvmsg() an error",
          "[lab][vrrp_socket]") {
  lab::VethLink link;
  const int v0 = link.near_info.index, p0 = link.far_info.index;
  const common::IpAddress src = *link.near_info.link_local_v6;
  auto tx = vrrpd::VrrpSocket::open(AF_INET6, "v0", v0, true);
  REQUIRE(tx);
  std::optional<common::Result<vrrpd::VrrpSocket>> rx;
  {
    lab::InNetNs in(link.peer);
    rx.emplace(vrrpd::VrrpSocket::open(AF_INET6, "p0", p0, true));
  }
  REQUIRE(*rx);

  // IPv6 fragments it and the peer reassembles it: longer than any VRRP
  // message, so it is a drop with its reason, and reading goes on.
  std::vector<std::uint8_t> huge(5000, 0);
  std::copy(kAdvertV3.begin(), kAdvertV3.end(), huge.begin());
  REQUIRE(tx->send(huge, src, ip("ff02::12")));
  REQUIRE(lab::waitReadable((*rx)->fd(), std::chrono::milliseconds(2000)));
  auto got = (*rx)->receive();
  const auto* why = std::get_if<vrrpd::Drop>(&got);
  REQUIRE(why);
  CHECK(why->reason == vrrpd::DropReason::bad_length);

  // A descriptor that recvmsg() refuses (ENOTSOCK) is reported with its
  // errno, not taken for "nothing waiting".
  common::UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(null);
  REQUIRE(::dup2(null.get(), (*rx)->fd()) == (*rx)->fd());
  auto failed = (*rx)->receive();
  const auto* err = std::get_if<vrrpd::ReceiveError>(&failed);
  REQUIRE(err);
  CHECK(err->error == ENOTSOCK);
}
