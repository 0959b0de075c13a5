#include "vrrpd/core/script_policy.h"

#include <fmt/format.h>

#include "vrrpd/core/script_security.h"

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

common::Result<ScriptUser> lookupScriptUser(const std::string& name, const std::string& group,
                                            const common::Host& host) {
  using R = common::Result<ScriptUser>;
  auto pw = host.user(name);
  if (!pw) return R::fail(fmt::format("cannot look up script user \"{}\": {}", name, pw.error()));
  if (!*pw) return R::fail(fmt::format("script user \"{}\" does not exist", name));
  ScriptUser u{(*pw)->uid, (*pw)->gid, name};
  if (!group.empty()) {
    auto gr = host.group(group);
    if (!gr || !*gr) return R::fail(fmt::format("script group \"{}\" does not exist", group));
    u.gid = **gr;
  }
  return u;
}

common::Result<ScriptUser> resolveScriptUser(const std::string& user, const std::string& group,
                                             const ScriptPolicy& policy, const common::Host& host) {
  using R = common::Result<ScriptUser>;
  if (!user.empty()) return lookupScriptUser(user, group, host);
  if (!policy.script_user.empty()) {
    return lookupScriptUser(policy.script_user, policy.script_group, host);
  }
  if (auto u = lookupScriptUser(policy.default_user, "", host)) return *u;
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
                                        std::chrono::milliseconds timeout,
                                        const common::Host& host) {
  using R = common::Result<ScriptJob>;
  auto who = resolveScriptUser(user, group, policy, host);
  if (!who) return R::fail(who.error());
  if (policy.security) {
    if (auto why = refuseInsecure(command, who->uid, who->gid, kScriptPath, host)) {
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
