// How many keys a limit_conn_zone of SIZE bytes holds: the accounting of
// nginx's slab allocator (src/core/ngx_slab.c) over a shared zone of that
// size, without the memory. nginx carves the zone into 4 KiB pages after
// its pool header, page descriptors and per-class slots (x86-64 sizes);
// each allocation takes a chunk of the next power of two (at least 8
// bytes) from a page given to that class, and a page whose chunks are all
// free goes back to the pool. A zone is full when a new chunk needs a page
// and none is left: nginx's "ngx_slab_alloc() failed: no memory".
//
// Which partially used page a chunk comes from differs from nginx's list
// order after frees; the number of keys a zone holds before any is freed is
// nginx's exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace proxyd {

class SlabModel {
 public:
  static constexpr std::size_t kPageSize = 4096;
  static constexpr std::size_t kMaxChunk = kPageSize / 2;  // larger: whole pages (unused here)

  // A chunk handed out: its page and its class (log2 of the chunk size).
  struct Chunk {
    std::uint32_t page = 0;
    std::uint8_t shift = 0;
  };

  explicit SlabModel(std::size_t zone_size);

  // A chunk for `bytes` (1..kMaxChunk); none when the zone is full.
  std::optional<Chunk> alloc(std::size_t bytes);
  void free(Chunk chunk);

  std::size_t pages() const { return total_pages_; }     // usable pages of the zone
  std::size_t freePages() const { return free_pages_; }  // not given to any class

  // Chunks of 2^shift bytes one page holds (the small classes keep their
  // bitmap in the page's first chunks, as nginx's).
  static std::size_t chunksPerPage(unsigned shift);

 private:
  struct Page {
    std::uint16_t used = 0;
    std::uint8_t shift = 0;
    bool listed = false;  // in its class's list of pages with a free chunk
  };
  static constexpr unsigned kMinShift = 3;
  static constexpr unsigned kClasses = 9;  // 8 .. 2048 bytes

  std::uint32_t takePage(unsigned shift);
  void unlist(std::uint32_t page);

  std::size_t total_pages_ = 0;
  std::size_t free_pages_ = 0;
  std::vector<Page> pages_;                       // grown as pages are first used
  std::vector<std::uint32_t> recycled_;           // indices of pages given back
  std::vector<std::uint32_t> partial_[kClasses];  // pages with a free chunk, newest last
};

}  // namespace proxyd
