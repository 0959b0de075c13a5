// Timer seam. Code that needs "call me after D" takes a TimerFactory, so the
// event loop's timers run it in the daemon and a fake clock's in the tests
// (tests/unit/support/fake_timers.h), in the style of Envoy's simulated time.
#pragma once

#include <functional>
#include <memory>

#include "common/clock.h"

namespace common {

class Timer {
 public:
  virtual ~Timer() = default;
  // Fires once, `after` from now; arming a pending timer moves it.
  virtual void arm(Duration after) = 0;
  virtual void cancel() = 0;  // a timer that is not pending stays so
};

class TimerFactory {
 public:
  virtual ~TimerFactory() = default;
  // A timer, not yet pending, that calls `fire` each time it falls due. It
  // must not outlive the factory.
  virtual std::unique_ptr<Timer> timer(std::function<void()> fire) = 0;
};

}  // namespace common
