// VrrpInstance with fakes behind its seams (STYLE.md): a wire that records
// the adverts and GARPs it is given, a VIP set, a table of links, and timers
// on a FakeClock. Each case drives the instance through what the daemon
// hands it (start, TERM, HUP, link changes, sync group, deleted VIPs) and
// checks what came out, with RFC 5798 timings (priority 100, advert_int 1:
// Master_Down_Interval 3 + 156/256 s).
#include "vrrpd/io/instance.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/support/fake_timers.h"
#include "tests/unit/support/temp_dir.h"

using namespace std::chrono_literals;
using common::IpAddress;
using vrrpd::State;
using vrrpd::VrrpInstance;

namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

constexpr int kEth0 = 2, kEth1 = 3, kEth2 = 4;
const common::Duration kMasterDown = 3s + common::Duration(1s) * 156 / 256;

struct Advert {
  common::TimePoint at;
  IpAddress dst;
  int priority;
};
struct Announced {
  common::TimePoint at;
  IpAddress vip;
};

// What went out on the link.
struct Wire {
  std::vector<Advert> adverts;
  std::vector<Announced> announced;
};

class FakePacketIo final : public vrrpd::PacketIo {
 public:
  FakePacketIo(Wire& wire, const common::Clock& clock, bool can_announce)
      : wire_(wire), clock_(clock), can_announce_(can_announce) {}
  common::Result<void> sendAdvert(std::span<const std::uint8_t> msg, const IpAddress& src,
                                  const IpAddress& dst) override {
    auto d = vrrpd::decodeAdvert(msg, src, dst);
    if (!d.ok()) return common::Result<void>::fail("not an advert: " + d.drop.detail);
    wire_.adverts.push_back({clock_.now(), dst, d.advert->priority});
    return {};
  }
  bool canAnnounce() const override { return can_announce_; }
  common::Result<void> announce(const IpAddress& vip) override {
    wire_.announced.push_back({clock_.now(), vip});
    return {};
  }

 private:
  Wire& wire_;
  const common::Clock& clock_;
  bool can_announce_;
};

class FakeVips final : public vrrpd::VipManager {
 public:
  common::Result<void> add(const vrrpd::Vip& v, int ifindex) override {
    ++adds;
    held.insert({v.addr.toString(), ifindex});
    return {};
  }
  common::Result<void> remove(const vrrpd::Vip& v, int ifindex) override {
    ++removes;
    held.erase({v.addr.toString(), ifindex});
    return {};
  }
  bool present(const vrrpd::Vip& v, int ifindex) override {
    return held.count({v.addr.toString(), ifindex}) > 0;
  }
  std::set<std::pair<std::string, int>> held;
  int adds = 0, removes = 0;
};

class FakeLinks final : public vrrpd::LinkTable {
 public:
  int index(const std::string& name) const override {
    auto it = names.find(name);
    return it == names.end() ? 0 : it->second;
  }
  bool up(int ifindex) const override { return !down.count(ifindex); }
  std::map<std::string, int> names{{"eth0", kEth0}, {"eth1", kEth1}, {"eth2", kEth2}};
  std::set<int> down;
};

vrrpd::InstanceSection section() {
  vrrpd::InstanceSection s;
  s.name = "VI_1";
  s.interface = "eth0";
  s.vrid = 51;
  s.priority = 100;
  for (const char* v : {"192.0.2.100", "203.0.113.100"}) {
    vrrpd::Vip vip;
    vip.addr = ip(v);
    vip.prefix = 24;
    s.vips.push_back(vip);
  }
  return s;
}

struct Rig {
  common::FakeClock clock;
  test_support::FakeTimers timers{clock};
  FakeVips vips;
  FakeLinks links;
  Wire wire;
  test_support::TempDir dir{"instance_test"};
  common::Log log{common::LogLevel::debug};
  std::vector<std::string> notified;     // NotifyEvent states, in order
  std::vector<std::string> transitions;  // "BACKUP -> MASTER"
  int fault_changes = 0;
  int changes = 0;

  Rig() { REQUIRE(log.openFile(dir.at("vrrpd.log"))); }

  std::unique_ptr<VrrpInstance> make(vrrpd::InstanceSection cfg = section(),
                                     vrrpd::InstanceGlobals globals = {},
                                     bool can_announce = true) {
    vrrpd::InterfaceInfo ifc;
    ifc.name = "eth0";
    ifc.index = kEth0;
    ifc.up = true;
    ifc.primary_v4 = ip("192.0.2.11");
    vrrpd::InstanceEnv env;
    env.log = &log;
    env.clock = &clock;
    env.timers = &timers;
    env.vips = &vips;
    env.links = &links;
    env.notify = [this](const std::string&, vrrpd::NotifyEvent ev) {
      notified.push_back(ev.state);
    };
    env.changed = [this] { ++changes; };
    env.transitioned = [this](VrrpInstance&, State from, State to) {
      transitions.push_back(std::string(vrrpd::stateName(from)) + " -> " + vrrpd::stateName(to));
    };
    env.fault_changed = [this] { ++fault_changes; };
    return std::make_unique<VrrpInstance>(std::move(cfg), globals, ifc,
                                          std::make_unique<FakePacketIo>(wire, clock, can_announce),
                                          std::move(env));
  }

  // Started, and MASTER after its Master_Down_Interval of silence.
  std::unique_ptr<VrrpInstance> master(vrrpd::InstanceSection cfg = section(),
                                       vrrpd::InstanceGlobals globals = {}) {
    auto inst = make(std::move(cfg), globals);
    inst->start();
    timers.advance(kMasterDown + 1ms);
    REQUIRE(inst->state() == State::master);
    return inst;
  }

  bool holds(const char* vip, int ifindex = kEth0) const {
    return vips.held.count({vip, ifindex}) > 0;
  }
  std::string logText() const { return test_support::slurp(dir.at("vrrpd.log")); }
  int lastPriority() const { return wire.adverts.empty() ? -1 : wire.adverts.back().priority; }
};

}  // namespace

TEST_CASE("instance: start removes stale VIPs, BACKUP, MASTER after the down interval",
          "[instance]") {
  Rig rig;
  rig.vips.held.insert({"192.0.2.100", kEth0});  // left by a killed predecessor
  auto inst = rig.make();
  inst->start();
  CHECK_FALSE(rig.holds("192.0.2.100"));
  CHECK_THAT(rig.logText(), Catch::Contains("VI_1: removing stale VIP 192.0.2.100/24"));
  CHECK(inst->state() == State::backup);
  CHECK(rig.notified == std::vector<std::string>{"BACKUP"});
  CHECK(rig.wire.adverts.empty());

  rig.timers.advance(kMasterDown - 10ms);
  CHECK(inst->state() == State::backup);
  rig.timers.advance(20ms);
  const common::TimePoint took_over = rig.clock.now() - 10ms;
  CHECK(inst->state() == State::master);
  CHECK(rig.transitions == std::vector<std::string>{"INIT -> BACKUP", "BACKUP -> MASTER"});
  CHECK(rig.notified == std::vector<std::string>{"BACKUP", "MASTER"});
  CHECK(rig.holds("192.0.2.100"));
  CHECK(rig.holds("203.0.113.100"));
  REQUIRE(rig.wire.adverts.size() == 1);
  CHECK(rig.wire.adverts[0].dst == ip("224.0.0.18"));
  CHECK(rig.wire.adverts[0].priority == 100);
  CHECK(rig.wire.adverts[0].at == took_over);
  // garp_master_repeat 5 for each VIP, all at once (vrrp_garp_interval 0).
  CHECK(rig.wire.announced.size() == 10);
  CHECK(rig.wire.announced.back().at == took_over);
  CHECK(inst->lastTransition() == "BACKUP -> MASTER (master down timer, 3.61 s without advert)");

  // One advert per advert_int; the second burst garp_master_delay (5 s)
  // after the first.
  rig.timers.advance(5s);
  CHECK(rig.wire.adverts.size() == 6);
  CHECK(rig.wire.announced.size() == 20);
  CHECK(rig.wire.announced.back().at == took_over + 5s);
}

TEST_CASE("instance: TERM sends priority 0, removes the VIPs and stops its timers", "[instance]") {
  Rig rig;
  auto inst = rig.master();
  inst->stop();
  CHECK(rig.lastPriority() == 0);
  CHECK(rig.vips.held.empty());
  CHECK(inst->state() == State::init);
  CHECK(rig.notified.back() == "STOP");
  const auto sent = rig.wire.adverts.size();
  const auto announced = rig.wire.announced.size();
  rig.timers.advance(30s);
  CHECK(rig.wire.adverts.size() == sent);
  CHECK(rig.wire.announced.size() == announced);
  CHECK(rig.timers.pending() == 0);
}

TEST_CASE("instance: TERM of a BACKUP sends nothing but still removes the VIPs", "[instance]") {
  Rig rig;
  auto inst = rig.make();
  inst->start();
  rig.vips.held.insert({"203.0.113.100", kEth0});  // added by hand meanwhile
  inst->stop();
  CHECK(rig.wire.adverts.empty());
  CHECK(rig.vips.held.empty());
  CHECK(rig.notified == std::vector<std::string>{"BACKUP", "STOP"});
}

TEST_CASE("instance: HUP with the instance kept: a MASTER adverts at once, no VIP flap",
          "[instance]") {
  Rig rig;
  auto inst = rig.master();
  rig.timers.advance(300ms);
  const auto sent = rig.wire.adverts.size();
  const int adds = rig.vips.adds, removes = rig.vips.removes;
  inst->reloaded();
  REQUIRE(rig.wire.adverts.size() == sent + 1);
  CHECK(rig.wire.adverts.back().at == rig.clock.now());
  CHECK(rig.wire.adverts.back().priority == 100);
  CHECK(rig.vips.adds == adds);
  CHECK(rig.vips.removes == removes);
  CHECK(inst->state() == State::master);
  CHECK(rig.transitions.size() == 2);

  auto backup = rig.make(section());
  backup->start();
  const auto before = rig.wire.adverts.size();
  backup->reloaded();
  CHECK(rig.wire.adverts.size() == before);
}

TEST_CASE("instance: HUP with the instance changed: the old one resigns, the new one elects",
          "[instance]") {
  Rig rig;
  auto old = rig.master();
  old->stop();
  CHECK(rig.lastPriority() == 0);
  CHECK(rig.vips.held.empty());
  old.reset();

  auto changed = section();
  changed.priority = 150;
  auto inst = rig.make(changed);
  inst->start();
  CHECK(inst->state() == State::backup);
  CHECK(rig.vips.held.empty());
  // priority 150: Skew_Time 106/256 s.
  rig.timers.advance(3s + common::Duration(1s) * 106 / 256 + 1ms);
  CHECK(inst->state() == State::master);
  CHECK(rig.lastPriority() == 150);
  CHECK(rig.holds("192.0.2.100"));
}

TEST_CASE("instance: a weighted tracked interface moves the priority", "[instance]") {
  Rig rig;
  auto cfg = section();
  cfg.track_interfaces.push_back({"eth1", -20, 0});
  cfg.track_interfaces.push_back({"eth2", 30, 0});
  rig.links.down.insert(kEth2);
  auto inst = rig.master(cfg);
  CHECK(inst->priority() == 100);

  inst->linkChanged(kEth1, false);
  CHECK(inst->priority() == 80);
  CHECK_THAT(rig.logText(), Catch::Contains("VI_1: effective priority 100 -> 80"));
  rig.timers.advance(1s);
  CHECK(rig.lastPriority() == 80);

  inst->linkChanged(kEth2, true);
  CHECK(inst->priority() == 110);
  inst->linkChanged(kEth1, true);
  CHECK(inst->priority() == 130);
  inst->linkChanged(99, false);  // not tracked
  CHECK(inst->priority() == 130);
  CHECK(inst->state() == State::master);
  CHECK_FALSE(inst->ownFault());
}

TEST_CASE("instance: the priority stays within 1..254, an owner's at 255", "[instance]") {
  Rig rig;
  auto cfg = section();
  cfg.track_interfaces.push_back({"eth1", 253, 0});
  auto inst = rig.master(cfg);
  CHECK(inst->priority() == 254);

  Rig owner_rig;
  auto owner = section();
  owner.priority = 255;
  owner.track_interfaces.push_back({"eth1", -100, 0});
  auto o = owner_rig.make(owner);
  o->start();
  CHECK(o->state() == State::master);  // the address owner takes over at once
  o->linkChanged(kEth1, false);
  CHECK(o->priority() == 255);
}

TEST_CASE("instance: a weight-0 tracked interface down is FAULT, up again BACKUP", "[instance]") {
  Rig rig;
  auto cfg = section();
  cfg.track_interfaces.push_back({"eth2", 0, 0});
  auto inst = rig.master(cfg);
  CHECK(rig.fault_changes == 0);

  inst->linkChanged(kEth2, false);
  CHECK(inst->state() == State::fault);
  CHECK(inst->ownFault());
  CHECK(rig.fault_changes == 1);
  CHECK(rig.lastPriority() == 0);  // resigns so a backup takes over at once
  CHECK(rig.vips.held.empty());
  CHECK(rig.notified.back() == "FAULT");
  CHECK(inst->lastTransition() == "MASTER -> FAULT (tracked interface eth2 is down)");

  inst->linkChanged(kEth2, true);
  CHECK(inst->state() == State::backup);
  CHECK_FALSE(inst->ownFault());
  CHECK(rig.fault_changes == 2);
  CHECK(inst->lastTransition() ==
        "FAULT -> BACKUP (fault cleared (was: tracked interface eth2 is down))");
}

TEST_CASE("instance: starts in FAULT when a tracked interface is down at start", "[instance]") {
  Rig rig;
  auto cfg = section();
  cfg.track_interfaces.push_back({"eth2", 0, 0});
  rig.links.down.insert(kEth2);
  auto inst = rig.make(cfg);
  inst->start();
  CHECK(inst->state() == State::fault);
  CHECK(rig.transitions == std::vector<std::string>{"INIT -> FAULT"});
  rig.timers.advance(10s);
  CHECK(inst->state() == State::fault);
  CHECK(rig.wire.adverts.empty());
}

TEST_CASE("instance: its sync group's FAULT faults it; cleared, it is BACKUP again", "[instance]") {
  Rig rig;
  auto inst = rig.master();
  inst->setGroupFault("sync group G: VI_2 is FAULT");
  CHECK(inst->state() == State::fault);
  CHECK_FALSE(inst->ownFault());  // not its own: it does not fault the group back
  CHECK(rig.fault_changes == 0);
  CHECK(rig.vips.held.empty());
  CHECK(inst->lastTransition() == "MASTER -> FAULT (sync group G: VI_2 is FAULT)");
  inst->setGroupFault("");
  CHECK(inst->state() == State::backup);
  rig.timers.advance(kMasterDown + 1ms);
  CHECK(inst->state() == State::master);
}

TEST_CASE("instance: vrrp_garp_interval paces the burst, one GARP per interval", "[instance]") {
  Rig rig;
  vrrpd::InstanceGlobals g;
  g.announce_interval = 100ms;
  auto cfg = section();
  cfg.garp_master_repeat = 2;
  auto inst = rig.make(cfg, g);
  inst->start();
  rig.timers.advance(kMasterDown);
  const common::TimePoint t0 = rig.clock.now();
  REQUIRE(inst->state() == State::master);
  REQUIRE(rig.wire.announced.size() == 1);
  rig.timers.advance(1s);
  REQUIRE(rig.wire.announced.size() == 4);
  const std::vector<IpAddress> order = {ip("192.0.2.100"), ip("203.0.113.100"), ip("192.0.2.100"),
                                        ip("203.0.113.100")};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(rig.wire.announced[i].vip == order[i]);
    CHECK(rig.wire.announced[i].at == t0 + 100ms * static_cast<int>(i));
  }
}

TEST_CASE("instance: a burst ends when the instance leaves MASTER", "[instance]") {
  Rig rig;
  vrrpd::InstanceGlobals g;
  g.announce_interval = 100ms;
  auto inst = rig.make(section(), g);
  inst->start();
  rig.timers.advance(kMasterDown + 150ms);  // two of the ten sent
  REQUIRE(rig.wire.announced.size() == 2);
  inst->setGroupFault("sync group G: VI_2 is FAULT");
  rig.timers.advance(2s);
  CHECK(rig.wire.announced.size() == 2);
}

TEST_CASE("instance: without an announcer a MASTER still holds its VIPs", "[instance]") {
  Rig rig;
  auto inst = rig.make(section(), {}, false);
  inst->start();
  rig.timers.advance(kMasterDown + 6s);
  CHECK(inst->state() == State::master);
  CHECK(rig.holds("192.0.2.100"));
  CHECK(rig.wire.announced.empty());
}

TEST_CASE("instance: a VIP deleted from outside sends a MASTER to BACKUP", "[instance]") {
  Rig rig;
  auto inst = rig.master();
  inst->addressDeleted(ip("192.0.2.100"), kEth1);  // another interface: not ours
  inst->addressDeleted(ip("192.0.2.99"), kEth0);   // not a VIP
  CHECK(inst->state() == State::master);

  rig.vips.held.erase({"192.0.2.100", kEth0});
  inst->addressDeleted(ip("192.0.2.100"), kEth0);
  CHECK(inst->state() == State::backup);
  CHECK_THAT(rig.logText(),
             Catch::Contains("VI_1: VIP 192.0.2.100/24 was deleted from eth0 by someone else"));
  CHECK(inst->lastTransition() == "MASTER -> BACKUP (a virtual IP was deleted by someone else)");
  CHECK(rig.vips.held.empty());
  // Nobody else adverts: it wins the election again and puts them back.
  rig.timers.advance(kMasterDown + 1ms);
  CHECK(inst->state() == State::master);
  CHECK(rig.holds("192.0.2.100"));
  CHECK(rig.holds("203.0.113.100"));
}

TEST_CASE("instance: an advert from a higher priority master makes it BACKUP", "[instance]") {
  Rig rig;
  auto inst = rig.master();
  vrrpd::Advert a;
  a.version = 2;
  a.vrid = 51;
  a.priority = 200;
  a.interval_cs = 100;
  a.addrs = {ip("192.0.2.100"), ip("203.0.113.100")};
  inst->receive(a, ip("192.0.2.12"), 255);
  CHECK(inst->state() == State::backup);
  CHECK(inst->masterAddress() == ip("192.0.2.12"));
  CHECK(inst->counters().adverts_received == 1);
  // TTL 64 on multicast: dropped and counted (RFC 5798 7.1).
  inst->receive(a, ip("192.0.2.12"), 64);
  CHECK(inst->counters().adverts_received == 1);
  CHECK(inst->counters().dropped[static_cast<size_t>(vrrpd::DropReason::bad_ttl)] == 1);
}
