#include "vrrpd/io/notifier.h"

#include <pwd.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

using namespace std::chrono_literals;

namespace {

struct Rig {
  Rig() {
    std::string templ = (std::filesystem::temp_directory_path() / "vrrpd_notify_XXXXXX").string();
    dir = ::mkdtemp(templ.data());
    vrrpd::ScriptPolicy p;
    p.script_user = ::getpwuid(::getuid())->pw_name;
    p.notify_timeout = 300ms;
    notifier.setPolicy(p);
  }
  ~Rig() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  vrrpd::NotifyEvent event(const std::string& state, const std::string& command) {
    vrrpd::NotifyEvent ev;
    ev.state = state;
    ev.calls.push_back({"notify_" + state, command, {}, "", "", {{"VRRPD_STATE", state}}});
    return ev;
  }
  // Turns the loop until every queue is idle, checking the bound all along.
  void runUntilIdle(std::chrono::seconds limit) {
    notifier.on_idle = [this] { event_base_loopbreak(base.get()); };
    common::EventPtr tick(event_new(
        base.get(), -1, EV_PERSIST,
        [](evutil_socket_t, short, void* arg) {
          auto* self = static_cast<Rig*>(arg);
          self->max_active = std::max(self->max_active, self->runner.active());
        },
        this));
    timeval every{0, 20000};
    evtimer_add(tick.get(), &every);
    timeval tv = common::toTimeval(limit);
    event_base_loopexit(base.get(), &tv);
    event_base_dispatch(base.get());
  }
  std::vector<std::string> lines(const std::string& name) {
    std::ifstream in(dir + "/" + name);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  common::EventBasePtr base{event_base_new()};
  common::Log log{common::LogLevel::emerg};
  vrrpd::ScriptRunner runner{base.get(), log};
  vrrpd::Notifier notifier{runner, log};
  std::string dir;
  size_t max_active = 0;
};

}  // namespace

TEST_CASE("notify: a hanging notify under 8 flaps leaves one process tree, not 16") {
  Rig r;
  // Hangs (and ignores TERM) until notify_timeout's SIGKILL.
  std::string hang = "echo start $VRRPD_STATE >> " + r.dir + "/log; trap '' TERM; sleep 30";
  r.notifier.notify("VI_1", r.event("MASTER", hang));
  for (int i = 0; i < 8; ++i) {
    r.notifier.notify("VI_1", r.event(i % 2 ? "MASTER" : "BACKUP", hang));
    r.max_active = std::max(r.max_active, r.runner.active());
  }
  auto start = std::chrono::steady_clock::now();
  r.runUntilIdle(30s);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.notifier.idle());
  auto log = r.lines("log");
  std::cout << "measured: " << r.max_active << " run(s) at once at most, " << log.size()
            << " notify run(s) for 9 transitions, idle after " << took << " s\n";
  CHECK(r.max_active == 1);
  // The first transition, then the latest: the 7 in between coalesced.
  REQUIRE(log.size() == 2);
  CHECK(log[0] == "start MASTER");
  CHECK(log[1] == "start MASTER");  // the 8th flap: i = 7 -> MASTER
}

TEST_CASE("notify: each notify starts only after the one before has ended") {
  Rig r;
  std::string f = r.dir + "/log";
  auto cmd = [&](int ms) {
    return "echo start $VRRPD_STATE >> " + f + "; sleep " + std::to_string(ms / 1000.0) +
           "; echo end $VRRPD_STATE >> " + f;
  };
  r.notifier.notify("VI_1", r.event("BACKUP", cmd(200)));  // slow
  r.notifier.notify("VI_1", r.event("MASTER", cmd(0)));    // fast: must still come second
  r.notifier.notify("VI_2", r.event("FAULT", "true"));     // another instance: its own queue
  r.runUntilIdle(20s);
  auto log = r.lines("log");
  REQUIRE(log.size() == 4);
  CHECK(log ==
        std::vector<std::string>{"start BACKUP", "end BACKUP", "start MASTER", "end MASTER"});
}

TEST_CASE("notify: a script user that does not exist means the notify is not run") {
  Rig r;
  std::string f = r.dir + "/ran";
  auto ev = r.event("MASTER", "touch " + f);
  ev.calls[0].user = "vrrpd-no-such-user";
  r.notifier.notify("VI_1", ev);
  CHECK(r.notifier.idle());  // refused at once, nothing waits
  r.runUntilIdle(1s);
  CHECK_FALSE(std::filesystem::exists(f));
}
