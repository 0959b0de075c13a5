#include "proxyd/core/rate_limit.h"

#include <algorithm>

namespace proxyd {

std::size_t RateLimiter::allowance(common::TimePoint now, std::uint64_t received,
                                   std::size_t want) {
  if (resume_ && now < *resume_) return 0;
  resume_.reset();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - start_).count();
  const auto earned = static_cast<long double>(rate_) * static_cast<long double>(seconds + 1);
  const long double limit = earned - static_cast<long double>(received);
  if (limit <= 0) {
    // nginx: delay = -limit * 1000 / rate + 1 (ms).
    const auto ms = static_cast<std::int64_t>(-limit * 1000 / static_cast<long double>(rate_)) + 1;
    resume_ = now + std::chrono::milliseconds(ms);
    return 0;
  }
  return static_cast<std::size_t>(std::min<long double>(limit, static_cast<long double>(want)));
}

void RateLimiter::consumed(common::TimePoint now, std::size_t n) {
  const std::uint64_t ms = static_cast<std::uint64_t>(n) * 1000 / rate_;
  if (ms > 0) resume_ = now + std::chrono::milliseconds(ms);
}

}  // namespace proxyd
