#include "vrrpd/script_runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>

using vrrpd::ScriptExit;
using vrrpd::ScriptRunner;
using vrrpd::ScriptUser;

namespace {

ScriptUser me() {
  return ScriptUser{::getuid(), ::getgid(), "me"};
}

// Runs `cmd` and turns the loop until it has exited.
ScriptExit runToEnd(const std::string& cmd, const std::vector<std::string>& args,
                    std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
  common::EventBasePtr base(event_base_new());
  common::Log log(common::LogLevel::emerg);
  ScriptRunner runner(base.get(), log);
  std::optional<ScriptExit> result;
  auto pid = runner.run(cmd, args, me(), timeout, [&](const ScriptExit& ex) {
    result = ex;
    event_base_loopbreak(base.get());
  });
  REQUIRE(pid);
  timeval limit{10, 0};
  event_base_loopexit(base.get(), &limit);
  event_base_dispatch(base.get());
  REQUIRE(result);
  return *result;
}

}  // namespace

TEST_CASE("a script's exit code comes back through SIGCHLD") {
  CHECK(runToEnd("true", {}).ok());
  auto ex = runToEnd("exit 3", {});
  CHECK_FALSE(ex.ok());
  CHECK(ex.status == 3);
  CHECK_FALSE(ex.timed_out);
}

TEST_CASE("arguments are passed quoted, as keepalived's notify arguments") {
  // A notify script gets TYPE NAME STATE PRIORITY as separate words, even
  // when the name has a space or a quote in it.
  char path[] = "/tmp/vrrpd-script-test.XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::string body =
      "#!/bin/sh\ntest \"$#\" = 4 && test \"$2\" = \"it's VI 1\" && test \"$4\" = 100\n";
  REQUIRE(::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()));
  ::close(fd);
  ::chmod(path, 0700);
  CHECK(runToEnd(path, {"INSTANCE", "it's VI 1", "MASTER", "100"}).ok());
  CHECK_FALSE(runToEnd(path, {"INSTANCE", "VI_1", "MASTER", "100"}).ok());
  ::unlink(path);
}

TEST_CASE("a script past its timeout is ended, and says so") {
  auto start = std::chrono::steady_clock::now();
  auto ex = runToEnd("sleep 30", {}, std::chrono::milliseconds(100));
  CHECK(ex.timed_out);
  CHECK_FALSE(ex.ok());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("shellQuote survives quotes") {
  CHECK(vrrpd::shellQuote("a b") == "'a b'");
  CHECK(vrrpd::shellQuote("it's") == "'it'\\''s'");
}
