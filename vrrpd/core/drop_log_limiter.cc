#include "vrrpd/core/drop_log_limiter.h"

namespace vrrpd {

DropLogLimiter::Verdict DropLogLimiter::admit(DropReason reason, common::TimePoint now) {
  Verdict v;
  auto i = static_cast<std::size_t>(reason);
  if (i >= kReasons) return v;
  Window& w = windows_[i];
  if (!w.open || now - w.start >= window_) {
    v.suppressed = w.suppressed;
    w = Window{now, true, 0, 0};
  }
  if (w.logged < burst_) {
    ++w.logged;
    v.log = true;
  } else {
    ++w.suppressed;
  }
  return v;
}

std::vector<DropLogLimiter::Suppressed> DropLogLimiter::expire(common::TimePoint now) {
  std::vector<Suppressed> out;
  for (std::size_t i = 0; i < kReasons; ++i) {
    Window& w = windows_[i];
    if (w.open && now - w.start >= window_) {
      if (w.suppressed > 0) out.push_back({static_cast<DropReason>(i), w.suppressed});
      w = Window{};
    }
  }
  return out;
}

bool DropLogLimiter::pending() const {
  for (const Window& w : windows_) {
    if (w.suppressed > 0) return true;
  }
  return false;
}

std::optional<common::TimePoint> DropLogLimiter::nextReport() const {
  std::optional<common::TimePoint> first;
  for (const Window& w : windows_) {
    if (w.suppressed > 0 && (!first || w.start + window_ < *first)) first = w.start + window_;
  }
  return first;
}

}  // namespace vrrpd
