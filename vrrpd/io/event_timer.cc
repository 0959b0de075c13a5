#include "vrrpd/io/event_timer.h"

#include <utility>

namespace vrrpd {
namespace {

class EventTimer final : public common::Timer {
 public:
  EventTimer(event_base* base, std::function<void()> fire) : fire_(std::move(fire)) {
    event_.reset(evtimer_new(base, onFire, this));
  }
  void arm(common::Duration after) override {
    timeval tv = common::toTimeval(std::chrono::duration_cast<std::chrono::microseconds>(after));
    evtimer_add(event_.get(), &tv);
  }
  void cancel() override { evtimer_del(event_.get()); }

 private:
  static void onFire(evutil_socket_t, short, void* arg) { static_cast<EventTimer*>(arg)->fire_(); }

  std::function<void()> fire_;
  common::EventPtr event_;
};

}  // namespace

std::unique_ptr<common::Timer> EventTimerFactory::timer(std::function<void()> fire) {
  return std::make_unique<EventTimer>(base_, std::move(fire));
}

}  // namespace vrrpd
