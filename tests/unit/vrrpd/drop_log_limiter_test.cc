#include "vrrpd/core/drop_log_limiter.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using vrrpd::DropLogLimiter;
using vrrpd::DropReason;

TEST_CASE("drop log: the first lines of a window, then one suppressed count",
          "[drop_log_limiter]") {
  common::FakeClock clock;
  DropLogLimiter lim(5, 1s);
  int logged = 0;
  for (int i = 0; i < 10000; ++i) {
    auto v = lim.admit(DropReason::auth_mismatch, clock.now());
    logged += v.log;
    CHECK(v.suppressed == 0);
    clock.advance(50us);  // 10 000 in 0.5 s
  }
  CHECK(logged == 5);
  CHECK(lim.pending());
  CHECK(lim.expire(clock.now()).empty());  // the window is not over yet
  clock.advance(600ms);
  // The next packet opens a new window and carries the count of the last one.
  auto v = lim.admit(DropReason::auth_mismatch, clock.now());
  CHECK(v.log);
  CHECK(v.suppressed == 9995);
  CHECK_FALSE(lim.pending());
}

TEST_CASE("drop log: reasons are limited apart", "[drop_log_limiter]") {
  common::FakeClock clock;
  DropLogLimiter lim(2, 1s);
  CHECK(lim.admit(DropReason::auth_mismatch, clock.now()).log);
  CHECK(lim.admit(DropReason::auth_mismatch, clock.now()).log);
  CHECK_FALSE(lim.admit(DropReason::auth_mismatch, clock.now()).log);
  CHECK(lim.admit(DropReason::bad_ttl, clock.now()).log);  // its own budget
}

TEST_CASE("drop log: a flood's last window is reported by expire, once", "[drop_log_limiter]") {
  common::FakeClock clock;
  DropLogLimiter lim(1, 1s);
  const auto start = clock.now();
  CHECK_FALSE(lim.nextReport());
  lim.admit(DropReason::bad_ttl, clock.now());
  CHECK_FALSE(lim.nextReport());  // nothing suppressed: nothing to report
  clock.advance(300ms);
  lim.admit(DropReason::bad_ttl, clock.now());
  lim.admit(DropReason::bad_ttl, clock.now());
  // The daemon's timer is set for the end of that window, not a second
  // after the first suppressed line.
  REQUIRE(lim.nextReport());
  CHECK(*lim.nextReport() == start + 1s);
  clock.advance(700ms);
  auto out = lim.expire(clock.now());
  REQUIRE(out.size() == 1);
  CHECK(out[0].reason == DropReason::bad_ttl);
  CHECK(out[0].count == 2);
  CHECK(lim.expire(clock.now() + 5s).empty());
  // Not counted twice: the next packet starts clean.
  auto v = lim.admit(DropReason::bad_ttl, clock.now());
  CHECK(v.log);
  CHECK(v.suppressed == 0);
}

TEST_CASE("drop log: a quiet stream is never limited", "[drop_log_limiter]") {
  common::FakeClock clock;
  DropLogLimiter lim(5, 1s);
  for (int i = 0; i < 100; ++i) {
    CHECK(lim.admit(DropReason::own_packet, clock.now()).log);
    clock.advance(250ms);  // 4 a second
  }
  CHECK_FALSE(lim.pending());
}
