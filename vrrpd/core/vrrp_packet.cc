#include "vrrpd/core/vrrp_packet.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace vrrpd {

namespace {

// RFC 3768 5.1 / RFC 5798 5.1: the fixed part of every VRRP message.
constexpr std::size_t kHeaderLen = 8;
// RFC 3768 5.3.10: v2 always carries 8 bytes of authentication data after the
// addresses. keepalived sends them with every auth type (zeros unless PASS)
// and expects them on receive (vrrp_pkt_len / expected_vrrp_pkt_len).
constexpr std::size_t kAuthLen = 8;
constexpr std::uint8_t kTypeAdvertisement = 1;  // RFC 3768 5.3.2, RFC 5798 5.2.2
constexpr std::size_t kChecksumOffset = 6;
constexpr std::size_t kIpv4HeaderMin = 20;

std::size_t addrLen(const common::IpAddress& src) {
  return src.isV6() ? 16 : 4;
}

std::size_t messageLen(int version, std::size_t count, std::size_t alen) {
  return kHeaderLen + count * alen + (version == 2 ? kAuthLen : 0);
}

common::IpAddress makeAddress(const std::uint8_t* p, std::size_t alen) {
  if (alen == 16) {
    in6_addr a6;
    std::memcpy(&a6, p, 16);
    return common::IpAddress::v6(a6);
  }
  in_addr a4;
  std::memcpy(&a4, p, 4);
  return common::IpAddress::v4(a4);
}

// The Internet checksum of a VRRP message as it stands (checksum field
// included) with the pseudo-header its version and family call for. It is the
// value to send when the field is zero, and 0 for a received message whose
// checksum is right (the receiver's check in RFC 1071 and keepalived).
// - v2: over the VRRP message alone, auth data included (RFC 3768 5.3.8;
//   keepalived vrrp_build_vrrp_v2).
// - v3 over IPv4: with the IPv4 pseudo-header {src, dst, 0, 112, VRRP length}
//   (RFC 5798 5.2.8; keepalived vrrp_build_vrrp_v3, in unicast mode per peer
//   with that peer as dst). keepalived's v3_checksum_as_v2 leaves it out.
// - v3 over IPv6: the RFC 2460 8.1 pseudo-header {src, dst, 32-bit upper-layer
//   length, 3 zero bytes, next header 112}. keepalived leaves this to the
//   kernel (IPV6_CHECKSUM), which uses exactly that.
std::uint16_t vrrpChecksum(int version, std::span<const std::uint8_t> msg,
                           const common::IpAddress& src, const common::IpAddress& dst,
                           const CodecOptions& opt) {
  const std::span<const std::uint8_t> body = msg;
  if (version == 3 && src.isV6()) {
    std::array<std::uint8_t, 40> ph{};
    std::memcpy(ph.data(), src.bytes(), 16);
    std::memcpy(ph.data() + 16, dst.bytes(), 16);
    const auto len = static_cast<std::uint32_t>(body.size());
    ph[32] = static_cast<std::uint8_t>(len >> 24);
    ph[33] = static_cast<std::uint8_t>(len >> 16);
    ph[34] = static_cast<std::uint8_t>(len >> 8);
    ph[35] = static_cast<std::uint8_t>(len);
    ph[39] = kIpProtoVrrp;
    return internetChecksum({ph, body});
  }
  if (version == 3 && !opt.v3_checksum_as_v2) {
    std::array<std::uint8_t, 12> ph{};
    std::memcpy(ph.data(), src.bytes(), 4);
    std::memcpy(ph.data() + 4, dst.bytes(), 4);
    ph[9] = kIpProtoVrrp;
    ph[10] = static_cast<std::uint8_t>(body.size() >> 8);
    ph[11] = static_cast<std::uint8_t>(body.size());
    return internetChecksum({ph, body});
  }
  return internetChecksum({body});
}

Drop drop(DropReason r, std::string detail) {
  return Drop{r, std::move(detail)};
}

}  // namespace

const common::IpAddress& vrrpMulticastV4() {
  // RFC 3768 5.2.2 / RFC 5798 5.1.1.2: 224.0.0.18.
  static const common::IpAddress a = *common::IpAddress::parse("224.0.0.18");
  return a;
}

const common::IpAddress& vrrpMulticastV6() {
  // RFC 5798 5.1.2.2: ff02::12.
  static const common::IpAddress a = *common::IpAddress::parse("ff02::12");
  return a;
}

std::string_view dropReasonName(DropReason r) {
  switch (r) {
    case DropReason::too_short:
      return "too_short";
    case DropReason::bad_length:
      return "bad_length";
    case DropReason::bad_version:
      return "bad_version";
    case DropReason::bad_type:
      return "bad_type";
    case DropReason::bad_checksum:
      return "bad_checksum";
    case DropReason::bad_ttl:
      return "bad_ttl";
    case DropReason::unknown_vrid:
      return "unknown_vrid";
    case DropReason::family_mismatch:
      return "family_mismatch";
    case DropReason::auth_mismatch:
      return "auth_mismatch";
    case DropReason::interval_mismatch:
      return "interval_mismatch";
    case DropReason::address_mismatch:
      return "address_mismatch";
    case DropReason::own_packet:
      return "own_packet";
    case DropReason::bad_ip_header:
      return "bad_ip_header";
    case DropReason::not_unicast_peer:
      return "not_unicast_peer";
    case DropReason::count_:
      break;
  }
  return "unknown";
}

std::array<std::uint8_t, 8> passwordBytes(std::string_view password, bool* truncated) {
  // keepalived keeps the first 8 bytes of auth_pass, NUL-padded, and warns
  // "Truncating auth_pass to 8 characters" (vrrp_parser.c).
  std::array<std::uint8_t, 8> out{};
  const std::size_t n = std::min(password.size(), out.size());
  std::memcpy(out.data(), password.data(), n);
  if (truncated != nullptr) *truncated = password.size() > out.size();
  return out;
}

std::uint16_t internetChecksum(std::initializer_list<std::span<const std::uint8_t>> parts) {
  // RFC 1071: the one's complement of the one's complement sum of 16-bit
  // big-endian words. The parts are one byte stream: a part of odd length
  // leaves its last byte as the high half of a word the next part completes.
  std::uint32_t sum = 0;
  bool odd = false;
  for (auto part : parts) {
    for (std::uint8_t b : part) {
      sum += odd ? b : static_cast<std::uint32_t>(b) << 8;
      odd = !odd;
    }
    // Fold early so that long inputs cannot overflow 32 bits.
    sum = (sum & 0xffff) + (sum >> 16);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::vector<std::uint8_t> encodeAdvert(const Advert& a, const common::IpAddress& src,
                                       const common::IpAddress& dst, const CodecOptions& opt) {
  const std::size_t alen = addrLen(src);
  // Only addresses of the sender's family fit in the message (one family per
  // advert: RFC 5798 5.2.9).
  std::vector<const common::IpAddress*> addrs;
  for (const auto& ip : a.addrs) {
    if (ip.size() == alen) addrs.push_back(&ip);
  }
  const std::size_t count = std::min<std::size_t>(addrs.size(), 255);
  std::vector<std::uint8_t> out(messageLen(a.version, count, alen), 0);

  out[0] = static_cast<std::uint8_t>((a.version << 4) | kTypeAdvertisement);
  out[1] = a.vrid;
  out[2] = a.priority;
  out[3] = static_cast<std::uint8_t>(count);
  if (a.version == 2) {
    out[4] = static_cast<std::uint8_t>(a.auth_type);
    // RFC 3768 5.3.7: whole seconds; keepalived writes adver_int / TIMER_HZ.
    out[5] = static_cast<std::uint8_t>(a.interval_cs / 100);
  } else {
    // RFC 5798 5.2.5: 4 reserved bits (zero) and 12 bits of centiseconds.
    const std::uint16_t cs = a.interval_cs & 0x0fff;
    out[4] = static_cast<std::uint8_t>(cs >> 8);
    out[5] = static_cast<std::uint8_t>(cs);
  }
  std::size_t off = kHeaderLen;
  for (std::size_t i = 0; i < count; ++i, off += alen) {
    std::memcpy(out.data() + off, addrs[i]->bytes(), alen);
  }
  // keepalived copies the password only with PASS; otherwise the 8 bytes
  // stay zero.
  if (a.version == 2 && a.auth_type == AuthType::pass) {
    std::memcpy(out.data() + off, a.auth_data.data(), kAuthLen);
  }

  const std::uint16_t sum = vrrpChecksum(a.version, out, src, dst, opt);
  out[kChecksumOffset] = static_cast<std::uint8_t>(sum >> 8);
  out[kChecksumOffset + 1] = static_cast<std::uint8_t>(sum);
  return out;
}

DecodeResult decodeAdvert(std::span<const std::uint8_t> msg, const common::IpAddress& src,
                          const common::IpAddress& dst, const CodecOptions& opt) {
  DecodeResult r;
  if (msg.size() < kHeaderLen) {
    r.drop = drop(DropReason::too_short,
                  fmt::format("{} bytes, a VRRP header has {}", msg.size(), kHeaderLen));
    return r;
  }
  const int version = msg[0] >> 4;
  const int type = msg[0] & 0x0f;
  if (version != 2 && version != 3) {
    r.drop = drop(DropReason::bad_version, fmt::format("version {}, expected 2 or 3", version));
    return r;
  }
  // VRRPv2 is IPv4 only (RFC 3768 1); keepalived forces v3 for IPv6.
  if (version == 2 && src.isV6()) {
    r.drop = drop(DropReason::family_mismatch, "VRRPv2 over IPv6");
    return r;
  }
  // keepalived (vrrp_check_packet) wants exactly the length the address
  // count implies, neither shorter nor longer.
  const std::size_t alen = addrLen(src);
  const std::size_t count = msg[3];
  const std::size_t want_len = messageLen(version, count, alen);
  if (msg.size() != want_len) {
    r.drop = drop(DropReason::bad_length,
                  fmt::format("{} bytes, expected {} for VRRPv{} with {} address{}", msg.size(),
                              want_len, version, count, count == 1 ? "" : "es"));
    return r;
  }
  if (type != kTypeAdvertisement) {
    r.drop = drop(DropReason::bad_type, fmt::format("type {}, expected 1 (ADVERTISEMENT)", type));
    return r;
  }
  if (vrrpChecksum(version, msg, src, dst, opt) != 0) {
    const std::uint16_t carried =
        static_cast<std::uint16_t>((msg[kChecksumOffset] << 8) | msg[kChecksumOffset + 1]);
    std::vector<std::uint8_t> zeroed(msg.begin(), msg.end());
    zeroed[kChecksumOffset] = 0;
    zeroed[kChecksumOffset + 1] = 0;
    const std::uint16_t computed = vrrpChecksum(version, zeroed, src, dst, opt);
    r.drop = drop(DropReason::bad_checksum,
                  fmt::format("checksum 0x{:04x}, expected 0x{:04x}", carried, computed));
    return r;
  }

  Advert a;
  a.version = version;
  a.vrid = msg[1];
  a.priority = msg[2];
  if (version == 2) {
    a.auth_type = static_cast<AuthType>(msg[4]);
    a.interval_cs = static_cast<std::uint16_t>(msg[5] * 100);
  } else {
    // The 4 reserved bits are ignored on receive (RFC 5798 5.2.5).
    a.interval_cs = static_cast<std::uint16_t>(((msg[4] << 8) | msg[5]) & 0x0fff);
  }
  std::size_t off = kHeaderLen;
  a.addrs.reserve(count);
  for (std::size_t i = 0; i < count; ++i, off += alen) {
    a.addrs.push_back(makeAddress(msg.data() + off, alen));
  }
  if (version == 2) std::memcpy(a.auth_data.data(), msg.data() + off, kAuthLen);
  r.advert = std::move(a);
  return r;
}

std::optional<Ipv4Datagram> parseIpv4(std::span<const std::uint8_t> datagram, Drop* why) {
  auto fail = [why](std::string detail) -> std::optional<Ipv4Datagram> {
    if (why != nullptr) *why = drop(DropReason::bad_ip_header, std::move(detail));
    return std::nullopt;
  };
  if (datagram.size() < kIpv4HeaderMin) {
    return fail(fmt::format("{} bytes, shorter than an IPv4 header", datagram.size()));
  }
  if ((datagram[0] >> 4) != 4) return fail(fmt::format("IP version {}", datagram[0] >> 4));
  const std::size_t ihl = static_cast<std::size_t>(datagram[0] & 0x0f) * 4;
  if (ihl < kIpv4HeaderMin || ihl > datagram.size()) {
    return fail(fmt::format("header length {} in a {}-byte datagram", ihl, datagram.size()));
  }
  // keepalived drops a datagram whose total length differs from what was
  // received ("ip_tot_len mismatch against received length").
  const std::size_t tot_len = static_cast<std::size_t>((datagram[2] << 8) | datagram[3]);
  if (tot_len != datagram.size() || tot_len < ihl) {
    return fail(fmt::format("total length {}, received {}", tot_len, datagram.size()));
  }
  // The kernel reassembles before a raw socket sees a datagram; a fragment
  // here is malformed.
  const std::uint16_t frag = static_cast<std::uint16_t>((datagram[6] << 8) | datagram[7]);
  if ((frag & 0x2000) != 0 || (frag & 0x1fff) != 0) return fail("fragment");

  Ipv4Datagram d;
  in_addr a;
  std::memcpy(&a, datagram.data() + 12, 4);
  d.src = common::IpAddress::v4(a);
  std::memcpy(&a, datagram.data() + 16, 4);
  d.dst = common::IpAddress::v4(a);
  d.ttl = datagram[8];
  d.protocol = datagram[9];
  d.payload = datagram.subspan(ihl, tot_len - ihl);
  return d;
}

}  // namespace vrrpd
