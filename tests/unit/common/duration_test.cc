#include "common/duration.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using common::parseDuration;
using common::parseFlag;
using common::parseSize;
using common::parseUnsigned;
using std::chrono::milliseconds;

namespace {

std::int64_t ms(std::string_view text) {
  auto r = parseDuration(text);
  INFO("parseDuration(\"" << std::string(text) << "\")");
  REQUIRE(r.ok());
  return r->count();
}

}  // namespace

TEST_CASE("parseDuration: nginx units", "[duration]") {
  CHECK(ms("500ms") == 500);
  CHECK(ms("1s") == 1000);
  CHECK(ms("30s") == 30'000);
  CHECK(ms("10m") == 600'000);
  CHECK(ms("1h") == 3'600'000);
  CHECK(ms("1d") == 86'400'000);
  CHECK(ms("1w") == 7 * 86'400'000LL);
  CHECK(ms("1M") == 30 * 86'400'000LL);  // nginx: a month is 30 days
  CHECK(ms("1y") == 365 * 86'400'000LL);
  CHECK(ms("0s") == 0);
  CHECK(ms("0ms") == 0);
}

TEST_CASE("parseDuration: combinations, largest unit first", "[duration]") {
  CHECK(ms("1m30s") == 90'000);
  CHECK(ms("1h1m1s1ms") == 3'661'001);
  CHECK(ms("1s500ms") == 1500);
  CHECK(ms("1y1M1w1d") == (365 + 30 + 7 + 1) * 86'400'000LL);
  CHECK(ms("1m 30s") == 90'000);  // nginx skips spaces between the parts
}

TEST_CASE("parseDuration: plain numbers are seconds, decimals allowed", "[duration]") {
  CHECK(ms("2") == 2000);
  CHECK(ms("0") == 0);
  CHECK(ms("0.5") == 500);
  CHECK(ms("1.25") == 1250);
  CHECK(ms("3.001") == 3001);
  CHECK(ms("007") == 7000);
  CHECK(ms("10.0") == 10'000);
}

TEST_CASE("parseDuration: errors say what was expected", "[duration]") {
  auto r = parseDuration("5x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == "invalid duration \"5x\" (expected a number with a unit: 500ms, 1s, 10m, 1h)");

  for (const char* bad : {"", "-1", "-1s", "s", "ms", "1.5s", "1s ", " 1s", "1x", "1S", "1m30",
                          "1sec", ".5", "5.", "1..2", "1.2.3", "abc", "1s-", "0x10"}) {
    INFO("text: \"" << bad << "\"");
    CHECK_FALSE(parseDuration(bad).ok());
  }
}

TEST_CASE("parseDuration: units out of order or repeated are errors", "[duration]") {
  for (const char* bad : {"30s1m", "1s1s", "1m1h", "500ms1s", "1m1M"}) {
    INFO("text: \"" << bad << "\"");
    auto r = parseDuration(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().find("largest to smallest") != std::string::npos);
  }
}

TEST_CASE("parseDuration: more than millisecond precision is an error", "[duration]") {
  auto r = parseDuration("0.0005");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("at most 3 decimals") != std::string::npos);
}

TEST_CASE("parseDuration: overflow is an error, not a wrap", "[duration]") {
  CHECK_FALSE(parseDuration("99999999999999999999s").ok());
  CHECK_FALSE(parseDuration("9223372036854775807s").ok());  // fits in int64 only as ms/1000
  CHECK_FALSE(parseDuration("300000000y").ok());
  CHECK_FALSE(parseDuration("9223372036854775807").ok());
  CHECK(ms("9223372036854775807ms") == INT64_MAX);
  // The sum of the parts and the decimals overflow too, never wrap.
  CHECK(parseDuration("292471208y").ok());
  CHECK(parseDuration("292471208y52w").error() == "duration \"292471208y52w\" is too large");
  CHECK(ms("9223372036854775.807") == INT64_MAX);
  CHECK_FALSE(parseDuration("9223372036854775.808").ok());
  CHECK(parseDuration("99999999999999999999").error() ==
        "duration \"99999999999999999999\" is too large");
}

TEST_CASE("parseSize: nginx suffixes are binary multiples", "[duration]") {
  CHECK(*parseSize("0") == 0);
  CHECK(*parseSize("512") == 512);
  CHECK(*parseSize("16k") == 16384);
  CHECK(*parseSize("16K") == 16384);
  CHECK(*parseSize("1m") == 1048576);
  CHECK(*parseSize("1M") == 1048576);
  CHECK(*parseSize("1g") == 1073741824);
  CHECK(*parseSize("2G") == 2147483648ULL);
  CHECK(*parseSize("18446744073709551615") == UINT64_MAX);
}

TEST_CASE("parseSize: errors", "[duration]") {
  auto r = parseSize("16x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() ==
        "invalid size \"16x\" (expected a byte count, optionally with a unit: 512, 16k, 1m, 1g)");
  for (const char* bad : {"", "k", "-1", "1.5k", "16kb", "16 k", " 16k", "1kk", "1t"}) {
    INFO("text: \"" << bad << "\"");
    CHECK_FALSE(parseSize(bad).ok());
  }
  CHECK_FALSE(parseSize("18446744073709551616").ok());
  CHECK_FALSE(parseSize("17179869184g").ok());  // 2^34 GiB = 2^64 bytes
}

TEST_CASE("parseUnsigned", "[duration]") {
  CHECK(*parseUnsigned("0") == 0);
  CHECK(*parseUnsigned("42") == 42);
  CHECK(*parseUnsigned("18446744073709551615") == UINT64_MAX);
  CHECK(*parseUnsigned("255", 255) == 255);
  CHECK_FALSE(parseUnsigned("18446744073709551616").ok());

  auto over = parseUnsigned("256", 255);
  REQUIRE_FALSE(over.ok());
  CHECK(over.error() == "number \"256\" is too large (expected at most 255)");

  auto bad = parseUnsigned("abc", 255);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "invalid number \"abc\" (expected a whole number from 0 to 255)");

  for (const char* text : {"", "-1", "+1", "1.0", " 1", "1 ", "0x10", "1e3"}) {
    INFO("text: \"" << text << "\"");
    CHECK_FALSE(parseUnsigned(text).ok());
  }
}

TEST_CASE("parseFlag", "[duration]") {
  for (const char* yes : {"on", "yes", "true", "1", "ON", "Yes", "TRUE"}) {
    INFO(yes);
    auto r = parseFlag(yes);
    REQUIRE(r.ok());
    CHECK(*r);
  }
  for (const char* no : {"off", "no", "false", "0", "OFF", "No"}) {
    INFO(no);
    auto r = parseFlag(no);
    REQUIRE(r.ok());
    CHECK_FALSE(*r);
  }
  for (const char* bad : {"", "maybe", "2", "o", "onn", " on", "enabled"}) {
    INFO(bad);
    CHECK_FALSE(parseFlag(bad).ok());
  }
  CHECK(parseFlag("maybe").error().find("expected on or off") != std::string::npos);
}
