// Runs the instances' notify scripts through one NotifyQueue per instance
// (kept by instance name, so a reload that restarts an instance keeps its
// order): one call at a time per instance, each bounded by notify_timeout.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/log.h"
#include "vrrpd/core/notify_queue.h"
#include "vrrpd/core/script_policy.h"
#include "vrrpd/io/script_runner.h"

namespace vrrpd {

class Notifier {
 public:
  Notifier(ScriptRunner& runner, common::Log& log) : runner_(runner), log_(log) {}
  ~Notifier() { *alive_ = false; }
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void setPolicy(ScriptPolicy p) { policy_ = std::move(p); }
  void notify(const std::string& instance, NotifyEvent ev);
  bool idle() const;
  // Called whenever the last queue becomes idle (the shutdown waits on it).
  std::function<void()> on_idle;

 private:
  void pump(const std::string& instance);

  ScriptRunner& runner_;
  common::Log& log_;
  ScriptPolicy policy_;
  std::map<std::string, NotifyQueue> queues_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vrrpd
