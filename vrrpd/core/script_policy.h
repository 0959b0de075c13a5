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

#include "common/host.h"
#include "common/result.h"
#include "vrrpd/core/config.h"
#include "vrrpd/core/script_job.h"

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

// The user (and group: empty is the user's own) a script runs as.
common::Result<ScriptUser> lookupScriptUser(const std::string& name, const std::string& group = "",
                                            const common::Host& host = common::realHost());

// The user a script with `user`/`group` (empty: the global one) runs as.
common::Result<ScriptUser> resolveScriptUser(const std::string& user, const std::string& group,
                                             const ScriptPolicy& policy,
                                             const common::Host& host = common::realHost());

// The job to run `command` as that user, or why it must not run (no such
// user, or refused by enable_script_security).
common::Result<ScriptJob> prepareScript(const std::string& command, std::vector<std::string> args,
                                        const std::string& user, const std::string& group,
                                        const ScriptPolicy& policy,
                                        std::chrono::milliseconds timeout,
                                        const common::Host& host = common::realHost());

}  // namespace vrrpd
