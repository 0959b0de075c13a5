// The VRRP state machine, input by input: RFC 5798 6.4 with keepalived's
// behaviour (REFERENCE.md "keepalived VRRP on the wire"). Every test
// asserts the exact list of actions, written as text so a failure shows
// the whole list.
#include "vrrpd/core/vrrp_state_machine.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ip_address.h"
#include "tests/unit/support/addresses.h"
#include "vrrpd/core/vrrp_action_text.h"

using namespace std::chrono_literals;
using common::Duration;
using common::FakeClock;
using vrrpd::Actions;
using vrrpd::AdvertIn;
using vrrpd::MachineConfig;
using vrrpd::State;
using vrrpd::TimerKind;
using vrrpd::VrrpStateMachine;

namespace {

using test_support::ip;

// The actions as text (vrrp_action_text.h), so a failure shows the whole list.
std::vector<std::string> describe(const Actions& actions) {
  return vrrpd::actionsText(actions);
}

using Lines = std::vector<std::string>;

MachineConfig config(std::uint8_t priority, const char* addr = "192.0.2.11") {
  MachineConfig c;
  c.priority = priority;
  c.primary = ip(addr);
  return c;
}

AdvertIn advert(std::uint8_t priority, const char* src = "192.0.2.12", Duration interval = 1s) {
  return AdvertIn{priority, ip(src), interval};
}

// The actions of becoming MASTER with the default GARP settings.
Lines masterEntry(int priority, const std::string& from, const std::string& cause,
                  const std::string& advert = "1s") {
  return {"AddVips",
          fmt::format("SendAdvert({})", priority),
          "SendGratuitous",
          fmt::format("ArmTimer(advert, {})", advert),
          "ArmTimer(garp_repeat, 5s)",
          fmt::format("Transition({} -> MASTER: {})", from, cause)};
}

const Lines kLeaveMaster = {"DelVips", "CancelTimer(advert)", "CancelTimer(garp_repeat)",
                            "CancelTimer(garp_refresh)"};

Lines concat(Lines a, const Lines& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A machine brought to MASTER through its down timer.
struct MasterFixture {
  FakeClock clock;
  VrrpStateMachine m;
  explicit MasterFixture(MachineConfig c) : m(std::move(c)) {
    m.onStartup(clock.now());
    clock.advance(m.masterDownInterval());
    m.onTimer(TimerKind::master_down, clock.now());
    REQUIRE(m.state() == State::master);
  }
};

}  // namespace

TEST_CASE("vrrp machine: Skew_Time and Master_Down_Interval", "[vrrp_state_machine]") {
  SECTION("v2, advert 1 s, priority 100: 3.609375 s (keepalived logs 3.61 s)") {
    VrrpStateMachine m(config(100));
    CHECK(m.skewTime() == Duration(609375us));
    CHECK(m.masterDownInterval() == Duration(3609375us));
  }
  SECTION("v2 ignores the advert interval in the skew: (256 - priority) / 256 s") {
    MachineConfig c = config(200);
    c.advert_interval = 2s;
    VrrpStateMachine m(c);
    CHECK(m.skewTime() == Duration(218750us));  // 56/256 s
    CHECK(m.masterDownInterval() == Duration(6218750us));
  }
  SECTION("v3, advert 1 s, priority 100: 3 + 156/256 s") {
    MachineConfig c = config(100);
    c.version = 3;
    VrrpStateMachine m(c);
    CHECK(m.masterDownInterval() == 3s + Duration(1s) * 156 / 256);
  }
  SECTION("v3 scales the skew with Master_Adver_Interval") {
    MachineConfig c = config(100);
    c.version = 3;
    c.advert_interval = 500ms;
    VrrpStateMachine m(c);
    CHECK(m.skewTime() == Duration(304687500ns));  // 156 * 0.5 / 256
    CHECK(m.masterDownInterval() == Duration(1804687500ns));
  }
  SECTION("owner: smallest skew") {
    VrrpStateMachine m(config(255));
    CHECK(m.skewTime() == Duration(3906250ns));  // 1/256 s
  }
}

TEST_CASE("vrrp machine: startup", "[vrrp_state_machine]") {
  FakeClock clock;
  SECTION("BACKUP with Master_Down_Interval") {
    VrrpStateMachine m(config(100));
    CHECK(m.state() == State::init);
    CHECK(describe(m.onStartup(clock.now())) ==
          Lines{"ArmTimer(master_down, 3.609375s)", "Transition(INIT -> BACKUP: start)"});
    CHECK(m.state() == State::backup);
    CHECK(m.masterAddress().empty());
    CHECK(m.onStartup(clock.now()).empty());  // only once
  }
  SECTION("the address owner (255) becomes MASTER at once") {
    VrrpStateMachine m(config(255));
    CHECK(describe(m.onStartup(clock.now())) ==
          masterEntry(255, "INIT", "priority 255 (address owner)"));
    CHECK(m.state() == State::master);
    CHECK(m.masterAddress() == ip("192.0.2.11"));
  }
  SECTION("state MASTER on a non-owner only shortens the first down timer (keepalived)") {
    MachineConfig c = config(100);
    c.initial_master = true;
    VrrpStateMachine m(c);
    // advert_int + the skew of priority 255: 1 s + 1/256 s.
    CHECK(describe(m.onStartup(clock.now())) ==
          Lines{"ArmTimer(master_down, 1.00390625s)",
                "Transition(INIT -> BACKUP: start, state MASTER: first down timer 1.00 s)"});
    clock.advance(1003906250ns);
    CHECK(describe(m.onTimer(TimerKind::master_down, clock.now())) ==
          masterEntry(100, "BACKUP", "state MASTER, no advert within 1.00 s"));
  }
  SECTION("state MASTER, v3: advert + advert/256") {
    MachineConfig c = config(100);
    c.version = 3;
    c.advert_interval = 500ms;
    c.initial_master = true;
    VrrpStateMachine m(c);
    auto a = describe(m.onStartup(clock.now()));
    REQUIRE(!a.empty());
    CHECK(a[0] == "ArmTimer(master_down, 0.501953125s)");
  }
  SECTION("state MASTER with a master already there: its advert gives the normal timer") {
    MachineConfig c = config(100);
    c.initial_master = true;
    VrrpStateMachine m(c);
    m.onStartup(clock.now());
    clock.advance(300ms);
    CHECK(describe(m.onAdvert(advert(150), clock.now())) ==
          Lines{"ArmTimer(master_down, 3.609375s)"});
    CHECK(m.state() == State::backup);
  }
  SECTION("a fault reported before startup: start in FAULT") {
    VrrpStateMachine m(config(100));
    CHECK(m.onFault(true, "interface eth0 is down", clock.now()).empty());
    CHECK(describe(m.onStartup(clock.now())) ==
          Lines{"Transition(INIT -> FAULT: start with a fault)"});
    CHECK(m.state() == State::fault);
  }
  SECTION("garp_master_delay 0 and garp_master_refresh set") {
    MachineConfig c = config(255);
    c.garp_master_delay = Duration::zero();
    c.garp_master_refresh = 60s;
    VrrpStateMachine m(c);
    CHECK(describe(m.onStartup(clock.now())) ==
          Lines{"AddVips", "SendAdvert(255)", "SendGratuitous", "ArmTimer(advert, 1s)",
                "ArmTimer(garp_refresh, 60s)",
                "Transition(INIT -> MASTER: priority 255 (address owner))"});
    clock.advance(60s);
    CHECK(describe(m.onTimer(TimerKind::garp_refresh, clock.now())) ==
          Lines{"SendGratuitous", "ArmTimer(garp_refresh, 60s)"});
  }
}

TEST_CASE("vrrp machine: BACKUP takes over when the master goes silent", "[vrrp_state_machine]") {
  FakeClock clock;
  VrrpStateMachine m(config(100));
  m.onStartup(clock.now());
  clock.advance(500ms);
  CHECK(describe(m.onAdvert(advert(150), clock.now())) ==
        Lines{"ArmTimer(master_down, 3.609375s)"});
  CHECK(m.masterAddress() == ip("192.0.2.12"));
  clock.advance(3609375us);
  CHECK(describe(m.onTimer(TimerKind::master_down, clock.now())) ==
        masterEntry(100, "BACKUP", "master down timer, 3.61 s without advert"));
  CHECK(m.state() == State::master);
  CHECK(m.masterAddress() == ip("192.0.2.11"));
  // Adver_Timer: one advert per interval.
  clock.advance(1s);
  CHECK(describe(m.onTimer(TimerKind::advert, clock.now())) ==
        Lines{"SendAdvert(100)", "ArmTimer(advert, 1s)"});
  clock.advance(4s);
  CHECK(describe(m.onTimer(TimerKind::garp_repeat, clock.now())) == Lines{"SendGratuitous"});
}

TEST_CASE("vrrp machine: BACKUP receiving adverts", "[vrrp_state_machine]") {
  FakeClock clock;
  SECTION("equal priority is accepted (RFC 5798 6.4.2: >= local)") {
    VrrpStateMachine m(config(100, "192.0.2.11"));
    m.onStartup(clock.now());
    // Even from a lower address: a backup does not preempt on a tie.
    CHECK(describe(m.onAdvert(advert(100, "192.0.2.5"), clock.now())) ==
          Lines{"ArmTimer(master_down, 3.609375s)"});
    CHECK(m.masterAddress() == ip("192.0.2.5"));
  }
  SECTION("lower priority with preempt: discarded, the down timer runs out") {
    VrrpStateMachine m(config(150));
    m.onStartup(clock.now());
    for (int i = 0; i < 3; ++i) {
      clock.advance(1s);
      CHECK(m.onAdvert(advert(100), clock.now()).empty());
    }
    CHECK(m.masterAddress() == ip("192.0.2.12"));
    clock.advance(m.masterDownInterval() - 3s);
    CHECK(describe(m.onTimer(TimerKind::master_down, clock.now())) ==
          masterEntry(150, "BACKUP", "higher priority 150 than master 100 (preempt)"));
  }
  SECTION("nopreempt: lower priority adverts keep it BACKUP") {
    MachineConfig c = config(150);
    c.preempt = false;
    VrrpStateMachine m(c);
    m.onStartup(clock.now());
    for (int i = 0; i < 100; ++i) {
      clock.advance(1s);
      CHECK(describe(m.onAdvert(advert(100), clock.now())) ==
            Lines{"ArmTimer(master_down, 3.4140625s)"});  // 3 + 106/256
    }
    CHECK(m.state() == State::backup);
  }
  SECTION("v3 learns Master_Adver_Interval from the advert") {
    MachineConfig c = config(100);
    c.version = 3;
    VrrpStateMachine m(c);
    m.onStartup(clock.now());
    CHECK(describe(m.onAdvert(advert(200, "192.0.2.12", 500ms), clock.now())) ==
          Lines{"ArmTimer(master_down, 1.8046875s)"});  // 1.5 + 156 * 0.5 / 256
    CHECK(m.masterAdverInterval() == 500ms);
    // Once MASTER it sends at its own interval again.
    clock.advance(1804687500ns);
    auto a = describe(m.onTimer(TimerKind::master_down, clock.now()));
    REQUIRE(a.size() >= 4);
    CHECK(a[3] == "ArmTimer(advert, 1s)");
    CHECK(m.masterAdverInterval() == 1s);
  }
  SECTION("v2 keeps its own interval (a mismatch is dropped by the filter)") {
    VrrpStateMachine m(config(100));
    m.onStartup(clock.now());
    CHECK(describe(m.onAdvert(advert(200, "192.0.2.12", 2s), clock.now())) ==
          Lines{"ArmTimer(master_down, 3.609375s)"});
    CHECK(m.masterAdverInterval() == 1s);
  }
  SECTION("priority 0: take over after Skew_Time only") {
    VrrpStateMachine m(config(100));
    m.onStartup(clock.now());
    m.onAdvert(advert(150), clock.now());
    clock.advance(1s);
    CHECK(describe(m.onAdvert(advert(0), clock.now())) ==
          Lines{"ArmTimer(master_down, 0.609375s)"});
    clock.advance(609375us);
    CHECK(describe(m.onTimer(TimerKind::master_down, clock.now())) ==
          masterEntry(100, "BACKUP", "master 192.0.2.12 resigned (priority 0), Skew_Time 0.61 s"));
  }
  SECTION("priority 0 then a higher master speaks: back to the full interval") {
    VrrpStateMachine m(config(100));
    m.onStartup(clock.now());
    m.onAdvert(advert(0), clock.now());
    clock.advance(100ms);
    CHECK(describe(m.onAdvert(advert(120, "192.0.2.13"), clock.now())) ==
          Lines{"ArmTimer(master_down, 3.609375s)"});
    CHECK(m.masterAddress() == ip("192.0.2.13"));
  }
}

TEST_CASE("vrrp machine: preempt_delay (keepalived preempt_time)", "[vrrp_state_machine]") {
  FakeClock clock;
  MachineConfig c = config(150);
  c.preempt_delay = 10s;
  VrrpStateMachine m(c);
  m.onStartup(clock.now());
  // The lower master's adverts are accepted for preempt_delay after the
  // first one ...
  clock.advance(500ms);  // t = 0.5: delay runs until 10.5
  for (int i = 0; i < 10; ++i) {
    CHECK(describe(m.onAdvert(advert(100), clock.now())) ==
          Lines{"ArmTimer(master_down, 3.4140625s)"});  // 3 + 106/256
    clock.advance(1s);
  }
  // t = 10.5: ... then ignored, so the down timer (armed at 9.5) runs out.
  CHECK(m.onAdvert(advert(100), clock.now()).empty());
  clock.advance(1s);
  CHECK(m.onAdvert(advert(100), clock.now()).empty());
  CHECK(m.state() == State::backup);
  clock.advance(1414062500ns);  // fires at 9.5 + 3.4140625; now 11.5
  CHECK(describe(m.onTimer(TimerKind::master_down, clock.now())) ==
        masterEntry(150, "BACKUP",
                    "higher priority 150 than master 100 (preempt, after preempt_delay 10.00 s)"));
}

TEST_CASE("vrrp machine: preempt_delay restarts after a higher master", "[vrrp_state_machine]") {
  FakeClock clock;
  MachineConfig c = config(150);
  c.preempt_delay = 5s;
  VrrpStateMachine m(c);
  m.onStartup(clock.now());
  m.onAdvert(advert(100), clock.now());  // delay until 5
  clock.advance(3s);
  m.onAdvert(advert(200, "192.0.2.13"), clock.now());  // stop preempt delay
  clock.advance(3s);                                   // t = 6
  // A lower master again: a new delay starts now, so this one is accepted.
  CHECK(!m.onAdvert(advert(100), clock.now()).empty());
  clock.advance(4s);
  CHECK(!m.onAdvert(advert(100), clock.now()).empty());
  clock.advance(1s);  // t = 11: delay over
  CHECK(m.onAdvert(advert(100), clock.now()).empty());
}

TEST_CASE("vrrp machine: MASTER receiving adverts", "[vrrp_state_machine]") {
  SECTION("higher priority: step down to BACKUP") {
    MasterFixture f(config(100));
    f.clock.advance(200ms);
    CHECK(describe(f.m.onAdvert(advert(150), f.clock.now())) ==
          concat(kLeaveMaster,
                 {"ArmTimer(master_down, 3.609375s)",
                  "Transition(MASTER -> BACKUP: higher priority 150 advert from 192.0.2.12 (ours "
                  "100))"}));
    CHECK(f.m.state() == State::backup);
    CHECK(f.m.masterAddress() == ip("192.0.2.12"));
  }
  SECTION("equal priority, higher address (compared as numbers): step down") {
    // 192.0.2.100 > 192.0.2.11 as a number although "1" < "9" as text.
    MasterFixture f(config(100, "192.0.2.11"));
    CHECK(describe(f.m.onAdvert(advert(100, "192.0.2.100"), f.clock.now())) ==
          concat(kLeaveMaster,
                 {"ArmTimer(master_down, 3.609375s)",
                  "Transition(MASTER -> BACKUP: equal priority 100 advert from higher address "
                  "192.0.2.100)"}));
  }
  SECTION("equal priority, lower address: answer like a lower advert") {
    MasterFixture f(config(100, "192.0.2.100"));
    CHECK(describe(f.m.onAdvert(advert(100, "192.0.2.11"), f.clock.now())) ==
          Lines{"SendAdvert(100)", "SendGratuitous", "ArmTimer(garp_repeat, 5s)"});
    CHECK(f.m.state() == State::master);
  }
  SECTION("lower priority: keepalived answers at once with an advert and a GARP burst") {
    MasterFixture f(config(150));
    CHECK(describe(f.m.onAdvert(advert(100), f.clock.now())) ==
          Lines{"SendAdvert(150)", "SendGratuitous", "ArmTimer(garp_repeat, 5s)"});
    CHECK(f.m.state() == State::master);
  }
  SECTION("priority 0: advert at once and the Adver_Timer restarts") {
    MasterFixture f(config(100));
    CHECK(describe(f.m.onAdvert(advert(0), f.clock.now())) ==
          Lines{"SendAdvert(100)", "ArmTimer(advert, 1s)"});
    CHECK(f.m.state() == State::master);
  }
  SECTION("our own address at our priority: ignored") {
    MasterFixture f(config(100));
    CHECK(f.m.onAdvert(advert(100, "192.0.2.11"), f.clock.now()).empty());
    CHECK(f.m.state() == State::master);
  }
  SECTION("v3: the stepping-down master learns the new master's interval") {
    MachineConfig c = config(100);
    c.version = 3;
    MasterFixture f(c);
    auto a = describe(f.m.onAdvert(advert(200, "192.0.2.12", 200ms), f.clock.now()));
    REQUIRE(a.size() == 6);
    CHECK(a[4] == "ArmTimer(master_down, 0.721875s)");  // 0.6 + 156 * 0.2 / 256
  }
  SECTION("owner stays MASTER whatever lower nodes say") {
    FakeClock clock;
    VrrpStateMachine m(config(255));
    m.onStartup(clock.now());
    CHECK(describe(m.onAdvert(advert(254), clock.now())) ==
          Lines{"SendAdvert(255)", "SendGratuitous", "ArmTimer(garp_repeat, 5s)"});
  }
}

TEST_CASE("vrrp machine: priority changes", "[vrrp_state_machine]") {
  FakeClock clock;
  SECTION("MASTER: no extra advert, the next one carries the new priority") {
    MasterFixture f(config(100));
    CHECK(f.m.onPriority(80, f.clock.now()).empty());
    CHECK(f.m.priority() == 80);
    CHECK(describe(f.m.onTimer(TimerKind::advert, f.clock.now())) ==
          Lines{"SendAdvert(80)", "ArmTimer(advert, 1s)"});
  }
  SECTION("owner never changes") {
    VrrpStateMachine m(config(255));
    CHECK(m.onPriority(100, clock.now()).empty());
    CHECK(m.priority() == 255);
  }
  SECTION("clamped to 1..254") {
    VrrpStateMachine m(config(100));
    m.onPriority(0, clock.now());
    CHECK(m.priority() == 1);
    m.onPriority(255, clock.now());
    CHECK(m.priority() == 254);
    // The configured priority plus weights may leave 0..255 altogether.
    m.onPriority(100 + 400, clock.now());
    CHECK(m.priority() == 254);
    m.onPriority(100 - 400, clock.now());
    CHECK(m.priority() == 1);
  }
  SECTION("BACKUP rising: the running down timer moves earlier by the skew difference") {
    VrrpStateMachine m(config(100));
    m.onStartup(clock.now());
    m.onAdvert(advert(150), clock.now());  // fires at 3.609375
    clock.advance(1s);
    // priority 228: skew 28/256 = 0.109375, 0.5 s less: fires at 3.109375.
    CHECK(describe(m.onPriority(228, clock.now())) == Lines{"ArmTimer(master_down, 2.109375s)"});
  }
  SECTION("BACKUP falling: the running timer is left alone (keepalived)") {
    VrrpStateMachine m(config(100));
    m.onStartup(clock.now());
    CHECK(m.onPriority(50, clock.now()).empty());
    CHECK(m.masterDownInterval() == 3s + Duration(1s) * 206 / 256);
  }
  SECTION("BACKUP rising above the master with preempt: takes over") {
    VrrpStateMachine m(config(100));
    m.onStartup(clock.now());
    m.onAdvert(advert(150), clock.now());
    clock.advance(500ms);
    m.onPriority(200, clock.now());
    clock.advance(500ms);
    CHECK(m.onAdvert(advert(150), clock.now()).empty());  // now lower than us: ignored
    clock.advance(1s);
    CHECK(m.onAdvert(advert(150), clock.now()).empty());
    clock.advance(m.masterDownInterval() - 2s);  // since the last accepted advert
    CHECK(describe(m.onTimer(TimerKind::master_down, clock.now())) ==
          masterEntry(200, "BACKUP", "higher priority 200 than master 150 (preempt)"));
  }
  SECTION("BACKUP rising above the master with nopreempt: stays BACKUP") {
    MachineConfig c = config(100);
    c.preempt = false;
    VrrpStateMachine m(c);
    m.onStartup(clock.now());
    m.onAdvert(advert(150), clock.now());
    m.onPriority(200, clock.now());
    clock.advance(1s);
    CHECK(describe(m.onAdvert(advert(150), clock.now())) ==
          Lines{"ArmTimer(master_down, 3.21875s)"});
  }
}

TEST_CASE("vrrp machine: nopreempt and state MASTER (keepalived resets)", "[vrrp_state_machine]") {
  FakeClock clock;
  SECTION("state MASTER clears nopreempt: it preempts") {
    MachineConfig c = config(150);
    c.preempt = false;
    c.initial_master = true;
    VrrpStateMachine m(c);
    m.onStartup(clock.now());
    CHECK(m.onAdvert(advert(100), clock.now()).empty());
  }
  SECTION("the owner cannot be nopreempt") {
    MachineConfig c = config(255);
    c.preempt = false;
    VrrpStateMachine m(c);
    CHECK(m.onStartup(clock.now()).size() == 6);
    CHECK(m.state() == State::master);
  }
  SECTION("nopreempt: a recovered higher node never takes over from a live master") {
    MachineConfig c = config(254);
    c.preempt = false;
    VrrpStateMachine m(c);
    m.onStartup(clock.now());
    for (int i = 0; i < 50; ++i) {
      clock.advance(1s);
      CHECK(describe(m.onAdvert(advert(1), clock.now())) ==
            Lines{"ArmTimer(master_down, 3.0078125s)"});
    }
    // Only its silence (or priority 0) lets the backup in.
    CHECK(describe(m.onAdvert(advert(0), clock.now())) ==
          Lines{"ArmTimer(master_down, 0.0078125s)"});
  }
}

TEST_CASE("vrrp machine: FAULT", "[vrrp_state_machine]") {
  SECTION("MASTER -> FAULT: priority 0, VIPs removed, timers cancelled") {
    MasterFixture f(config(100));
    CHECK(describe(f.m.onFault(true, "track script check_proxyd failed", f.clock.now())) ==
          concat(concat({"SendAdvert(0)"}, kLeaveMaster),
                 {"Transition(MASTER -> FAULT: track script check_proxyd failed)"}));
    CHECK(f.m.state() == State::fault);
    CHECK(f.m.onFault(true, "again", f.clock.now()).empty());
    // Adverts and stale timers are ignored while FAULT.
    CHECK(f.m.onAdvert(advert(50), f.clock.now()).empty());
    CHECK(f.m.onAdvert(advert(0), f.clock.now()).empty());
    CHECK(f.m.onTimer(TimerKind::advert, f.clock.now()).empty());
    CHECK(f.m.onTimer(TimerKind::master_down, f.clock.now()).empty());
    f.clock.advance(10s);
    CHECK(describe(f.m.onFault(false, "track script check_proxyd ok", f.clock.now())) ==
          Lines{"ArmTimer(master_down, 3.609375s)",
                "Transition(FAULT -> BACKUP: track script check_proxyd ok)"});
    CHECK(f.m.state() == State::backup);
    CHECK(f.m.onFault(false, "again", f.clock.now()).empty());
  }
  SECTION("BACKUP -> FAULT -> BACKUP") {
    FakeClock clock;
    VrrpStateMachine m(config(100));
    m.onStartup(clock.now());
    CHECK(describe(m.onFault(true, "interface eth0 is down", clock.now())) ==
          Lines{"CancelTimer(master_down)", "Transition(BACKUP -> FAULT: interface eth0 is down)"});
    CHECK(describe(m.onFault(false, "interface eth0 is up", clock.now())) ==
          Lines{"ArmTimer(master_down, 3.609375s)",
                "Transition(FAULT -> BACKUP: interface eth0 is up)"});
  }
  SECTION("v3: leaving FAULT forgets the learned interval") {
    FakeClock clock;
    MachineConfig c = config(100);
    c.version = 3;
    VrrpStateMachine m(c);
    m.onStartup(clock.now());
    m.onAdvert(advert(200, "192.0.2.12", 300ms), clock.now());
    m.onFault(true, "down", clock.now());
    m.onFault(false, "up", clock.now());
    CHECK(m.masterAdverInterval() == 1s);
  }
  SECTION("the owner leaves FAULT as MASTER") {
    FakeClock clock;
    VrrpStateMachine m(config(255));
    m.onStartup(clock.now());
    m.onFault(true, "interface eth0 is down", clock.now());
    CHECK(describe(m.onFault(false, "interface eth0 is up", clock.now())) ==
          masterEntry(255, "FAULT", "interface eth0 is up; priority 255 (address owner)"));
  }
}

TEST_CASE("vrrp machine: a VIP deleted while MASTER", "[vrrp_state_machine]") {
  MasterFixture f(config(100));
  CHECK(describe(f.m.onVipsLost(f.clock.now())) ==
        concat(kLeaveMaster, {"ArmTimer(master_down, 3.609375s)",
                              "Transition(MASTER -> BACKUP: a virtual IP was deleted by someone "
                              "else)"}));
  CHECK(f.m.state() == State::backup);
  CHECK(f.m.onVipsLost(f.clock.now()).empty());
  // Re-election: nobody else speaks, so it takes the VIPs back.
  f.clock.advance(3609375us);
  CHECK(describe(f.m.onTimer(TimerKind::master_down, f.clock.now())) ==
        masterEntry(100, "BACKUP", "master down timer, 3.61 s without advert"));
}

TEST_CASE("vrrp machine: shutdown", "[vrrp_state_machine]") {
  SECTION("MASTER: priority 0 and VIPs removed") {
    MasterFixture f(config(100));
    CHECK(
        describe(f.m.onShutdown(f.clock.now())) ==
        concat(concat({"SendAdvert(0)"}, kLeaveMaster), {"Transition(MASTER -> INIT: stopping)"}));
    CHECK(f.m.state() == State::init);
    CHECK(f.m.onShutdown(f.clock.now()).empty());
    CHECK(f.m.onTimer(TimerKind::advert, f.clock.now()).empty());
  }
  SECTION("BACKUP") {
    FakeClock clock;
    VrrpStateMachine m(config(100));
    m.onStartup(clock.now());
    CHECK(describe(m.onShutdown(clock.now())) ==
          Lines{"CancelTimer(master_down)", "Transition(BACKUP -> INIT: stopping)"});
    // A restart after a stop starts over.
    CHECK(describe(m.onStartup(clock.now())) ==
          Lines{"ArmTimer(master_down, 3.609375s)", "Transition(INIT -> BACKUP: start)"});
  }
  SECTION("FAULT") {
    FakeClock clock;
    VrrpStateMachine m(config(100));
    m.onStartup(clock.now());
    m.onFault(true, "down", clock.now());
    CHECK(describe(m.onShutdown(clock.now())) == Lines{"Transition(FAULT -> INIT: stopping)"});
  }
  SECTION("INIT: nothing") {
    FakeClock clock;
    VrrpStateMachine m(config(100));
    CHECK(m.onShutdown(clock.now()).empty());
  }
}

TEST_CASE("vrrp machine: stale timers are ignored", "[vrrp_state_machine]") {
  FakeClock clock;
  VrrpStateMachine m(config(100));
  CHECK(m.onTimer(TimerKind::master_down, clock.now()).empty());  // INIT
  m.onStartup(clock.now());
  CHECK(m.onTimer(TimerKind::advert, clock.now()).empty());
  CHECK(m.onTimer(TimerKind::garp_repeat, clock.now()).empty());
  CHECK(m.onTimer(TimerKind::garp_refresh, clock.now()).empty());
  clock.advance(m.masterDownInterval());
  m.onTimer(TimerKind::master_down, clock.now());
  REQUIRE(m.state() == State::master);
  CHECK(m.onTimer(TimerKind::master_down, clock.now()).empty());
  CHECK(m.onTimer(TimerKind::garp_refresh, clock.now()).empty());  // refresh is off
  CHECK(std::string(vrrpd::stateName(State::fault)) == "FAULT");
}
