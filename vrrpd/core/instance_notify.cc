#include "vrrpd/core/instance_notify.h"

#include <string>
#include <utility>
#include <vector>

namespace vrrpd {

const char* notifyStateName(State s) {
  switch (s) {
    case State::master:
      return "MASTER";
    case State::backup:
      return "BACKUP";
    case State::fault:
      return "FAULT";
    case State::init:
      return "STOP";
  }
  return "UNKNOWN";
}

NotifyEvent transitionNotify(const InstanceSection& cfg, State to, std::uint8_t priority_now) {
  const std::string* specific = nullptr;
  const ScriptRunAs* as = nullptr;
  const char* key = "";
  switch (to) {
    case State::master:
      specific = &cfg.notify_master, as = &cfg.notify_master_as, key = "notify_master";
      break;
    case State::backup:
      specific = &cfg.notify_backup, as = &cfg.notify_backup_as, key = "notify_backup";
      break;
    case State::fault:
      specific = &cfg.notify_fault, as = &cfg.notify_fault_as, key = "notify_fault";
      break;
    case State::init:
      specific = &cfg.notify_stop, as = &cfg.notify_stop_as, key = "notify_stop";
      break;
  }
  NotifyEvent ev;
  ev.state = notifyStateName(to);
  std::string priority = std::to_string(priority_now);
  // Beyond PATH and LANG, a notify script learns what happened from its
  // environment too (keepalived passes nothing but the generic notify's
  // arguments).
  std::vector<std::pair<std::string, std::string>> env{
      {"VRRPD_INSTANCE", cfg.name}, {"VRRPD_STATE", ev.state}, {"VRRPD_PRIORITY", priority}};
  if (specific && !specific->empty()) {
    ev.calls.push_back({key, *specific, {}, as->user, as->group, env});
  }
  if (!cfg.notify.empty()) {
    // keepalived's generic notify, after the specific one: TYPE NAME STATE
    // PRIORITY.
    ev.calls.push_back({"notify",
                        cfg.notify,
                        {"INSTANCE", cfg.name, ev.state, priority},
                        cfg.notify_as.user,
                        cfg.notify_as.group,
                        env});
  }
  return ev;
}

}  // namespace vrrpd
