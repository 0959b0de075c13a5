#include "proxyd/core/consistent_hash.h"

#include <algorithm>
#include <array>

#include "proxyd/core/crc32.h"

namespace proxyd {

std::pair<std::string_view, std::string_view> KetamaRing::splitServer(std::string_view server) {
  // nginx compares the "unix:" prefix case-insensitively.
  if (server.size() >= 5) {
    std::string_view prefix = server.substr(0, 5);
    bool is_unix = std::equal(prefix.begin(), prefix.end(), "unix:", [](char a, char b) {
      return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
    });
    if (is_unix) return {server.substr(5), {}};
  }
  // Walk back over digits to the last colon, as ngx_stream_upstream_update_chash.
  for (std::size_t j = 0; j < server.size(); ++j) {
    char c = server[server.size() - j - 1];
    if (c == ':')
      return {server.substr(0, server.size() - j - 1), server.substr(server.size() - j)};
    if (c < '0' || c > '9') break;
  }
  return {server, {}};
}

KetamaRing::KetamaRing(const std::vector<Member>& members) {
  std::size_t total = 0;
  for (const Member& m : members) total += static_cast<std::size_t>(m.weight) * 160;
  points_.reserve(total);

  for (const Member& m : members) {
    // Cache::Memcached::Fast compatible: crc32(HOST "\0" PORT PREV_HASH),
    // PREV_HASH the previous point as 4 little-endian bytes, starting at 0.
    auto [host, port] = splitServer(m.server);
    Crc32 base;
    base.update(host).update("", 1).update(port);

    std::uint32_t prev = 0;
    for (int j = 0; j < m.weight * 160; ++j) {
      std::array<unsigned char, 4> le = {static_cast<unsigned char>(prev & 0xff),
                                         static_cast<unsigned char>((prev >> 8) & 0xff),
                                         static_cast<unsigned char>((prev >> 16) & 0xff),
                                         static_cast<unsigned char>((prev >> 24) & 0xff)};
      std::uint32_t hash = Crc32(base).update(le.data(), le.size()).final();
      points_.push_back({hash, m.id});
      prev = hash;
    }
  }

  // nginx sorts with ngx_qsort (glibc's qsort, a merge sort and so stable in
  // practice) and keeps the first of equal hashes: on a collision between two
  // servers the one listed first owns the point. A stable sort makes that
  // deterministic here.
  std::stable_sort(points_.begin(), points_.end(),
                   [](const Point& a, const Point& b) { return a.hash < b.hash; });
  auto last = std::unique(points_.begin(), points_.end(),
                          [](const Point& a, const Point& b) { return a.hash == b.hash; });
  points_.erase(last, points_.end());
}

std::size_t KetamaRing::find(std::uint32_t hash) const {
  // First point >= hash; the points are unique, so lower_bound is exactly
  // nginx's binary search.
  auto it = std::lower_bound(points_.begin(), points_.end(), hash,
                             [](const Point& p, std::uint32_t h) { return p.hash < h; });
  return static_cast<std::size_t>(it - points_.begin());
}

}  // namespace proxyd
