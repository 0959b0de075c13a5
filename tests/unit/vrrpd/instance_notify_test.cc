// The notify calls of a transition: notify_STATE first, then the generic
// notify with keepalived's arguments TYPE NAME STATE PRIORITY.
#include "vrrpd/core/instance_notify.h"

#include <catch2/catch.hpp>

using vrrpd::State;
using vrrpd::transitionNotify;

TEST_CASE("notify: the state's script, then the generic one", "[instance_notify]") {
  vrrpd::InstanceSection cfg;
  cfg.name = "VI_1";
  cfg.notify_master = "/bin/m";
  cfg.notify_master_as = {"alice", "staff"};
  cfg.notify = "/bin/all";
  auto ev = transitionNotify(cfg, State::master, 90);
  CHECK(ev.state == "MASTER");
  REQUIRE(ev.calls.size() == 2);
  CHECK(ev.calls[0].key == "notify_master");
  CHECK(ev.calls[0].command == "/bin/m");
  CHECK(ev.calls[0].args.empty());
  CHECK(ev.calls[0].user == "alice");
  CHECK(ev.calls[0].group == "staff");
  using Env = std::vector<std::pair<std::string, std::string>>;
  CHECK(ev.calls[0].env ==
        Env{{"VRRPD_INSTANCE", "VI_1"}, {"VRRPD_STATE", "MASTER"}, {"VRRPD_PRIORITY", "90"}});
  CHECK(ev.calls[1].key == "notify");
  CHECK(ev.calls[1].args == std::vector<std::string>{"INSTANCE", "VI_1", "MASTER", "90"});
}

TEST_CASE("notify: each state its own script; stopping is STOP", "[instance_notify]") {
  vrrpd::InstanceSection cfg;
  cfg.name = "VI_1";
  cfg.notify_backup = "/bin/b";
  cfg.notify_fault = "/bin/f";
  cfg.notify_stop = "/bin/s";
  CHECK(transitionNotify(cfg, State::backup, 100).calls.at(0).command == "/bin/b");
  CHECK(transitionNotify(cfg, State::fault, 100).calls.at(0).command == "/bin/f");
  auto stop = transitionNotify(cfg, State::init, 100);
  CHECK(stop.state == "STOP");
  CHECK(stop.calls.at(0).key == "notify_stop");
  // No script for MASTER: an event without calls (it still replaces a
  // waiting one in the NotifyQueue).
  auto master = transitionNotify(cfg, State::master, 100);
  CHECK(master.state == "MASTER");
  CHECK(master.calls.empty());
}
