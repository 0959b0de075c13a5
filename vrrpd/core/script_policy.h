// Who a script runs as and whether it may run at all: keepalived's rules,
// failing closed. A user or group that does not exist is a reason not to
// run the script (it counts as failing), never a reason to run it as root;
// root only when the configuration says `root`. Unlike keepalived, no
// script_user and no vrrpd_script user means the script does not run.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "vrrpd/core/config.h"
#include "vrrpd/io/script_runner.h"

namespace vrrpd {

struct ScriptPolicy {
  std::string script_user, script_group;      // [global] script_user
  std::string default_user = "vrrpd_script";  // used when script_user is unset
  bool security = false;                      // enable_script_security
  std::chrono::milliseconds notify_timeout{kDefaultNotifyTimeout};
  int max_processes = kDefaultScriptMaxProcesses;

  static ScriptPolicy from(const GlobalSection& g);
  bool operator==(const ScriptPolicy&) const = default;
};

// The user a script with `user`/`group` (empty: the global one) runs as.
common::Result<ScriptUser> resolveScriptUser(const std::string& user, const std::string& group,
                                             const ScriptPolicy& policy);

// The job to run `command` as that user, or why it must not run (no such
// user, or refused by enable_script_security).
common::Result<ScriptJob> prepareScript(const std::string& command, std::vector<std::string> args,
                                        const std::string& user, const std::string& group,
                                        const ScriptPolicy& policy,
                                        std::chrono::milliseconds timeout);

}  // namespace vrrpd
