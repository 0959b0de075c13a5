#include "proxyd/core/crc32.h"

#include <catch2/catch.hpp>

using proxyd::Crc32;
using proxyd::crc32;

TEST_CASE("crc32 matches the standard check values", "[crc32]") {
  // The CRC-32/ISO-HDLC check value, the same as zlib.crc32 and ngx_crc32_long.
  CHECK(crc32("123456789") == 0xcbf43926u);
  CHECK(crc32("") == 0u);
  CHECK(crc32("The quick brown fox jumps over the lazy dog") == 0x414fa339u);
  // python3 -c 'import zlib; print(hex(zlib.crc32(b"127.0.0.1")))'
  CHECK(crc32("127.0.0.1") == 0xd7b7e7a8u);
}

TEST_CASE("crc32 updates in pieces like ngx_crc32_update", "[crc32]") {
  Crc32 crc;
  crc.update("1234").update("").update("56789");
  CHECK(crc.final() == 0xcbf43926u);

  // A copy continues from the shared prefix, as the ketama ring relies on.
  Crc32 base;
  base.update("192.0.2.11").update("", 1).update("6443");
  Crc32 a = base;
  Crc32 b = base;
  a.update("x");
  b.update("x");
  CHECK(a.final() == b.final());
  CHECK(base.final() == crc32(std::string_view("192.0.2.11\0"
                                               "6443",
                                               15)));
}
