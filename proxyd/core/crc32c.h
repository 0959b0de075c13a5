// CRC-32C (Castagnoli, RFC 3720 B.4), as the PROXY protocol v2 CRC32C TLV
// carries it (nginx's ngx_crc32c_long, haproxy's hash_crc32c).
#pragma once

#include <cstdint>
#include <string_view>

namespace proxyd {

std::uint32_t crc32c(std::string_view data);

}  // namespace proxyd
