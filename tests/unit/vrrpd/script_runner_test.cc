#include "vrrpd/io/script_runner.h"
#include "vrrpd/core/script_policy.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "tests/unit/support/temp_dir.h"

using vrrpd::ScriptExit;
using vrrpd::ScriptJob;
using vrrpd::ScriptRunner;
using vrrpd::ScriptUser;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using test_support::slurp;
using test_support::TempDir;

namespace {

ScriptUser me() {
  return ScriptUser{::getuid(), ::getgid(), "me"};
}

std::vector<pid_t> pidsIn(const std::string& path) {
  std::vector<pid_t> out;
  std::ifstream in(path);
  for (pid_t p; in >> p;) out.push_back(p);
  return out;
}

bool alive(pid_t p) {
  return ::kill(p, 0) == 0;
}

struct Outcome {
  std::optional<ScriptExit> exit;
  double exited_s = -1;  // when the script's exit came back
  double gone_s = -1;    // when every process of the run was gone
};

// Runs the job and turns the loop until nothing of it is left.
Outcome runToGone(ScriptJob job) {
  common::EventBasePtr base(event_base_new());
  common::Log log(common::LogLevel::emerg);
  ScriptRunner runner(base.get(), log);
  Outcome o;
  auto start = std::chrono::steady_clock::now();
  auto since = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto id = runner.run(
      job,
      [&](const ScriptExit& ex) {
        o.exit = ex;
        o.exited_s = since();
      },
      [&] {
        o.gone_s = since();
        event_base_loopbreak(base.get());
      });
  REQUIRE(id);
  timeval limit{20, 0};
  event_base_loopexit(base.get(), &limit);
  event_base_dispatch(base.get());
  REQUIRE(o.exit);
  REQUIRE(o.gone_s >= 0);
  CHECK(runner.active() == 0);
  return o;
}

ScriptJob job(const std::string& cmd, std::chrono::milliseconds timeout = 5s) {
  ScriptJob j;
  j.command = cmd;
  j.user = me();
  j.timeout = timeout;
  return j;
}

}  // namespace

TEST_CASE("a script's exit code comes back, and a run that leaves nothing is gone at once") {
  auto o = runToGone(job("true"));
  CHECK(o.exit->ok());
  // Gone long before the 5 s timeout: the keeper does not wait for it.
  std::cout << "measured: true gone after " << o.gone_s << " s\n";
  CHECK(o.gone_s < 2.0);
  auto three = runToGone(job("exit 3"));
  CHECK_FALSE(three.exit->ok());
  CHECK(three.exit->status == 3);
  CHECK_FALSE(three.exit->timed_out);
}

TEST_CASE("arguments are passed quoted, as keepalived's notify arguments") {
  // A notify script gets TYPE NAME STATE PRIORITY as separate words, even
  // when the name has a space or a quote in it.
  TempDir t("vrrpd_script", 0777);
  std::string path = t.at("notify.sh");
  std::ofstream(path) << "#!/bin/sh\ntest \"$#\" = 4 && test \"$2\" = \"it's VI 1\" && "
                         "test \"$4\" = 100\n";
  ::chmod(path.c_str(), 0755);
  auto ok = job(path);
  ok.args = {"INSTANCE", "it's VI 1", "MASTER", "100"};
  CHECK(runToGone(ok).exit->ok());
  auto bad = job(path);
  bad.args = {"INSTANCE", "VI_1", "MASTER", "100"};
  CHECK_FALSE(runToGone(bad).exit->ok());
}

TEST_CASE("a script past its timeout is ended, and says so") {
  auto o = runToGone(job("sleep 30", 100ms));
  CHECK(o.exit->timed_out);
  CHECK_FALSE(o.exit->ok());
  std::cout << "measured: sleep 30 with a 0.1 s timeout ended after " << o.gone_s << " s\n";
  CHECK(o.gone_s < 5.0);
}

TEST_CASE("a script that ignores SIGTERM gets SIGKILL, its whole process group too") {
  TempDir t("vrrpd_script", 0777);
  std::string pids = t.at("pids");
  // The shell and a child both ignore TERM (an ignored signal stays ignored
  // across fork and exec).
  auto o = runToGone(
      job("trap '' TERM; echo $$ > " + pids + "; sleep 30 & echo $! >> " + pids + "; wait", 200ms));
  CHECK(o.exit->timed_out);
  CHECK(o.exit->signalled);
  CHECK(o.exit->status == SIGKILL);
  auto p = pidsIn(pids);
  REQUIRE(p.size() == 2);
  for (pid_t pid : p) CHECK_FALSE(alive(pid));
  // TERM at 0.2 s was ignored; SIGKILL came kKillGrace (2 s) later.
  std::cout << "measured: TERM-proof script gone after " << o.gone_s << " s\n";
  CHECK(o.gone_s >= 2.0);
  CHECK(o.gone_s < 8.0);
}

TEST_CASE("background children and setsid children do not outlive the script's timeout") {
  TempDir t("vrrpd_script", 0777);
  std::string pids = t.at("pids");
  // `sleep 40 &` stays in the script's process group; `setsid sleep 40`
  // leaves it (and its session): both were left running by the old runner.
  auto o =
      runToGone(job("sleep 40 & echo $! > " + pids + "; setsid sleep 40 & echo $! >> " + pids +
                        "; setsid sh -c 'sleep 40 & echo $! >> " + pids + "' ; sleep 0.1; exit 0",
                    1500ms));
  // The script itself exited 0 before its timeout: that is its result, and
  // it comes back at once, before the leftovers are killed.
  CHECK(o.exit->ok());
  CHECK(o.exited_s < 1.5);
  auto p = pidsIn(pids);
  REQUIRE(p.size() == 3);
  for (pid_t pid : p) {
    INFO("pid " << pid);
    CHECK_FALSE(alive(pid));
  }
  std::cout << "measured: exit after " << o.exited_s << " s, leftovers gone after " << o.gone_s
            << " s (timeout 1.5 s)\n";
  CHECK(o.gone_s >= 1.4);
  CHECK(o.gone_s < 6.0);
}

TEST_CASE("a script gets a small fixed environment, not vrrpd's") {
  TempDir t("vrrpd_script", 0777);
  std::string out = t.at("env");
  ::setenv("VRRPD_TEST_LEAK", "1", 1);
  auto j = job("env > " + out);
  j.env = {{"VRRPD_STATE", "MASTER"}};
  CHECK(runToGone(j).exit->ok());
  ::unsetenv("VRRPD_TEST_LEAK");
  std::string env = slurp(out);
  INFO(env);
  CHECK(env.find("VRRPD_TEST_LEAK") == std::string::npos);
  CHECK(env.find(std::string("PATH=") + vrrpd::kScriptPath + "\n") != std::string::npos);
  CHECK(env.find("LANG=C\n") != std::string::npos);
  CHECK(env.find("VRRPD_STATE=MASTER\n") != std::string::npos);
}

TEST_CASE("a script user's process count is bounded by RLIMIT_NPROC") {
  auto nobody = vrrpd::lookupScriptUser("nobody");
  if (::getuid() != 0 || !nobody) {
    WARN("not run: needs root and user nobody");
    return;
  }
  TempDir t("vrrpd_script", 0777);
  std::string pids = t.at("pids");
  auto j = job("for i in $(seq 1 40); do sleep 3 & echo $! >> " + pids + "; done; wait", 2s);
  j.user = *nobody;
  j.max_processes = 8;
  auto o = runToGone(j);
  auto p = pidsIn(pids);
  std::cout << "measured: " << p.size() << " of 40 background processes started with "
            << "max_processes 8\n";
  CHECK(p.size() < 8);
  CHECK_FALSE(o.exit->ok());  // the shell cannot fork
}

TEST_CASE("shellQuote survives quotes") {
  CHECK(vrrpd::shellQuote("a b") == "'a b'");
  CHECK(vrrpd::shellQuote("it's") == "'it'\\''s'");
}
