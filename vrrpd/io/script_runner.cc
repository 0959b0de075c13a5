#include "vrrpd/io/script_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "common/sys_error.h"

namespace vrrpd {

namespace {

// The keeper's report of the script's exit, written once to the pipe.
struct Report {
  int32_t timed_out = 0;
  int32_t wait_status = 0;
};

// How long the keeper may take, beyond the script's timeout and grace, to
// kill and reap its tree before vrrpd kills the keeper itself.
constexpr std::chrono::seconds kBackstopSlack{5};
constexpr int kKillRounds = 300;  // SIGKILL sweeps, 10 ms apart

// (pid, ppid) of every live (non-zombie) process, from /proc.
std::vector<std::pair<pid_t, pid_t>> processTable() {
  std::vector<std::pair<pid_t, pid_t>> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300];
    std::snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
    char* close = std::strrchr(buf, ')');
    if (close == nullptr) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(close + 1, " %c %d", &state, &ppid) != 2) continue;
    if (state == 'Z' || state == 'X') continue;
    out.emplace_back(static_cast<pid_t>(std::atoi(buf)), static_cast<pid_t>(ppid));
  }
  ::closedir(dir);
  return out;
}

std::vector<pid_t> descendantsIn(const std::vector<std::pair<pid_t, pid_t>>& table,
                                 const std::set<pid_t>& roots) {
  std::vector<pid_t> out;
  std::set<pid_t> seen = roots;
  for (size_t grew = 1; grew != 0;) {
    grew = 0;
    for (const auto& [pid, ppid] : table) {
      if (seen.count(ppid) && !seen.count(pid)) {
        seen.insert(pid);
        out.push_back(pid);
        ++grew;
      }
    }
  }
  return out;
}

// Sends `sig` to the script's process group and to every process of the
// keeper's tree (which holds whatever left the group with setsid).
void signalTree(pid_t script_pgid, int sig) {
  ::kill(-script_pgid, sig);
  for (pid_t p : descendantsOf(::getpid())) ::kill(p, sig);
}

void report(int fd, bool timed_out, int wait_status) {
  if (fd < 0) return;
  Report r{timed_out ? 1 : 0, wait_status};
  ssize_t w = ::write(fd, &r, sizeof r);
  (void)w;
  ::close(fd);
}

int64_t msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

// The script itself, in its own process group: never returns.
[[noreturn]] void execScript(const ScriptJob& job, const std::string& line,
                             const std::vector<std::string>& env) {
  ::setpgid(0, 0);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) {
    ::dup2(devnull, STDIN_FILENO);
    ::close(devnull);
  }
  ::closefrom(3);
  if (job.user.uid != 0) {
    // Bounds what a script user can fork (fork() fails beyond it). Linux
    // does not apply it to root (CAP_SYS_RESOURCE / CAP_SYS_ADMIN).
    rlimit lim{static_cast<rlim_t>(job.max_processes), static_cast<rlim_t>(job.max_processes)};
    ::setrlimit(RLIMIT_NPROC, &lim);
  }
  if (job.user.uid != ::getuid() || job.user.gid != ::getgid()) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(job.user.gid) != 0 ||
        ::setuid(job.user.uid) != 0) {
      ::_exit(126);
    }
  }
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const char* argv[] = {"sh", "-c", line.c_str(), nullptr};
  ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
  ::_exit(127);
}

// The keeper: forks the script, reports its exit on `fd`, kills what is
// left of its tree at the deadline, exits once the tree is empty. Every
// signal is blocked (inherited from run()) and waited for synchronously.
[[noreturn]] void keep(const ScriptJob& job, const std::string& line,
                       const std::vector<std::string>& env, pid_t vrrpd, int fd) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != vrrpd) ::_exit(1);
  auto start = std::chrono::steady_clock::now();
  pid_t script = ::fork();
  if (script < 0) {
    report(fd, false, 127 << 8);
    ::_exit(1);
  }
  if (script == 0) execScript(job, line, env);
  ::setpgid(script, script);  // also from here: no race with kill(-script)

  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, SIGCHLD);
  sigaddset(&wake, SIGTERM);
  enum { running, terminating, killing } phase = running;
  bool script_alive = true;
  bool timed_out = false;
  int64_t next_ms = job.timeout.count();  // deadline of the current phase
  int rounds = 0;
  for (;;) {
    for (;;) {
      int st = 0;
      pid_t p = ::waitpid(-1, &st, WNOHANG);
      if (p < 0 && errno == ECHILD) ::_exit(0);  // the whole tree is gone
      if (p <= 0) break;
      if (p == script) {
        script_alive = false;
        report(fd, timed_out, st);
        fd = -1;
      }
    }
    int64_t now = msSince(start);
    if (phase == running && now >= next_ms) {
      phase = terminating;
      timed_out = script_alive;
      signalTree(script, SIGTERM);
      next_ms = now + ScriptRunner::kKillGrace.count();
    } else if (phase == terminating && now >= next_ms) {
      phase = killing;
    }
    if (phase == killing) {
      signalTree(script, SIGKILL);
      if (++rounds > kKillRounds) ::_exit(1);
      next_ms = now + 10;
    }
    int64_t wait_ms = std::max<int64_t>(1, next_ms - now);
    timespec ts{static_cast<time_t>(wait_ms / 1000), static_cast<long>(wait_ms % 1000) * 1000000};
    if (::sigtimedwait(&wake, nullptr, &ts) == SIGTERM) {
      // vrrpd is stopping: end the run now.
      phase = killing;
      next_ms = 0;
    }
  }
}

}  // namespace

std::vector<pid_t> descendantsOf(pid_t root) {
  return descendantsIn(processTable(), {root});
}

std::vector<std::string> scriptEnvironment(
    const ScriptUser&, const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env{std::string("PATH=") + kScriptPath, "LANG=C"};
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
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
  // What a script's keeper leaves behind (if the keeper itself is killed)
  // comes back to vrrpd rather than to init, so it can still be ended.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigchld_.reset(evsignal_new(base_, SIGCHLD, onSigchld, this));
  if (sigchld_) event_add(sigchld_.get(), nullptr);
}

ScriptRunner::~ScriptRunner() {
  // Scripts still running when we stop end with us: TERM makes each keeper
  // kill its whole tree at once.
  for (auto& [pid, child] : children_) ::kill(pid, SIGTERM);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  while (!children_.empty() && std::chrono::steady_clock::now() < until) {
    int st = 0;
    pid_t p = ::waitpid(-1, &st, WNOHANG);
    if (p > 0) {
      children_.erase(p);
    } else if (p < 0 && errno == ECHILD) {
      break;
    } else {
      ::usleep(10000);
    }
  }
  for (auto& [pid, child] : children_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  for (auto& [pid, child] : children_) closeStatus(*child);
}

common::Result<pid_t> ScriptRunner::run(const ScriptJob& job, Done done, Gone gone) {
  using R = common::Result<pid_t>;
  std::string line = job.command;
  for (const auto& a : job.args) line += " " + shellQuote(a);
  std::vector<std::string> env = scriptEnvironment(job.user, job.env);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return R::fail(fmt::format("pipe() failed ({})", common::SysError::errnoText(errno)));
  }
  // Every signal stays blocked in the keeper until it waits for them: a
  // signal must never run vrrpd's libevent handlers in the child.
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t vrrpd = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    ::setpgid(0, 0);
    // Keep only stdio and the report pipe (as fd 3).
    int w = fds[1] == 3 ? 3 : ::dup2(fds[1], 3);
    if (w != 3) ::_exit(1);
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
    ::closefrom(4);
    keep(job, line, env, vrrpd, 3);
  }
  int fork_errno = errno;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return R::fail(common::SysError{"fork()", fork_errno}.message());
  }
  auto child = std::make_unique<Child>();
  child->done = std::move(done);
  child->gone = std::move(gone);
  child->runner = this;
  child->pid = pid;
  child->status_fd = fds[0];
  child->status_ev.reset(event_new(base_, fds[0], EV_READ | EV_PERSIST, onStatus, child.get()));
  if (child->status_ev) event_add(child->status_ev.get(), nullptr);
  child->backstop.reset(evtimer_new(base_, onBackstop, child.get()));
  timeval tv = common::toTimeval(job.timeout + kKillGrace + kBackstopSlack);
  evtimer_add(child->backstop.get(), &tv);
  children_.emplace(pid, std::move(child));
  return pid;
}

void ScriptRunner::closeStatus(Child& c) {
  c.status_ev.reset();
  if (c.status_fd >= 0) ::close(c.status_fd);
  c.status_fd = -1;
}

void ScriptRunner::readStatus(Child& c, bool final) {
  if (c.status_fd < 0) return;
  Report r;
  ssize_t n = ::read(c.status_fd, &r, sizeof r);
  if (n < 0 && errno == EAGAIN && !final) return;
  closeStatus(c);
  if (n != static_cast<ssize_t>(sizeof r) || c.reported) return;
  c.reported = true;
  ScriptExit ex;
  ex.timed_out = r.timed_out != 0;
  if (WIFSIGNALED(r.wait_status)) {
    ex.signalled = true;
    ex.status = WTERMSIG(r.wait_status);
  } else {
    ex.status = WEXITSTATUS(r.wait_status);
  }
  if (c.done) c.done(ex);
}

void ScriptRunner::onStatus(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Child*>(arg);
  c->runner->readStatus(*c, false);
}

void ScriptRunner::onBackstop(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Child*>(arg);
  c->runner->log_.error("script keeper {} did not end its run in time: killing it", c->pid);
  ::kill(c->pid, SIGKILL);
}

void ScriptRunner::onSigchld(evutil_socket_t, short, void* arg) {
  static_cast<ScriptRunner*>(arg)->reap();
}

void ScriptRunner::reap() {
  bool sweep = false;
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    auto it = children_.find(pid);
    if (it == children_.end()) continue;  // a stray that came back to us (see below)
    std::unique_ptr<Child> child = std::move(it->second);
    children_.erase(it);
    readStatus(*child, true);
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!child->reported) {
      // The keeper died without a report: the script cannot be trusted to
      // have succeeded.
      child->reported = true;
      ScriptExit ex{true, true, SIGKILL};
      if (child->done) child->done(ex);
    }
    sweep |= !clean;
    if (child->gone) child->gone();
  }
  if (sweep) {
    // A keeper that died early left its tree to us (we are a subreaper):
    // whatever is our child and not a keeper is such a stray.
    auto table = processTable();
    std::set<pid_t> strays;
    for (const auto& [pid, ppid] : table) {
      if (ppid == ::getpid() && !children_.count(pid)) strays.insert(pid);
    }
    if (!strays.empty()) {
      for (pid_t p : descendantsIn(table, strays)) ::kill(p, SIGKILL);
      for (pid_t p : strays) ::kill(p, SIGKILL);
      log_.warn("killed {} process(es) left behind by a script", strays.size());
    }
  }
}

}  // namespace vrrpd
