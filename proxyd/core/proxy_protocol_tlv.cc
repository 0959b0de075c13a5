#include "proxyd/core/proxy_protocol_tlv.h"

#include <array>

#include <fmt/format.h>

namespace proxyd {
namespace {

struct TlvName {
  std::string_view name;
  std::uint8_t type;
};

// ngx_proxy_protocol_tlv_entries and _tlv_ssl_entries.
constexpr std::array<TlvName, 5> kTlvs{{
    {"alpn", 0x01},
    {"authority", 0x02},
    {"unique_id", 0x05},
    {"ssl", 0x20},
    {"netns", 0x30},
}};
constexpr std::array<TlvName, 5> kSslTlvs{{
    {"version", 0x21},
    {"cn", 0x22},
    {"cipher", 0x23},
    {"sig_alg", 0x24},
    {"key_alg", 0x25},
}};
constexpr std::uint8_t kSslType = 0x20;
constexpr std::size_t kSslFixed = 5;  // client (1) + verify (4)

// ngx_hextoi: one or more hex digits, no sign; too large for a TLV type
// is still accepted (it matches nothing).
std::optional<std::uint16_t> hexType(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint32_t value = 0;
  for (const char c : digits) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (d < 0) return std::nullopt;
    value = value > 0xff ? value : value * 16 + static_cast<std::uint32_t>(d);
  }
  return value > 0xff ? ProxyProtocolTlvSelector::kNoType : static_cast<std::uint16_t>(value);
}

// ngx_proxy_protocol_lookup_tlv: type (1), length (2, big-endian), value.
enum class Found { yes, no, broken };
Found lookup(std::string_view tlvs, std::uint16_t type, std::string_view& value) {
  while (!tlvs.empty()) {
    if (tlvs.size() < 3) return Found::broken;
    const auto t = static_cast<unsigned char>(tlvs[0]);
    const std::size_t len =
        (static_cast<unsigned char>(tlvs[1]) << 8) | static_cast<unsigned char>(tlvs[2]);
    tlvs.remove_prefix(3);
    if (tlvs.size() < len) return Found::broken;
    if (t == type) {
      value = tlvs.substr(0, len);
      return Found::yes;
    }
    tlvs.remove_prefix(len);
  }
  return Found::no;
}

}  // namespace

std::size_t ProxyProtocolTlvSelector::pack() const {
  return static_cast<std::size_t>(type) | (ssl ? 0x1000u : 0u) | (verify ? 0x2000u : 0u);
}

ProxyProtocolTlvSelector ProxyProtocolTlvSelector::unpack(std::size_t packed) {
  ProxyProtocolTlvSelector s;
  s.type = static_cast<std::uint16_t>(packed & 0x1ff);
  s.ssl = (packed & 0x1000u) != 0;
  s.verify = (packed & 0x2000u) != 0;
  return s;
}

common::Result<ProxyProtocolTlvSelector> parseProxyProtocolTlvName(std::string_view name) {
  using R = common::Result<ProxyProtocolTlvSelector>;
  ProxyProtocolTlvSelector sel;
  std::string_view rest = name;
  const auto* table = &kTlvs;
  if (rest.size() >= 4 && rest.substr(0, 4) == "ssl_") {
    sel.ssl = true;
    rest.remove_prefix(4);
    if (rest == "verify") {
      sel.verify = true;
      return sel;
    }
    table = &kSslTlvs;
  }
  if (rest.size() >= 2 && rest.substr(0, 2) == "0x") {
    auto type = hexType(rest.substr(2));
    if (!type) return R::fail(fmt::format("invalid PROXY protocol TLV \"{}\"", name));
    sel.type = *type;
    return sel;
  }
  for (const TlvName& t : *table) {
    if (t.name == rest) {
      sel.type = t.type;
      return sel;
    }
  }
  return R::fail(fmt::format("unknown PROXY protocol TLV \"{}\"", name));
}

std::optional<std::string_view> findProxyProtocolTlv(std::string_view tlvs,
                                                     ProxyProtocolTlvSelector sel,
                                                     std::string& scratch) {
  std::string_view value;
  if (sel.ssl) {
    std::string_view ssl;
    if (lookup(tlvs, kSslType, ssl) != Found::yes || ssl.size() < kSslFixed) return std::nullopt;
    if (sel.verify) {
      const auto* v = reinterpret_cast<const unsigned char*>(ssl.data()) + 1;
      const std::uint32_t verify = (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) |
                                   (std::uint32_t{v[2]} << 8) | v[3];
      scratch = fmt::format("{}", verify);
      return std::string_view(scratch);
    }
    tlvs = ssl.substr(kSslFixed);
  }
  if (lookup(tlvs, sel.type, value) != Found::yes) return std::nullopt;
  return value;
}

}  // namespace proxyd
