// Owners for libevent handles. Every handle has exactly one owner, so closing
// one side of anything cannot leave a pointer to freed memory behind.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <memory>

namespace common {

struct EventBaseDeleter {
  void operator()(event_base* b) const { event_base_free(b); }
};
struct EventDeleter {
  void operator()(event* e) const { event_free(e); }
};

using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;
using EventPtr = std::unique_ptr<event, EventDeleter>;

inline timeval toTimeval(std::chrono::microseconds us) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us.count() % 1000000);
  return tv;
}

}  // namespace common
