// TimerFactory (common/timer.h) on a libevent loop: each timer is one
// evtimer of the loop it was made with.
#pragma once

#include "common/event.h"
#include "common/timer.h"

namespace vrrpd {

class EventTimerFactory final : public common::TimerFactory {
 public:
  explicit EventTimerFactory(event_base* base) : base_(base) {}
  std::unique_ptr<common::Timer> timer(std::function<void()> fire) override;

 private:
  event_base* base_;
};

}  // namespace vrrpd
