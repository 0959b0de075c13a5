// The ketama ring of `hash KEY consistent`, built point for point as nginx
// builds it (ngx_stream_upstream_update_chash, formerly init_chash), so that
// moving from nginx to proxyd does not reshuffle clients.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace proxyd {

class KetamaRing {
 public:
  struct Point {
    std::uint32_t hash;
    std::uint32_t server;  // the caller's id of the server that owns the point
  };

  // One entry per peer, in peer order: nginx adds 160 * weight points per
  // peer, so a name that resolved to several addresses adds identical points
  // (dropped again as duplicates).
  struct Member {
    std::string_view server;  // as written: "192.0.2.11:6443"
    int weight;
    std::uint32_t id;
  };

  KetamaRing() = default;
  explicit KetamaRing(const std::vector<Member>& members);

  bool empty() const { return points_.empty(); }
  std::size_t size() const { return points_.size(); }
  const std::vector<Point>& points() const { return points_; }

  // Index of the first point whose hash is >= `hash`; size() when the hash is
  // past the last point (the caller wraps with `% size()`, as nginx does).
  // ngx_stream_upstream_find_chash_point.
  std::size_t find(std::uint32_t hash) const;

  // The server id at ring position `pos`, wrapping.
  std::uint32_t serverAt(std::uint32_t pos) const { return points_[pos % points_.size()].server; }

  // Splits a server as written into the host and port parts nginx hashes:
  // the port is the run of digits after the last colon ("[::1]:80" gives
  // "[::1]" and "80"); "unix:PATH" gives PATH and no port; no colon-digits
  // suffix gives the whole text and no port.
  static std::pair<std::string_view, std::string_view> splitServer(std::string_view server);

 private:
  std::vector<Point> points_;
};

}  // namespace proxyd
