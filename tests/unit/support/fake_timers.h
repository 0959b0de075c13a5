// A TimerFactory driven by a FakeClock: advance() moves the clock and fires
// every timer that falls due, in the order of their due times (the order of
// arming for equal ones), as Envoy's simulated time and Seastar's
// manual_clock do. A test that sleeps for a protocol timer flakes; this one
// does not wait at all.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/timer.h"

namespace test_support {

class FakeTimers final : public common::TimerFactory {
 public:
  explicit FakeTimers(common::FakeClock& clock) : clock_(clock) {}
  ~FakeTimers() override {
    for (Slot* s : slots_) s->owner = nullptr;
  }

  std::unique_ptr<common::Timer> timer(std::function<void()> fire) override {
    auto t = std::make_unique<Slot>(this, std::move(fire));
    slots_.push_back(t.get());
    return t;
  }

  // Moves the clock by `d`, firing what falls due on the way (a timer a
  // callback arms within the span fires too).
  void advance(common::Duration d) {
    const common::TimePoint end = clock_.now() + d;
    while (Slot* next = earliest(end)) {
      clock_.set(*next->due);
      next->due.reset();
      next->fire();
    }
    clock_.set(end);
  }

  // How many timers are pending.
  std::size_t pending() const {
    return static_cast<std::size_t>(
        std::count_if(slots_.begin(), slots_.end(), [](const Slot* s) { return s->due; }));
  }

 private:
  struct Slot final : common::Timer {
    Slot(FakeTimers* o, std::function<void()> f) : owner(o), fire(std::move(f)) {}
    ~Slot() override {
      if (owner) std::erase(owner->slots_, this);
    }
    void arm(common::Duration after) override {
      due = owner->clock_.now() + std::max(after, common::Duration::zero());
      seq = ++owner->seq_;
    }
    void cancel() override { due.reset(); }

    FakeTimers* owner;
    std::function<void()> fire;
    std::optional<common::TimePoint> due;
    std::uint64_t seq = 0;
  };

  Slot* earliest(common::TimePoint end) const {
    Slot* best = nullptr;
    for (Slot* s : slots_) {
      if (!s->due || *s->due > end) continue;
      if (!best || *s->due < *best->due || (*s->due == *best->due && s->seq < best->seq)) best = s;
    }
    return best;
  }

  common::FakeClock& clock_;
  std::vector<Slot*> slots_;
  std::uint64_t seq_ = 0;
};

}  // namespace test_support
