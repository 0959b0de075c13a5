// VRRP advertisements on the wire: VRRPv2 (RFC 3768, with keepalived's
// auth_type PASS) and VRRPv3 (RFC 5798 / RFC 9568) over IPv4 and IPv6,
// checksummed the way keepalived does it. Parsers take bytes, never sockets;
// fields are read with shifts, never by casting a struct onto the buffer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"

namespace vrrpd {

constexpr std::uint8_t kIpProtoVrrp = 112;
constexpr std::uint8_t kVrrpTtl = 255;
constexpr std::uint8_t kVrrpTos = 0xc0;      // keepalived's IP header TOS (internetwork control)
const common::IpAddress& vrrpMulticastV4();  // 224.0.0.18
const common::IpAddress& vrrpMulticastV6();  // ff02::12

enum class AuthType : std::uint8_t { none = 0, pass = 1, ah = 2 };

struct Advert {
  int version = 2;  // 2 or 3
  std::uint8_t vrid = 0;
  std::uint8_t priority = 100;
  // The advertisement interval in centiseconds. On the wire v2 carries whole
  // seconds (8 bits), v3 centiseconds (12 bits).
  std::uint16_t interval_cs = 100;
  AuthType auth_type = AuthType::none;      // v2 only
  std::array<std::uint8_t, 8> auth_data{};  // v2 only: the password, NUL-padded
  std::vector<common::IpAddress> addrs;     // the virtual addresses, all one family
};

struct CodecOptions {
  // keepalived's v3_checksum_as_v2: v3 over IPv4 without the pseudo-header.
  bool v3_checksum_as_v2 = false;
};

// Why an advert was dropped. Each reason is counted and logged at debug.
enum class DropReason {
  too_short,
  bad_length,  // not the length the address count says (keepalived: too short or long)
  bad_version,
  bad_type,  // not an ADVERTISEMENT
  bad_checksum,
  bad_ttl,            // not 255 on multicast (RFC 3768 7.1, RFC 5798 7.1)
  unknown_vrid,       // no instance on this interface has it
  family_mismatch,    // IPv6 carrying v2, or the family differs from ours
  auth_mismatch,      // auth type or the 8 bytes of PASS differ
  interval_mismatch,  // v2: advert interval differs from ours (v3 adopts it)
  address_mismatch,   // the address list differs from ours (RFC 3768 7.1)
  own_packet,         // our own advert looped back
  bad_ip_header,
  not_unicast_peer,  // unicast mode: the sender is not one of our unicast_peer addresses
  count_,
};
std::string_view dropReasonName(DropReason r);

struct Drop {
  DropReason reason;
  std::string detail;  // human text for the debug log: "TTL 64, expected 255"
};

// The password as keepalived puts it on the wire: cut to 8 bytes and
// NUL-padded. `truncated` tells whether it was longer (keepalived warns).
std::array<std::uint8_t, 8> passwordBytes(std::string_view password, bool* truncated = nullptr);

// Encodes the VRRP message (no IP header) that `src` sends to `dst`; the
// checksum depends on both for v3 over IPv4 (pseudo-header) and IPv6.
std::vector<std::uint8_t> encodeAdvert(const Advert& a, const common::IpAddress& src,
                                       const common::IpAddress& dst, const CodecOptions& opt = {});

// Decodes and checks the structure of a VRRP message received from `src`
// to `dst`: length, version, type, address count, checksum. Checks against
// an instance's settings are in advert_filter.h.
struct DecodeResult {
  std::optional<Advert> advert;
  Drop drop{DropReason::too_short, ""};
  bool ok() const { return advert.has_value(); }
};
DecodeResult decodeAdvert(std::span<const std::uint8_t> msg, const common::IpAddress& src,
                          const common::IpAddress& dst, const CodecOptions& opt = {});

// An IPv4 datagram as a raw IPPROTO_VRRP socket delivers it (with its IP
// header): the header's fields and the payload.
struct Ipv4Datagram {
  common::IpAddress src;
  common::IpAddress dst;
  std::uint8_t ttl = 0;
  std::uint8_t protocol = 0;
  std::span<const std::uint8_t> payload;
};
std::optional<Ipv4Datagram> parseIpv4(std::span<const std::uint8_t> datagram, Drop* why = nullptr);

// RFC 1071 Internet checksum over the concatenation of the parts.
std::uint16_t internetChecksum(std::initializer_list<std::span<const std::uint8_t>> parts);

}  // namespace vrrpd
