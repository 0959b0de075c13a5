// A script run as the runner (vrrpd/io/script_runner.h) takes it: what to
// run, as whom, for how long; and how it ended.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace vrrpd {

struct ScriptUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name = "root";
};

// The PATH every script gets (keepalived gives its own environment instead).
inline constexpr const char* kScriptPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct ScriptExit {
  bool timed_out = false;
  bool signalled = false;
  int status = 0;  // exit code, or the signal number when signalled
  bool ok() const { return !timed_out && !signalled && status == 0; }
};

struct ScriptJob {
  std::string command;            // run with /bin/sh -c
  std::vector<std::string> args;  // appended, each shell-quoted
  ScriptUser user;
  std::chrono::milliseconds timeout{1000};               // every run has one
  std::vector<std::pair<std::string, std::string>> env;  // beyond PATH, LANG, HOME, USER
  int max_processes = 64;  // RLIMIT_NPROC of the script user (root is exempt)
};

}  // namespace vrrpd
