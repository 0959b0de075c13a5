// libevent for the event loops: the handle owners (c_handles.h) and time
// values. Every handle has exactly one owner, so closing one side of
// anything cannot leave a pointer to freed memory behind.
#pragma once

#include <event2/event.h>

#include <chrono>

#include "common/c_handles.h"

namespace common {

inline timeval toTimeval(std::chrono::microseconds us) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us.count() % 1000000);
  return tv;
}

}  // namespace common
