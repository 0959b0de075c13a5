// parseControl() over hand-built control buffers, as recvmsg() fills them.
#include "vrrpd/io/vrrp_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

namespace {

// A control buffer assembled cmsg by cmsg with the kernel's alignment.
class ControlBuffer {
 public:
  template <class T>
  ControlBuffer& add(int level, int type, const T& value) {
    return addRaw(level, type, &value, sizeof value);
  }
  ControlBuffer& addRaw(int level, int type, const void* data, std::size_t len) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + CMSG_SPACE(len));
    cmsghdr h{};
    h.cmsg_len = CMSG_LEN(len);
    h.cmsg_level = level;
    h.cmsg_type = type;
    std::memcpy(bytes_.data() + at, &h, sizeof h);
    std::memcpy(bytes_.data() + at + CMSG_LEN(0), data, len);
    return *this;
  }
  // A msghdr over the first `len` bytes (all of them by default).
  msghdr msg(std::size_t len = static_cast<std::size_t>(-1)) {
    storage_.assign(bytes_.begin(), bytes_.end());
    msghdr m{};
    m.msg_control = storage_.empty() ? nullptr : storage_.data();
    m.msg_controllen = std::min(len, storage_.size());
    return m;
  }
  std::vector<std::uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
  std::vector<std::uint8_t> storage_;
};

in_addr v4(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a;
}
in6_addr v6(const char* s) {
  in6_addr a{};
  inet_pton(AF_INET6, s, &a);
  return a;
}

}  // namespace

TEST_CASE("parseControl: IP_PKTINFO gives destination and interface", "[vrrp_socket]") {
  in_pktinfo pi{};
  pi.ipi_ifindex = 7;
  pi.ipi_spec_dst = v4("192.0.2.1");
  pi.ipi_addr = v4("224.0.0.18");
  ControlBuffer cb;
  cb.add(IPPROTO_IP, IP_PKTINFO, pi);
  const auto m = cb.msg();
  const auto info = vrrpd::parseControl(m);
  CHECK(info.ifindex == 7);
  REQUIRE(info.dst);
  CHECK(info.dst->toString() == "224.0.0.18");
  CHECK(info.hoplimit == -1);
}

TEST_CASE("parseControl: IPV6_PKTINFO and IPV6_HOPLIMIT together", "[vrrp_socket]") {
  in6_pktinfo pi{};
  pi.ipi6_addr = v6("ff02::12");
  pi.ipi6_ifindex = 3;
  ControlBuffer cb;
  cb.add(IPPROTO_IPV6, IPV6_HOPLIMIT, 255).add(IPPROTO_IPV6, IPV6_PKTINFO, pi);
  const auto m = cb.msg();
  const auto info = vrrpd::parseControl(m);
  CHECK(info.ifindex == 3);
  REQUIRE(info.dst);
  CHECK(info.dst->toString() == "ff02::12");
  CHECK(info.hoplimit == 255);
}

TEST_CASE("parseControl: IP_TTL is the IPv4 hop limit", "[vrrp_socket]") {
  ControlBuffer cb;
  cb.add(IPPROTO_IP, IP_TTL, 64);
  const auto m = cb.msg();
  CHECK(vrrpd::parseControl(m).hoplimit == 64);
}

TEST_CASE("parseControl: no control data", "[vrrp_socket]") {
  msghdr m{};
  const auto info = vrrpd::parseControl(m);
  CHECK(info.ifindex == 0);
  CHECK_FALSE(info.dst);
  CHECK(info.hoplimit == -1);
}

TEST_CASE("parseControl: unknown cmsgs are skipped", "[vrrp_socket]") {
  in6_pktinfo pi{};
  pi.ipi6_addr = v6("2001:db8::2");
  pi.ipi6_ifindex = 9;
  const std::uint64_t timestamp[2] = {1, 2};
  ControlBuffer cb;
  cb.add(SOL_SOCKET, SO_TIMESTAMP, timestamp)
      .add(IPPROTO_IPV6, IPV6_TCLASS, 0xc0)
      .add(IPPROTO_IPV6, IPV6_PKTINFO, pi);
  const auto m = cb.msg();
  const auto info = vrrpd::parseControl(m);
  CHECK(info.ifindex == 9);
  REQUIRE(info.dst);
  CHECK(info.dst->toString() == "2001:db8::2");
  CHECK(info.hoplimit == -1);
}

TEST_CASE("parseControl: a cmsg too short for its type is ignored", "[vrrp_socket]") {
  const std::uint8_t two_bytes[2] = {0xff, 0xff};
  const std::uint8_t short_pktinfo[8] = {1, 0, 0, 0, 224, 0, 0, 18};
  ControlBuffer cb;
  cb.addRaw(IPPROTO_IPV6, IPV6_HOPLIMIT, two_bytes, sizeof two_bytes)
      .addRaw(IPPROTO_IP, IP_PKTINFO, short_pktinfo, sizeof short_pktinfo)
      .add(IPPROTO_IP, IP_TTL, 255);
  const auto m = cb.msg();
  const auto info = vrrpd::parseControl(m);
  CHECK(info.hoplimit == 255);  // the later, well-formed IP_TTL
  CHECK(info.ifindex == 0);
  CHECK_FALSE(info.dst);
}

TEST_CASE("parseControl: a buffer cut inside a cmsg (MSG_CTRUNC)", "[vrrp_socket]") {
  in6_pktinfo pi{};
  pi.ipi6_addr = v6("ff02::12");
  pi.ipi6_ifindex = 4;
  ControlBuffer cb;
  cb.add(IPPROTO_IPV6, IPV6_HOPLIMIT, 255).add(IPPROTO_IPV6, IPV6_PKTINFO, pi);
  // The second cmsg's header is there but its data is cut short: its
  // cmsg_len runs past the buffer and must not be read.
  const std::size_t cut = CMSG_SPACE(sizeof(int)) + CMSG_LEN(0) + 4;
  const auto m = cb.msg(cut);
  const auto info = vrrpd::parseControl(m);
  CHECK(info.hoplimit == 255);
  CHECK(info.ifindex == 0);
  CHECK_FALSE(info.dst);
}

TEST_CASE("parseControl: a cmsg_len smaller than a header ends the walk", "[vrrp_socket]") {
  ControlBuffer cb;
  cb.add(IPPROTO_IPV6, IPV6_HOPLIMIT, 255).add(IPPROTO_IP, IP_TTL, 1);
  // Corrupt the first header's length to 4 bytes.
  cmsghdr h;
  std::memcpy(&h, cb.bytes().data(), sizeof h);
  h.cmsg_len = 4;
  std::memcpy(cb.bytes().data(), &h, sizeof h);
  const auto m = cb.msg();
  const auto info = vrrpd::parseControl(m);
  CHECK(info.hoplimit == -1);
}
