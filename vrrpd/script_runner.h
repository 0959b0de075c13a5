// Runs notify and track scripts without ever blocking the event loop: fork,
// drop to the script user, exec `/bin/sh -c COMMAND`; the exit is collected
// from SIGCHLD. A script that outlives its timeout gets SIGTERM, then SIGKILL,
// sent to its whole process group (keepalived's behaviour).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "common/result.h"

namespace vrrpd {

struct ScriptUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name = "root";
};

// keepalived's choice: the configured user; else `vrrpd_script` if that
// user exists; else root (the caller warns).
common::Result<ScriptUser> lookupScriptUser(const std::string& name);
std::optional<ScriptUser> defaultScriptUser();  // vrrpd_script, if it exists

struct ScriptExit {
  bool timed_out = false;
  bool signalled = false;
  int status = 0;  // exit code, or the signal number when signalled
  bool ok() const { return !timed_out && !signalled && status == 0; }
};

class ScriptRunner {
 public:
  using Done = std::function<void(const ScriptExit&)>;

  ScriptRunner(event_base* base, common::Log& log);
  ~ScriptRunner();

  // Starts `command` with `args` appended (each shell-quoted). Returns the
  // child's pid, or an error if it could not be started.
  common::Result<pid_t> run(const std::string& command, const std::vector<std::string>& args,
                            const ScriptUser& user,
                            std::optional<std::chrono::milliseconds> timeout, Done done);
  bool running(pid_t pid) const { return children_.count(pid) != 0; }
  size_t active() const { return children_.size(); }

  // Collects exited children (called from the SIGCHLD handler).
  void reap();

 private:
  struct Child {
    Done done;
    common::EventPtr timer;
    bool term_sent = false;
    bool timed_out = false;
    ScriptRunner* runner = nullptr;
    pid_t pid = 0;
  };
  static void onSigchld(evutil_socket_t, short, void* arg);
  static void onTimeout(evutil_socket_t, short, void* arg);

  event_base* base_;
  common::Log& log_;
  common::EventPtr sigchld_;
  std::map<pid_t, std::unique_ptr<Child>> children_;
};

// Quotes `s` for /bin/sh.
std::string shellQuote(const std::string& s);

}  // namespace vrrpd
