#include "vrrpd/core/script_policy.h"

#include <fmt/format.h>

#include "vrrpd/io/script_security.h"

namespace vrrpd {

ScriptPolicy ScriptPolicy::from(const GlobalSection& g) {
  ScriptPolicy p;
  p.script_user = g.script_user;
  p.script_group = g.script_group;
  p.security = g.enable_script_security;
  p.notify_timeout = g.notify_timeout;
  p.max_processes = g.script_max_processes;
  return p;
}

common::Result<ScriptUser> resolveScriptUser(const std::string& user, const std::string& group,
                                             const ScriptPolicy& policy) {
  using R = common::Result<ScriptUser>;
  if (!user.empty()) return lookupScriptUser(user, group);
  if (!policy.script_user.empty()) return lookupScriptUser(policy.script_user, policy.script_group);
  if (auto u = lookupScriptUser(policy.default_user)) return *u;
  // keepalived falls back to root here; we fail closed (least privilege):
  // root only when the configuration says script_user = root.
  return R::fail(
      fmt::format("no script_user is set and user \"{}\" does not exist: "
                  "scripts do not run as root unless script_user = root says so",
                  policy.default_user));
}

common::Result<ScriptJob> prepareScript(const std::string& command, std::vector<std::string> args,
                                        const std::string& user, const std::string& group,
                                        const ScriptPolicy& policy,
                                        std::chrono::milliseconds timeout) {
  using R = common::Result<ScriptJob>;
  auto who = resolveScriptUser(user, group, policy);
  if (!who) return R::fail(who.error());
  if (policy.security) {
    if (auto why = refuseInsecure(command, who->uid, who->gid, kScriptPath)) {
      return R::fail(fmt::format("refused by enable_script_security: {}", *why));
    }
  }
  ScriptJob job;
  job.command = command;
  job.args = std::move(args);
  job.user = *who;
  job.timeout = timeout;
  job.max_processes = policy.max_processes;
  return job;
}

}  // namespace vrrpd
