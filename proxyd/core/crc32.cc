#include "proxyd/core/crc32.h"

#include <array>

namespace proxyd {
namespace {

// The classic byte-wise table; nginx's ngx_crc32_table256 holds the same values.
constexpr std::array<std::uint32_t, 256> makeTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = makeTable();

}  // namespace

Crc32& Crc32::update(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t c = state_;
  for (std::size_t i = 0; i < size; ++i) c = kTable[(c ^ p[i]) & 0xff] ^ (c >> 8);
  state_ = c;
  return *this;
}

std::uint32_t crc32(std::string_view bytes) {
  return Crc32().update(bytes).final();
}

}  // namespace proxyd
