// `[vrrp_script NAME]`: a command run every `interval`, judged with
// keepalived's rise/fall counting, whose state the instances that track it
// turn into priority changes or FAULT.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "vrrpd/core/config.h"
#include "vrrpd/core/script_policy.h"
#include "vrrpd/io/script_runner.h"

namespace vrrpd {

// keepalived's rise/fall: a good script turns bad after `fall` failures in
// a row, a bad one good after `rise` successes in a row. Pure.
class RiseFall {
 public:
  RiseFall(int rise, int fall, bool initially_ok) : rise_(rise), fall_(fall), ok_(initially_ok) {}
  // Feeds one result; true when the state changed.
  bool feed(bool success);
  bool ok() const { return ok_; }
  int streak() const { return streak_; }  // results in a row against the state

 private:
  int rise_;
  int fall_;
  bool ok_;
  int streak_ = 0;
};

class TrackScript {
 public:
  using Listener = std::function<void(const TrackScript&)>;

  TrackScript(const ScriptSection& cfg, event_base* base, ScriptRunner& runner, ScriptPolicy policy,
              common::Log& log);
  ~TrackScript();
  TrackScript(const TrackScript&) = delete;
  TrackScript& operator=(const TrackScript&) = delete;

  const std::string& name() const { return cfg_.name; }
  const ScriptSection& config() const { return cfg_; }
  const ScriptPolicy& policy() const { return policy_; }
  bool ok() const { return state_.ok(); }
  // "exited with 1", "timed out after 2 s": the last failure, for the log.
  const std::string& lastFailure() const { return last_failure_; }

  void subscribe(Listener l) { listeners_.push_back(std::move(l)); }
  // Runs once now and then every interval.
  void start();
  int runs() const { return runs_; }  // runs started (a refused run is not one)

 private:
  static void onTick(evutil_socket_t, short, void* arg);
  void runOnce();
  void finished(const ScriptExit& ex);
  void judge(bool success);

  ScriptSection cfg_;
  event_base* base_;
  ScriptRunner& runner_;
  ScriptPolicy policy_;
  std::string not_run_;  // why the last run was refused (logged when it changes)
  common::Log& log_;
  RiseFall state_;
  common::EventPtr tick_;
  pid_t running_ = 0;
  int runs_ = 0;
  std::string last_failure_;
  std::vector<Listener> listeners_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vrrpd
