// proxy_upload_rate / proxy_download_rate for one direction of one session,
// as ngx_stream_proxy_process limits a read:
// - the budget is rate * (whole seconds since the session started + 1)
//   minus what was read so far; with none left the side is not read until
//   the deficit has been earned back (deficit * 1000 / rate + 1 ms);
// - a read takes at most the budget, and is followed by a pause of
//   n * 1000 / rate ms (whole milliseconds; none when that is 0).
// nginx counts the seconds on its cached wall clock; here they are counted
// from the session's start on the monotonic clock given in each call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/clock.h"

namespace proxyd {

class RateLimiter {
 public:
  RateLimiter(std::uint64_t bytes_per_second, common::TimePoint start)
      : rate_(bytes_per_second), start_(start) {}

  // How much of `want` may be read now, `received` having been read in this
  // direction so far; 0: wait until resumeAt().
  std::size_t allowance(common::TimePoint now, std::uint64_t received, std::size_t want);
  // `n` bytes were just read.
  void consumed(common::TimePoint now, std::size_t n);

  std::optional<common::TimePoint> resumeAt() const { return resume_; }
  std::uint64_t rate() const { return rate_; }

 private:
  std::uint64_t rate_;
  common::TimePoint start_;
  std::optional<common::TimePoint> resume_;  // paused until then
};

}  // namespace proxyd
