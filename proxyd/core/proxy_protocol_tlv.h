// $proxy_protocol_tlv_NAME (nginx 1.23.2+, ngx_proxy_protocol_get_tlv): a
// v2 TLV of the client's PROXY header by name ("alpn", "ssl_cn"), by type
// ("0x05", "ssl_0x21"), or the SSL TLV's verify field ("ssl_verify").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace proxyd {

struct ProxyProtocolTlvSelector {
  // 0..255; kNoType for a type nginx accepts but no TLV can have (0x100..).
  std::uint16_t type = 0;
  bool ssl = false;     // a sub-TLV of the SSL TLV (0x20)
  bool verify = false;  // ssl_verify: the SSL TLV's 32-bit verify field
  static constexpr std::uint16_t kNoType = 0x100;

  // Packed into a template piece's index.
  std::size_t pack() const;
  static ProxyProtocolTlvSelector unpack(std::size_t packed);
};

// The part of the variable's name after "proxy_protocol_tlv_", in lower
// case as nginx keeps variable names. nginx says "unknown PROXY protocol
// TLV" (or "invalid" for bad hex) when a session asks; here it is said at
// load, so the name is checked once.
common::Result<ProxyProtocolTlvSelector> parseProxyProtocolTlvName(std::string_view name);

// The TLV's value from a header's TLV bytes; none when it is absent or the
// TLVs are broken (nginx fails the variable then: "-" in the log).
// `scratch` holds a value that has to be printed (ssl_verify).
std::optional<std::string_view> findProxyProtocolTlv(std::string_view tlvs,
                                                     ProxyProtocolTlvSelector sel,
                                                     std::string& scratch);

}  // namespace proxyd
