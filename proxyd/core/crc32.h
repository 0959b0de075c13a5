// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum nginx's
// hash balancers use (ngx_crc32_long / ngx_crc32_update), so that `hash` and
// `hash ... consistent` pick the same servers nginx picks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace proxyd {

// Incremental form, matching nginx's ngx_crc32_init / ngx_crc32_update /
// ngx_crc32_final: the ketama ring chains updates from a common prefix.
class Crc32 {
 public:
  Crc32& update(const void* data, std::size_t size);
  Crc32& update(std::string_view bytes) { return update(bytes.data(), bytes.size()); }
  std::uint32_t final() const { return ~state_; }

 private:
  std::uint32_t state_ = 0xffffffffu;
};

// One-shot CRC-32 of `bytes` (ngx_crc32_long); crc32("123456789") == 0xCBF43926.
std::uint32_t crc32(std::string_view bytes);

}  // namespace proxyd
