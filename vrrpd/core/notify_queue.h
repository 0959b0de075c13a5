// The notify scripts of one instance, in order. keepalived starts each
// notify the moment a transition happens, so a slow notify_backup can still
// be running (or finish last) after the notify_master that followed it, and
// an instance made to flap piles up one process per transition. Here a
// transition's calls (notify_STATE, then the generic notify) run one after
// another, and a transition's calls start only when everything of the one
// before has ended. At most one transition waits: a newer one replaces it
// (coalesced to the latest state; the caller logs what was dropped). Pure.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vrrpd {

struct NotifyCall {
  std::string key;      // notify_master, notify, ... (for the log)
  std::string command;  // run with /bin/sh -c
  std::vector<std::string> args;
  std::string user, group;                               // empty user: the global script user
  std::vector<std::pair<std::string, std::string>> env;  // VRRPD_INSTANCE, ...
};

struct NotifyEvent {
  std::string state;  // MASTER, BACKUP, FAULT, STOP
  std::vector<NotifyCall> calls;
};

class NotifyQueue {
 public:
  static constexpr size_t kMaxWaiting = 1;

  // Queues a transition's calls (an event with none still replaces the one
  // waiting: its state is no longer the latest). Returns the event it
  // replaced, if any.
  std::optional<NotifyEvent> push(NotifyEvent ev);
  // The call to start now, if nothing is running and something is due; it
  // is running until done().
  std::optional<NotifyCall> next();
  void done();  // the running call, and every process it started, ended

  bool busy() const { return running_; }
  bool idle() const { return !running_ && waiting_.empty() && cursor_ >= current_.calls.size(); }
  size_t waiting() const { return waiting_.size(); }

 private:
  NotifyEvent current_;
  size_t cursor_ = 0;  // next call of current_
  bool running_ = false;
  std::deque<NotifyEvent> waiting_;
};

}  // namespace vrrpd
