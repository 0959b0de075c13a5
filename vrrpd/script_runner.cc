#include "vrrpd/script_runner.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace vrrpd {

namespace {
constexpr std::chrono::seconds kKillGrace{2};  // SIGTERM -> SIGKILL
}

common::Result<ScriptUser> lookupScriptUser(const std::string& name) {
  struct passwd pw, *found = nullptr;
  char buf[4096];
  if (getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return common::Result<ScriptUser>::fail(fmt::format("script user \"{}\" does not exist", name));
  }
  return ScriptUser{pw.pw_uid, pw.pw_gid, name};
}

std::optional<ScriptUser> defaultScriptUser() {
  auto u = lookupScriptUser("vrrpd_script");
  if (!u) return std::nullopt;
  return *u;
}

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += "'";
  return out;
}

ScriptRunner::ScriptRunner(event_base* base, common::Log& log) : base_(base), log_(log) {
  sigchld_.reset(evsignal_new(base_, SIGCHLD, onSigchld, this));
  if (sigchld_) event_add(sigchld_.get(), nullptr);
}

ScriptRunner::~ScriptRunner() {
  // Scripts still running when we stop are ended with us.
  for (auto& [pid, child] : children_) ::kill(-pid, SIGKILL);
  for (auto& [pid, child] : children_) ::waitpid(pid, nullptr, 0);
}

common::Result<pid_t> ScriptRunner::run(const std::string& command,
                                        const std::vector<std::string>& args,
                                        const ScriptUser& user,
                                        std::optional<std::chrono::milliseconds> timeout,
                                        Done done) {
  std::string line = command;
  for (const auto& a : args) line += " " + shellQuote(a);
  pid_t pid = ::fork();
  if (pid < 0) {
    return common::Result<pid_t>::fail(
        fmt::format("fork() failed ({}: {})", errno, std::strerror(errno)));
  }
  if (pid == 0) {
    // Child: own process group (so a timeout can end the whole script),
    // default signals, no inherited descriptors beyond stdio, the user's
    // identity, then the shell.
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
      ::close(devnull);
    }
    ::closefrom(3);
    if (user.uid != ::getuid() || user.gid != ::getgid()) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(user.gid) != 0 || ::setuid(user.uid) != 0) {
        ::_exit(126);
      }
    }
    ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent: no race with kill(-pid)
  auto child = std::make_unique<Child>();
  child->done = std::move(done);
  child->runner = this;
  child->pid = pid;
  if (timeout) {
    child->timer.reset(evtimer_new(base_, onTimeout, child.get()));
    timeval tv = common::toTimeval(*timeout);
    evtimer_add(child->timer.get(), &tv);
  }
  children_.emplace(pid, std::move(child));
  return pid;
}

void ScriptRunner::onTimeout(evutil_socket_t, short, void* arg) {
  auto* child = static_cast<Child*>(arg);
  child->timed_out = true;
  if (!child->term_sent) {
    child->term_sent = true;
    ::kill(-child->pid, SIGTERM);
    timeval tv = common::toTimeval(kKillGrace);
    evtimer_add(child->timer.get(), &tv);
    return;
  }
  ::kill(-child->pid, SIGKILL);
}

void ScriptRunner::onSigchld(evutil_socket_t, short, void* arg) {
  static_cast<ScriptRunner*>(arg)->reap();
}

void ScriptRunner::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    auto it = children_.find(pid);
    if (it == children_.end()) continue;
    std::unique_ptr<Child> child = std::move(it->second);
    children_.erase(it);
    ScriptExit ex;
    ex.timed_out = child->timed_out;
    if (WIFSIGNALED(status)) {
      ex.signalled = true;
      ex.status = WTERMSIG(status);
    } else {
      ex.status = WEXITSTATUS(status);
    }
    if (child->done) child->done(ex);
  }
}

}  // namespace vrrpd
