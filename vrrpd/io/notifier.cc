#include "vrrpd/io/notifier.h"

#include <fmt/format.h>

namespace vrrpd {

void Notifier::notify(const std::string& instance, NotifyEvent ev) {
  NotifyQueue& q = queues_[instance];
  if (q.idle() && ev.calls.empty()) return;
  std::string state = ev.state;
  if (auto dropped = q.push(std::move(ev))) {
    if (!dropped->calls.empty()) {
      log_.warn(
          "{}: notify for {} not run: superseded by {} while an earlier notify script is "
          "still running",
          instance, dropped->state, state);
    }
  }
  pump(instance);
}

bool Notifier::idle() const {
  for (const auto& [name, q] : queues_) {
    if (!q.idle()) return false;
  }
  return true;
}

void Notifier::pump(const std::string& instance) {
  NotifyQueue& q = queues_[instance];
  while (auto call = q.next()) {
    auto job = prepareScript(call->command, call->args, call->user, call->group, policy_,
                             policy_.notify_timeout);
    if (job) {
      job->env = call->env;
      std::weak_ptr<bool> alive = alive_;
      std::string key = call->key, cmd = call->command;
      auto timeout = policy_.notify_timeout;
      auto r = runner_.run(
          *job,
          [this, alive, instance, key, cmd, timeout](const ScriptExit& ex) {
            if (alive.expired()) return;
            if (ex.timed_out) {
              log_.warn("{}: {} \"{}\" timed out after {} ms: killed", instance, key, cmd,
                        timeout.count());
            } else if (!ex.ok()) {
              log_.warn("{}: {} \"{}\" {} {}", instance, key, cmd,
                        ex.signalled ? "killed by signal" : "exited with", ex.status);
            }
          },
          [this, alive, instance] {
            if (alive.expired()) return;
            queues_[instance].done();
            pump(instance);
          });
      if (r) return;  // running: the next call waits for it
      log_.error("{}: {} \"{}\" not run: {}", instance, call->key, call->command, r.error());
    } else {
      log_.error("{}: {} \"{}\" not run: {}", instance, call->key, call->command, job.error());
    }
    q.done();
  }
  if (q.idle() && idle() && on_idle) on_idle();
}

}  // namespace vrrpd
