// Holds (blocks) the signals a daemon handles from before it takes its pid
// file until its handlers are in place. Their default action kills, and a
// starting daemon already holds the pid file that `proxyd -s reload`,
// `vrrpd --status` or a supervisor signals. Released, whatever arrived in
// between reaches the handlers. Threads started while held inherit the mask
// (proxyd's workers block every signal anyway); script processes reset it.
#pragma once

#include <signal.h>

#include <initializer_list>

namespace common {

class HeldSignals {
 public:
  explicit HeldSignals(std::initializer_list<int> signals) {
    sigemptyset(&set_);
    for (int sig : signals) sigaddset(&set_, sig);
    ::sigprocmask(SIG_BLOCK, &set_, nullptr);
  }
  ~HeldSignals() { release(); }
  HeldSignals(const HeldSignals&) = delete;
  HeldSignals& operator=(const HeldSignals&) = delete;

  void release() {
    if (held_) ::sigprocmask(SIG_UNBLOCK, &set_, nullptr);
    held_ = false;
  }

 private:
  sigset_t set_;
  bool held_ = true;
};

}  // namespace common
