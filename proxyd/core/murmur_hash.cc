#include "proxyd/core/murmur_hash.h"

namespace proxyd {

std::uint32_t murmurHash2(std::string_view data) {
  constexpr std::uint32_t m = 0x5bd1e995;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t len = data.size();
  // nginx seeds with the length, truncated to 32 bits.
  std::uint32_t h = static_cast<std::uint32_t>(len);
  for (; len >= 4; p += 4, len -= 4) {
    std::uint32_t k = std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
                      std::uint32_t{p[3]} << 24;
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (len) {
    case 3:
      h ^= std::uint32_t{p[2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= std::uint32_t{p[1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= p[0];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

}  // namespace proxyd
