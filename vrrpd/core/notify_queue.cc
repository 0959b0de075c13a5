#include "vrrpd/core/notify_queue.h"

namespace vrrpd {

std::optional<NotifyEvent> NotifyQueue::push(NotifyEvent ev) {
  std::optional<NotifyEvent> replaced;
  if (waiting_.size() >= kMaxWaiting) {
    replaced = std::move(waiting_.front());
    waiting_.pop_front();
  }
  waiting_.push_back(std::move(ev));
  return replaced;
}

std::optional<NotifyCall> NotifyQueue::next() {
  if (running_) return std::nullopt;
  while (cursor_ >= current_.calls.size()) {
    if (waiting_.empty()) return std::nullopt;
    current_ = std::move(waiting_.front());
    waiting_.pop_front();
    cursor_ = 0;
  }
  running_ = true;
  return current_.calls[cursor_++];
}

void NotifyQueue::done() {
  running_ = false;
}

}  // namespace vrrpd
