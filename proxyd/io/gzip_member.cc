#include "proxyd/io/gzip_member.h"

#include <zlib.h>

#include <fmt/format.h>

namespace proxyd {

namespace {

// Owns a deflate stream from deflateInit2 to deflateEnd.
struct Deflater {
  z_stream z{};
  bool live = false;
  ~Deflater() {
    if (live) deflateEnd(&z);
  }
};

}  // namespace

common::Result<std::string> gzipMember(std::string_view data, int level) {
  using R = common::Result<std::string>;
  // As nginx: a window no larger than the input needs (and the memory level
  // with it), so a small buffer costs little memory to compress.
  int wbits = MAX_WBITS;
  int memlevel = MAX_MEM_LEVEL - 1;
  while (static_cast<long long>(data.size()) < (1LL << (wbits - 1)) - 262) {
    --wbits;
    --memlevel;
  }
  Deflater d;
  // +16: the gzip wrapper instead of zlib's.
  int rc = deflateInit2(&d.z, level, Z_DEFLATED, wbits + 16, memlevel, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) return R::fail(fmt::format("deflateInit2() failed: {}", rc));
  d.live = true;
  std::string out(deflateBound(&d.z, data.size()), '\0');
  d.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  d.z.avail_in = static_cast<uInt>(data.size());
  d.z.next_out = reinterpret_cast<Bytef*>(out.data());
  d.z.avail_out = static_cast<uInt>(out.size());
  rc = deflate(&d.z, Z_FINISH);
  if (rc != Z_STREAM_END) return R::fail(fmt::format("deflate(Z_FINISH) failed: {}", rc));
  out.resize(out.size() - d.z.avail_out);
  return out;
}

}  // namespace proxyd
