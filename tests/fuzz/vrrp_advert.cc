// The VRRP receive path on hostile bytes: an IPv4 datagram as the raw socket
// delivers it (header included) or an IPv6 one (the harness splits the fixed
// header off, as the kernel does), decoded and then filtered against an
// expectation. The first byte is not part of the packet: its bits choose the
// options (fix the checksum so the fuzzer gets past it, v3_checksum_as_v2,
// unicast, the expectation's details). Oracle: a decoded advert re-encodes
// to a message that decodes to the same bytes again.
#include <charconv>
#include <cstring>
#include <span>

#include "tests/fuzz/fuzz_target.h"
#include "vrrpd/core/advert_filter.h"
#include "vrrpd/core/vrrp_packet.h"

namespace {

using common::IpAddress;
using vrrpd::Advert;

enum Option : std::uint8_t {
  fix_checksum = 1 << 0,
  checksum_as_v2 = 1 << 1,
  unicast = 1 << 2,
  skip_check_adv_addr = 1 << 3,
  sender_is_known_master = 1 << 4,
  sender_is_own = 1 << 5,
  sender_is_peer = 1 << 6,
  expect_other_addrs = 1 << 7,
};

IpAddress ipv6At(std::span<const std::uint8_t> b) {
  in6_addr a{};
  std::memcpy(&a, b.data(), sizeof a);
  return IpAddress::v6(a);
}

// The checksum an honest sender would have written, so that the fuzzer
// reaches the fields behind it. The codec's own drop detail names it
// ("checksum 0x0000, expected 0xNNNN"); if that text changes, inputs just
// keep their checksum.
void fixChecksum(std::vector<std::uint8_t>& msg, const IpAddress& src, const IpAddress& dst,
                 const vrrpd::CodecOptions& opt) {
  if (msg.size() < 8) return;
  msg[6] = msg[7] = 0;
  const auto r = vrrpd::decodeAdvert(msg, src, dst, opt);
  if (r.drop.reason != vrrpd::DropReason::bad_checksum) return;
  const std::string& d = r.drop.detail;
  const auto at = d.find("expected 0x");
  if (at == std::string::npos) return;
  std::uint16_t sum = 0;
  const char* first = d.data() + at + 11;
  if (std::from_chars(first, d.data() + d.size(), sum, 16).ec != std::errc()) return;
  msg[6] = static_cast<std::uint8_t>(sum >> 8);
  msg[7] = static_cast<std::uint8_t>(sum);
}

void checkReencodes(const Advert& a, const IpAddress& src, const IpAddress& dst,
                    const vrrpd::CodecOptions& opt) {
  const auto once = vrrpd::encodeAdvert(a, src, dst, opt);
  const auto back = vrrpd::decodeAdvert(once, src, dst, opt);
  if (!back.ok()) __builtin_trap();
  if (vrrpd::encodeAdvert(*back.advert, src, dst, opt) != once) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t opts = data[0];
  const std::span<const std::uint8_t> datagram(data + 1, size - 1);

  IpAddress src, dst;
  std::uint8_t ttl = 0;
  std::vector<std::uint8_t> msg;
  if (!datagram.empty() && (datagram[0] >> 4) == 6) {
    if (datagram.size() < 40) return 0;
    src = ipv6At(datagram.subspan(8, 16));
    dst = ipv6At(datagram.subspan(24, 16));
    ttl = datagram[7];
    msg.assign(datagram.begin() + 40, datagram.end());
  } else {
    vrrpd::Drop why{vrrpd::DropReason::too_short, ""};
    auto dg = vrrpd::parseIpv4(datagram, &why);
    if (!dg) return 0;
    src = dg->src;
    dst = dg->dst;
    ttl = dg->ttl;
    msg.assign(dg->payload.begin(), dg->payload.end());
  }

  vrrpd::CodecOptions codec;
  codec.v3_checksum_as_v2 = (opts & checksum_as_v2) != 0;
  if (opts & fix_checksum) fixChecksum(msg, src, dst, codec);
  auto decoded = vrrpd::decodeAdvert(msg, src, dst, codec);
  (void)vrrpd::dropReasonName(decoded.drop.reason);
  if (!decoded.ok()) return 0;
  const Advert& a = *decoded.advert;
  checkReencodes(a, src, dst, codec);

  vrrpd::AdvertExpectation want;
  want.version = a.version;
  want.vrid = a.vrid;
  want.unicast = (opts & unicast) != 0;
  want.auth_type = a.auth_type;
  want.auth_data = a.auth_data;
  want.interval_cs = a.interval_cs;
  want.addrs = a.addrs;
  if (opts & expect_other_addrs) {
    if (want.addrs.empty()) {
      want.addrs.push_back(src);
    } else {
      want.addrs.pop_back();
    }
  }
  want.skip_check_adv_addr = (opts & skip_check_adv_addr) != 0;
  if (opts & sender_is_known_master) want.known_master = src;
  if (opts & sender_is_own) want.own_addresses.push_back(src);
  if (opts & sender_is_peer) want.unicast_peers.push_back(src);
  auto verdict = vrrpd::filterAdvert(a, src, ttl, want);
  if (verdict) (void)vrrpd::dropReasonName(verdict->reason);
  return 0;
}
