// nginx's ngx_murmur_hash2 (src/core/ngx_murmurhash.c): MurmurHash2 with
// seed 0 read little-endian, whatever the host, which split_clients puts
// every key through. Same function, same buckets as nginx.
#pragma once

#include <cstdint>
#include <string_view>

namespace proxyd {

std::uint32_t murmurHash2(std::string_view data);

}  // namespace proxyd
