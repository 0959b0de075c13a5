#include "proxyd/core/slab_model.h"

#include <algorithm>

namespace proxyd {

namespace {

// x86-64 sizes of what ngx_slab_init puts before the pages:
// sizeof(ngx_slab_pool_t), one ngx_slab_page_t slot and one ngx_slab_stat_t
// per class, then one ngx_slab_page_t per page.
constexpr std::size_t kPoolHeader = 200;
constexpr std::size_t kPageDescriptor = 24;
constexpr std::size_t kStat = 32;
constexpr std::size_t kSlotsAndStats = 9 * (kPageDescriptor + kStat);

unsigned shiftFor(std::size_t bytes) {
  unsigned shift = 3;
  while ((std::size_t{1} << shift) < bytes) ++shift;
  return shift;
}

}  // namespace

SlabModel::SlabModel(std::size_t zone_size) {
  // ngx_slab_init: as many pages as fit with their descriptors, then the
  // first page aligned to the page size, which may cost one more.
  const std::size_t head = kPoolHeader + kSlotsAndStats;
  if (zone_size <= head) return;
  std::size_t pages = (zone_size - head) / (kPageSize + kPageDescriptor);
  std::size_t start = head + pages * kPageDescriptor;
  start = (start + kPageSize - 1) / kPageSize * kPageSize;
  std::size_t fit = zone_size > start ? (zone_size - start) / kPageSize : 0;
  total_pages_ = std::min(pages, fit);
  free_pages_ = total_pages_;
}

std::size_t SlabModel::chunksPerPage(unsigned shift) {
  std::size_t chunks = kPageSize >> shift;
  // ngx_slab_exact_shift is 6 with 64-bit bitmaps: below it the bitmap
  // takes the page's first chunks.
  if (shift < 6) {
    std::size_t bitmap_bytes = chunks / 8;
    std::size_t taken = std::max<std::size_t>(1, bitmap_bytes >> shift);
    chunks -= taken;
  }
  return chunks;
}

std::uint32_t SlabModel::takePage(unsigned shift) {
  --free_pages_;
  std::uint32_t index;
  if (!recycled_.empty()) {
    index = recycled_.back();
    recycled_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(pages_.size());
    pages_.emplace_back();
  }
  pages_[index] = Page{0, static_cast<std::uint8_t>(shift), false};
  return index;
}

void SlabModel::unlist(std::uint32_t page) {
  auto& list = partial_[pages_[page].shift - kMinShift];
  list.erase(std::find(list.begin(), list.end(), page));
  pages_[page].listed = false;
}

std::optional<SlabModel::Chunk> SlabModel::alloc(std::size_t bytes) {
  if (bytes == 0 || bytes > kMaxChunk) return std::nullopt;
  const unsigned shift = shiftFor(bytes);
  auto& list = partial_[shift - kMinShift];
  std::uint32_t page;
  if (!list.empty()) {
    page = list.back();
  } else {
    if (free_pages_ == 0) return std::nullopt;
    page = takePage(shift);
    list.push_back(page);
    pages_[page].listed = true;
  }
  Page& p = pages_[page];
  ++p.used;
  if (p.used == chunksPerPage(shift)) unlist(page);
  return Chunk{page, static_cast<std::uint8_t>(shift)};
}

void SlabModel::free(Chunk chunk) {
  Page& p = pages_[chunk.page];
  --p.used;
  if (p.used == 0) {
    // ngx_slab_free: an empty page goes back to the pool.
    if (p.listed) unlist(chunk.page);
    recycled_.push_back(chunk.page);
    ++free_pages_;
    return;
  }
  if (!p.listed) {
    // A full page with a chunk free again heads its class's list.
    partial_[chunk.shift - kMinShift].push_back(chunk.page);
    p.listed = true;
  }
}

}  // namespace proxyd
