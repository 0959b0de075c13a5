#include "proxyd/io/gzip_member.h"

#include <zlib.h>

#include <catch2/catch.hpp>

#include <string>

using proxyd::gzipMember;

namespace {

std::string gunzip(const std::string& member) {
  std::string out(1 << 20, '\0');
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(member.data()));
  z.avail_in = static_cast<uInt>(member.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
  CHECK(z.avail_in == 0);  // exactly one member, nothing after it
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("gzipMember: one RFC 1952 member that zlib reads back") {
  for (std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(200), std::size_t(70000)}) {
    std::string data;
    for (std::size_t i = 0; i < size; ++i) data.push_back(static_cast<char>('a' + i * 7 % 26));
    for (int level : {1, 6, 9}) {
      INFO("size " << size << " level " << level);
      auto member = gzipMember(data, level);
      REQUIRE(member.ok());
      CHECK(gunzip(*member) == data);
    }
  }
}

TEST_CASE("gzipMember: zlib's header as nginx writes it (no name, mtime 0, Unix)") {
  auto member = gzipMember("line\n", 1);
  REQUIRE(member.ok());
  REQUIRE(member->size() >= 18);
  // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS=3 (RFC 1952 2.3).
  CHECK(member->substr(0, 8) == std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8));
  CHECK(static_cast<unsigned char>((*member)[8]) == 4);  // level 1: "fastest"
  CHECK(static_cast<unsigned char>((*member)[9]) == 3);
  auto best = gzipMember("line\n", 9);
  REQUIRE(best.ok());
  CHECK(static_cast<unsigned char>((*best)[8]) == 2);  // level 9: "maximum compression"
}
