// How many dropped-packet lines `-D` writes: the first `burst` of each reason
// in a window (one second in the daemon), then one "N more suppressed" line
// for the rest once the window is over. A flood of 10 000 wrong-password
// adverts a second wrote 97 813 lines in 10 s before this. Only the log is
// limited: the drop counters (state.json) count every packet. Pure: the time
// is passed in (common/clock.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "vrrpd/core/vrrp_packet.h"

namespace vrrpd {

class DropLogLimiter {
 public:
  static constexpr std::size_t kReasons = static_cast<std::size_t>(DropReason::count_);

  DropLogLimiter(int burst, common::Duration window) : burst_(burst), window_(window) {}

  struct Verdict {
    bool log = false;              // write this drop's line
    std::uint64_t suppressed = 0;  // first write "N more suppressed" for the window that ended
  };
  // A packet dropped for `reason` at `now`.
  Verdict admit(DropReason reason, common::TimePoint now);

  struct Suppressed {
    DropReason reason;
    std::uint64_t count;
  };
  // The windows over by `now` that suppressed lines, each reported once: the
  // daemon calls it from a timer so the count of a flood's last second is
  // logged even when no packet follows.
  std::vector<Suppressed> expire(common::TimePoint now);
  // Whether some window holds suppressed lines not reported yet.
  bool pending() const;
  // When the first such window ends: the time to call expire() at.
  std::optional<common::TimePoint> nextReport() const;

 private:
  struct Window {
    common::TimePoint start{};
    bool open = false;
    int logged = 0;
    std::uint64_t suppressed = 0;
  };
  int burst_;
  common::Duration window_;
  std::array<Window, kReasons> windows_{};
};

}  // namespace vrrpd
