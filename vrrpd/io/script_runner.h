// Runs notify and track scripts without ever blocking the event loop, and
// without letting anything a script starts outlive the script's timeout.
//
// Each run forks a small keeper process (still vrrpd's code, no exec) that
// makes itself a child subreaper (prctl(PR_SET_CHILD_SUBREAPER)) and forks
// the script: own process group, the script user's identity, RLIMIT_NPROC,
// a fixed environment, then `/bin/sh -c COMMAND`. Whatever the script
// leaves behind (`sleep 40 &`, a `setsid` child) stays in the keeper's
// tree: at the deadline the keeper sends SIGTERM to the script's process
// group and to every process of its tree, SIGKILL after a grace period, and
// exits once the tree is empty. The script's own exit comes back at once
// through a pipe (so a track script is judged when it exits, as keepalived
// does); the keeper's exit says that every process of the run is gone.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "common/result.h"
#include "vrrpd/core/script_job.h"

namespace vrrpd {

// The whole environment a script gets: nothing of vrrpd's own (no
// NOTIFY_SOCKET, no LD_PRELOAD; keepalived passes its environment minus
// IFS, LD_PRELOAD and LD_LIBRARY_PATH).
std::vector<std::string> scriptEnvironment(
    const ScriptUser& user, const std::vector<std::pair<std::string, std::string>>& extra);

class ScriptRunner {
 public:
  using Done = std::function<void(const ScriptExit&)>;  // the script has exited
  using Gone = std::function<void()>;                   // ... and every process it started is gone

  // SIGTERM to SIGKILL, for the script's tree.
  static constexpr std::chrono::milliseconds kKillGrace{2000};

  ScriptRunner(event_base* base, common::Log& log);
  ~ScriptRunner();  // ends every run (TERM to the keepers, which kill their trees)
  ScriptRunner(const ScriptRunner&) = delete;
  ScriptRunner& operator=(const ScriptRunner&) = delete;

  // Starts the job. Returns the run's id (the keeper's pid), or an error if
  // it could not be started. `done` is called once with the script's exit,
  // then `gone` once when nothing of the run is left.
  common::Result<pid_t> run(const ScriptJob& job, Done done, Gone gone = {});
  // Until `gone`: the script or something it started is still alive.
  bool running(pid_t id) const { return children_.count(id) != 0; }
  size_t active() const { return children_.size(); }

  // Collects exited keepers (called from the SIGCHLD handler).
  void reap();

 private:
  struct Child {
    Done done;
    Gone gone;
    common::EventPtr status_ev;  // the keeper's report of the script's exit
    common::EventPtr backstop;   // the keeper itself overran: SIGKILL it
    int status_fd = -1;
    bool reported = false;
    ScriptRunner* runner = nullptr;
    pid_t pid = 0;
  };
  static void onSigchld(evutil_socket_t, short, void* arg);
  static void onStatus(evutil_socket_t, short, void* arg);
  static void onBackstop(evutil_socket_t, short, void* arg);
  void readStatus(Child& c, bool final);
  void closeStatus(Child& c);

  event_base* base_;
  common::Log& log_;
  common::EventPtr sigchld_;
  std::map<pid_t, std::unique_ptr<Child>> children_;
};

// Quotes `s` for /bin/sh.
std::string shellQuote(const std::string& s);

// The live processes that descend from `root` (from /proc), deepest last.
std::vector<pid_t> descendantsOf(pid_t root);

}  // namespace vrrpd
