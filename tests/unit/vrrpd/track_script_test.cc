#include "vrrpd/io/track_script.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

using vrrpd::RiseFall;

TEST_CASE("rise/fall: a good script turns bad after `fall` failures in a row") {
  RiseFall rf(/*rise=*/2, /*fall=*/3, /*initially_ok=*/true);
  CHECK_FALSE(rf.feed(false));
  CHECK_FALSE(rf.feed(false));
  CHECK_FALSE(rf.feed(true));  // a success in between starts the count again
  CHECK_FALSE(rf.feed(false));
  CHECK_FALSE(rf.feed(false));
  CHECK(rf.ok());
  CHECK(rf.feed(false));  // the third in a row
  CHECK_FALSE(rf.ok());
}

TEST_CASE("rise/fall: a bad script turns good after `rise` successes in a row") {
  RiseFall rf(2, 1, /*initially_ok=*/false);  // init_fail
  CHECK_FALSE(rf.feed(true));
  CHECK_FALSE(rf.feed(false));
  CHECK_FALSE(rf.feed(true));
  CHECK(rf.feed(true));
  CHECK(rf.ok());
  CHECK(rf.feed(false));  // fall = 1
  CHECK_FALSE(rf.ok());
}

TEST_CASE("rise/fall: results that agree with the state change nothing") {
  RiseFall rf(1, 1, true);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(rf.feed(true));
  CHECK(rf.ok());
  CHECK(rf.streak() == 0);
}

namespace {

struct ScriptDir {
  ScriptDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "vrrpd_track_XXXXXX").string();
    path = ::mkdtemp(templ.data());
  }
  ~ScriptDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

int linesOf(const std::string& file) {
  std::ifstream in(file);
  int n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

// Runs `sec` for `how_long` with a real runner; returns the script.
struct Harness {
  common::EventBasePtr base{event_base_new()};
  common::Log log{common::LogLevel::emerg};
  vrrpd::ScriptRunner runner{base.get(), log};
  void turn(std::chrono::milliseconds how_long) {
    timeval tv = common::toTimeval(how_long);
    event_base_loopexit(base.get(), &tv);
    event_base_dispatch(base.get());
  }
};

vrrpd::ScriptPolicy asMe() {
  vrrpd::ScriptPolicy p;
  p.script_user = ::getpwuid(::getuid())->pw_name;
  return p;
}

}  // namespace

TEST_CASE("track script: a script still running is not started again") {
  ScriptDir d;
  std::string starts = d.path + "/starts";
  vrrpd::ScriptSection sec;
  sec.name = "slow";
  sec.script = "echo x >> " + starts + "; sleep 0.6";
  sec.interval = std::chrono::milliseconds(100);
  sec.timeout = std::chrono::milliseconds(2000);
  Harness h;
  vrrpd::TrackScript ts(sec, h.base.get(), h.runner, asMe(), h.log);
  ts.start();
  h.turn(std::chrono::milliseconds(1500));
  int n = linesOf(starts);
  // Ticks every 0.1 s for 1.5 s (15); each run holds 0.6 s: at most 3 start.
  std::cout << "measured: " << n << " start(s) in 1.5 s (interval 0.1 s, run 0.6 s)\n";
  CHECK(n >= 1);
  CHECK(n <= 3);
  CHECK(ts.runs() == n);
}

TEST_CASE("track script: a user that does not exist fails the script, never runs it as root") {
  ScriptDir d;
  std::string ran = d.path + "/ran";
  vrrpd::ScriptSection sec;
  sec.name = "chk";
  sec.script = "touch " + ran;
  sec.user = "vrrpd-no-such-user";
  sec.interval = std::chrono::milliseconds(100);
  Harness h;
  vrrpd::TrackScript ts(sec, h.base.get(), h.runner, asMe(), h.log);
  CHECK(ts.ok());  // a fresh script starts OK (no init_fail)
  ts.start();
  h.turn(std::chrono::milliseconds(400));
  CHECK_FALSE(ts.ok());
  CHECK(ts.lastFailure() == "not run: script user \"vrrpd-no-such-user\" does not exist");
  CHECK(ts.runs() == 0);
  CHECK_FALSE(std::filesystem::exists(ran));
}

TEST_CASE("track script: enable_script_security refuses a root script others can modify") {
  if (::getuid() != 0) {
    WARN("not run: needs root");
    return;
  }
  ScriptDir d;
  ::chmod(d.path.c_str(), 0755);
  std::string script = d.path + "/chk.sh";
  std::ofstream(script) << "#!/bin/sh\nexit 0\n";
  ::chmod(script.c_str(), 0757);  // world-writable
  vrrpd::ScriptSection sec;
  sec.name = "chk";
  sec.script = script;
  sec.user = "root";
  sec.interval = std::chrono::milliseconds(100);
  Harness h;
  auto policy = asMe();
  policy.security = true;
  vrrpd::TrackScript ts(sec, h.base.get(), h.runner, policy, h.log);
  ts.start();
  h.turn(std::chrono::milliseconds(300));
  CHECK_FALSE(ts.ok());
  CHECK(ts.runs() == 0);
  CHECK(ts.lastFailure().find("refused by enable_script_security") != std::string::npos);
  // Without the option the same script runs (the -t warning says so).
  policy.security = false;
  vrrpd::TrackScript plain(sec, h.base.get(), h.runner, policy, h.log);
  plain.start();
  h.turn(std::chrono::milliseconds(300));
  CHECK(plain.ok());
  CHECK(plain.runs() >= 1);
}
