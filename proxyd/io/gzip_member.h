// One gzip member (RFC 1952) holding a whole access-log buffer, made the way
// nginx's ngx_stream_log_gzip makes it: zlib's gzip wrapper (no name, mtime
// 0), the window and memory level shrunk for small inputs, one
// deflate(Z_FINISH). Members written one after another are one valid .gz
// file (zcat reads them all), and the same input gives nginx's bytes.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace proxyd {

// `level` is 1..9 (nginx's gzip=LEVEL).
common::Result<std::string> gzipMember(std::string_view data, int level);

}  // namespace proxyd
