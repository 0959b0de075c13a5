#include "vrrpd/core/config.h"
#include "tests/unit/support/diagnostics.h"

#include <net/if.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

using vrrpd::AuthType;
using vrrpd::parseVrrpConfig;
using namespace std::chrono_literals;

namespace {

const std::string kPath = "/etc/vrrpd/vrrpd.ini";

struct Loaded {
  vrrpd::VrrpConfig cfg;
  common::Diagnostics diag;
  std::vector<std::string> lines() const { return test_support::diagnosticLines(diag); }
  std::string text() const { return test_support::diagnosticText(diag); }
};

Loaded load(const std::string& text) {
  Loaded l;
  l.cfg = parseVrrpConfig(text, kPath, l.diag);
  return l;
}

std::string at(int line, const std::string& sev, const std::string& msg) {
  return kPath + ":" + std::to_string(line) + ": " + sev + ": " + msg;
}
std::string err(int line, const std::string& msg) {
  return at(line, "error", msg);
}
std::string warn(int line, const std::string& msg) {
  return at(line, "warning", msg);
}

bool hostHasInterface(const char* name) {
  return ::if_nametoindex(name) != 0;
}
bool hostHasUser(const char* name) {
  return ::getpwnam(name) != nullptr;
}

// Host-dependent warnings (DESIGN.md: warnings under -t), expected only when
// the host really lacks the thing.
void expectMissingInterface(std::vector<std::string>& v, int line, const char* name) {
  if (!hostHasInterface(name)) {
    v.push_back(warn(
        line, std::string("interface: interface \"") + name + "\" does not exist on this host"));
  }
}
void expectNoScriptUser(std::vector<std::string>& v, int line) {
  if (!hostHasUser("vrrpd_script")) {
    v.push_back(warn(line,
                     "no script_user is set and user \"vrrpd_script\" does not exist on this host: "
                     "scripts will not run (they count as failing); create the user, or say "
                     "script_user = root in [global] to run them as root"));
  }
}

const std::string kTrapWarning =
    "track_script check_nginx: weight -2 can never move the VIP with nopreempt (a BACKUP with "
    "nopreempt never takes over from a live MASTER, whatever the priorities); use weight 0 so "
    "that a failing script puts this node in FAULT and the VIP moves";
const std::string kAuthWarning =
    "auth_pass: truncated to 8 bytes: K8SHA_KA (VRRP carries 8 bytes; keepalived truncates it "
    "the same way)";
const std::string kSeedScriptWarning =
    "script: \"/usr/local/keepalived/conf/check_nginx.sh\" does not exist on this host";

// The seed's keepalived.conf for master1, key for key (line numbers matter).
std::string seedNode(const std::string& state, int priority, const std::string& src) {
  return "[global]\n"                                            // 1
         "router_id = LVS_DEVEL\n"                               // 2
         "vrrp_skip_check_adv_addr = yes\n"                      // 3
         "vrrp_garp_interval = 0\n"                              // 4
         "vrrp_gna_interval = 0\n"                               // 5
         "\n"                                                    // 6
         "[vrrp_script check_nginx]\n"                           // 7
         "script = /usr/local/keepalived/conf/check_nginx.sh\n"  // 8
         "interval = 2\n"                                        // 9
         "weight = -2\n"                                         // 10
         "\n"                                                    // 11
         "[vrrp_instance VI_1]\n"                                // 12
         "state = " +
         state +
         "\n"                                                // 13
         "interface = eno1              ; the host's NIC\n"  // 14
         "mcast_src_ip = " +
         src +
         "\n"                        // 15
         "virtual_router_id = 51\n"  // 16
         "priority = " +
         std::to_string(priority) +
         "\n"                                                     // 17
         "advert_int = 2\n"                                       // 18
         "nopreempt = yes               ; the seed's key line\n"  // 19
         "auth_type = PASS\n"                                     // 20
         "auth_pass = K8SHA_KA_AUTH\n"                            // 21
         "virtual_ipaddress = 192.0.2.100/24\n"                   // 22
         "virtual_ipaddress = 203.0.113.100/24\n"                 // 23
         "track_script = check_nginx\n";                          // 24
}

// A small valid instance on loopback, for the error tests. Line 1 is the
// [global] header.
const std::string kGlobal =
    "[global]\n"              // 1
    "script_user = nobody\n"  // 2: exists on Debian; not root (a warning)
    "\n";                     // 3

}  // namespace

TEST_CASE("seed master1: state MASTER + nopreempt + weight -2 -> keepalived's warnings") {
  auto l = load(seedNode("MASTER", 100, "192.0.2.11"));
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());

  std::vector<std::string> expected;
  expected.push_back(warn(8, kSeedScriptWarning));
  expectNoScriptUser(expected, 8);
  expectMissingInterface(expected, 14, "eno1");
  expected.push_back(warn(15, "mcast_src_ip: 192.0.2.11 is not configured on this host"));
  expected.push_back(
      warn(19,
           "nopreempt: has no effect with \"state = MASTER\" and is cleared (as keepalived does): "
           "this node takes the VIP back whenever it returns with the highest priority; for "
           "nopreempt to work, set \"state = BACKUP\" on every node"));
  expected.push_back(warn(21, kAuthWarning));
  expected.push_back(warn(24, kTrapWarning));
  CHECK(l.lines() == expected);

  const auto& g = l.cfg.global;
  CHECK(g.router_id == "LVS_DEVEL");
  CHECK(g.skip_check_adv_addr);
  CHECK(g.vrrp_version == 2);
  CHECK(g.garp_interval == 0ms);

  REQUIRE(l.cfg.scripts.size() == 1);
  const auto* sc = l.cfg.findScript("check_nginx");
  REQUIRE(sc != nullptr);
  CHECK(sc->script == "/usr/local/keepalived/conf/check_nginx.sh");
  CHECK(sc->interval == 2s);
  CHECK_FALSE(sc->timeout.has_value());  // = interval
  CHECK(sc->weight == -2);
  CHECK_FALSE(sc->reverse);
  CHECK(sc->fall == 1);
  CHECK(sc->rise == 1);
  CHECK(sc->line == 7);

  const auto* in = l.cfg.findInstance("VI_1");
  REQUIRE(in != nullptr);
  CHECK(in->initial_master);
  CHECK(in->preempt);  // nopreempt cleared, as keepalived does
  CHECK(in->interface == "eno1");
  CHECK(in->vrid == 51);
  CHECK(in->priority == 100);
  CHECK(in->advert_interval == 2s);
  CHECK(in->effectiveVersion(g.vrrp_version) == 2);
  CHECK(in->auth_type == AuthType::pass);
  CHECK(in->auth_pass == "K8SHA_KA");
  REQUIRE(in->mcast_src_ip.has_value());
  CHECK(in->mcast_src_ip->toString() == "192.0.2.11");
  CHECK_FALSE(in->unicast());
  REQUIRE(in->vips.size() == 2);
  CHECK(in->vips[0].addr.toString() == "192.0.2.100");
  CHECK(in->vips[0].prefixLength() == 24);
  CHECK(in->vips[0].line == 22);
  CHECK(in->vips[1].addr.toString() == "203.0.113.100");
  REQUIRE(in->track_scripts.size() == 1);
  CHECK(in->track_scripts[0].name == "check_nginx");
  CHECK_FALSE(in->track_scripts[0].weight.has_value());
  CHECK(in->track_scripts[0].line == 24);
  // keepalived's GARP defaults: 5 at once, 5 more after 5 s, no refresh.
  CHECK(in->garp_master_delay == 5s);
  CHECK(in->garp_master_repeat == 5);
  CHECK(in->garp_master_refresh == 0ms);
  CHECK(in->garp_master_refresh_repeat == 1);
  CHECK(l.cfg.findInstance("VI_2") == nullptr);
  CHECK(l.cfg.findScript("nope") == nullptr);
}

TEST_CASE("seed master2 and master3: BACKUP + nopreempt, weight -2 can never move the VIP") {
  for (auto [priority, src] : {std::pair{80, "192.0.2.12"}, std::pair{60, "192.0.2.13"}}) {
    auto l = load(seedNode("BACKUP", priority, src));
    INFO(l.text());
    REQUIRE_FALSE(l.diag.hasErrors());
    std::vector<std::string> expected;
    expected.push_back(warn(8, kSeedScriptWarning));
    expectNoScriptUser(expected, 8);
    expectMissingInterface(expected, 14, "eno1");
    expected.push_back(
        warn(15, std::string("mcast_src_ip: ") + src + " is not configured on this host"));
    expected.push_back(warn(21, kAuthWarning));
    expected.push_back(warn(24, kTrapWarning));
    CHECK(l.lines() == expected);
    const auto& in = l.cfg.instances.at(0);
    CHECK_FALSE(in.initial_master);
    CHECK_FALSE(in.preempt);
    CHECK(in.priority == priority);
  }
}

TEST_CASE("DESIGN.md's vrrpd.ini loads without errors") {
  const std::string text = R"(; vrrpd.ini
[global]
router_id = master1
run_dir = /run/vrrpd             ; pid file, state file (state.json), control socket
script_user = vrrpd_script       ; as keepalived: else vrrpd_script if it exists, else root with a warning

[vrrp_script check_proxyd]
script = /usr/libexec/vrrpd/check_proxyd.sh
interval = 2
timeout = 2
weight = 0                       ; a failing proxyd puts this node in FAULT: it gives the VIP up
fall = 2                         ; even though every node has nopreempt (see below)
rise = 2

[vrrp_instance VI_1]
state = BACKUP                   ; every node BACKUP: nopreempt only works that way
interface = eno1
virtual_router_id = 51
priority = 100
advert_int = 2
nopreempt = yes
mcast_src_ip = 192.0.2.11
auth_type = PASS
auth_pass = K8SHA_KA_AUTH
virtual_ipaddress = 192.0.2.100/24
virtual_ipaddress = 203.0.113.100/24
track_script = check_proxyd
; unicast_src_ip = 192.0.2.11
; unicast_peer = 192.0.2.12
; unicast_peer = 192.0.2.13
)";
  auto l = load(text);
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  std::vector<std::string> expected;
  if (!hostHasUser("vrrpd_script")) {
    expected.push_back(warn(5,
                            "script_user: user \"vrrpd_script\" does not exist on this host: "
                            "scripts that run as it will not run"));
  }
  if (::access("/usr/libexec/vrrpd/check_proxyd.sh", X_OK) != 0) {
    expected.push_back(
        warn(8, "script: \"/usr/libexec/vrrpd/check_proxyd.sh\" does not exist on this host"));
  }
  expectMissingInterface(expected, 17, "eno1");
  expected.push_back(warn(22, "mcast_src_ip: 192.0.2.11 is not configured on this host"));
  expected.push_back(warn(24, kAuthWarning));
  // weight 0 with nopreempt: no trap warning.
  CHECK(l.lines() == expected);

  CHECK(l.cfg.global.router_id == "master1");
  CHECK(l.cfg.global.run_dir == "/run/vrrpd");
  CHECK(l.cfg.global.script_user == "vrrpd_script");
  const auto& sc = l.cfg.scripts.at(0);
  CHECK(sc.timeout == std::optional<std::chrono::milliseconds>(2s));
  CHECK(sc.weight == 0);
  CHECK(sc.fall == 2);
  CHECK(sc.rise == 2);
  const auto& in = l.cfg.instances.at(0);
  CHECK_FALSE(in.preempt);
  CHECK_FALSE(in.initial_master);
  CHECK(in.vips.size() == 2);
}

TEST_CASE("defaults follow keepalived") {
  auto l = load(kGlobal +
                "[vrrp_script chk]\n"
                "script = /bin/true\n"
                "[vrrp_instance VI_1]\n"
                "interface = lo\n"
                "virtual_router_id = 7\n"
                "virtual_ipaddress = 192.0.2.100\n"
                "track_script = chk weight=5\n"
                "track_interface = lo weight=-10\n");
  INFO(l.text());
  CHECK(l.lines().empty());
  const auto& g = l.cfg.global;
  CHECK(g.vrrp_version == 2);
  CHECK(g.run_dir == "/run/vrrpd");
  CHECK_FALSE(g.router_id.empty());  // the host name
  const auto& sc = l.cfg.scripts.at(0);
  CHECK(sc.interval == 1s);
  CHECK_FALSE(sc.timeout.has_value());
  CHECK(sc.weight == 0);
  CHECK(sc.fall == 1);
  CHECK(sc.rise == 1);
  CHECK_FALSE(sc.init_fail);
  const auto& in = l.cfg.instances.at(0);
  CHECK_FALSE(in.initial_master);
  CHECK(in.priority == 100);
  CHECK(in.advert_interval == 1s);
  CHECK(in.version == 0);
  CHECK(in.effectiveVersion(2) == 2);
  CHECK(in.effectiveVersion(3) == 3);
  CHECK(in.preempt);
  CHECK(in.auth_type == AuthType::none);
  CHECK(in.vips.at(0).prefixLength() == 32);
  CHECK(in.track_scripts.at(0).weight == std::optional<int>(5));
  CHECK(in.track_interfaces.at(0).name == "lo");
  CHECK(in.track_interfaces.at(0).weight == -10);
  CHECK(in.garp_master_delay == 5s);
  CHECK(in.garp_master_repeat == 5);
}

TEST_CASE("unicast instance") {
  auto l = load(kGlobal +
                "[vrrp_instance VI_1]\n"                                      // 4
                "interface = lo\n"                                            // 5
                "virtual_router_id = 51\n"                                    // 6
                "unicast_src_ip = 192.0.2.11\n"                               // 7
                "unicast_peer = 192.0.2.12\n"                                 // 8
                "unicast_peer = 198.51.100.13\n"                              // 9
                "virtual_ipaddress = 203.0.113.100/24 dev lo label lo:vip\n"  // 10
                "version = 3\n"                                               // 11
                "advert_int = 0.05\n");                                       // 12
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.lines() == std::vector<std::string>{
                         warn(7, "unicast_src_ip: 192.0.2.11 is not configured on this host")});
  const auto& in = l.cfg.instances.at(0);
  CHECK(in.unicast());
  REQUIRE(in.unicast_peers.size() == 2);
  CHECK(in.unicast_peers[1].toString() == "198.51.100.13");
  CHECK(in.unicast_src_ip->toString() == "192.0.2.11");
  CHECK(in.vips.at(0).dev == "lo");
  CHECK(in.vips.at(0).label == "lo:vip");
  CHECK(in.effectiveVersion(2) == 3);
  CHECK(in.advert_interval == 50ms);
}

TEST_CASE("IPv6 addresses force VRRPv3, as keepalived") {
  SECTION("no version: silently v3") {
    auto l = load(kGlobal +
                  "[vrrp_instance VI_6]\n"
                  "interface = lo\n"
                  "virtual_router_id = 51\n"
                  "advert_int = 0.5\n"
                  "virtual_ipaddress = 2001:db8::100/64\n");
    INFO(l.text());
    CHECK(l.lines().empty());
    CHECK(l.cfg.instances.at(0).effectiveVersion(2) == 3);
  }
  SECTION("version = 2 written: warning; PASS dropped (v3 has no authentication)") {
    auto l = load(kGlobal +
                  "[vrrp_instance VI_6]\n"                  // 4
                  "interface = lo\n"                        // 5
                  "virtual_router_id = 51\n"                // 6
                  "version = 2\n"                           // 7
                  "auth_type = PASS\n"                      // 8
                  "auth_pass = secret\n"                    // 9
                  "virtual_ipaddress = 2001:db8::100/64\n"  // 10
                  "unicast_peer = 2001:db8::2\n");          // 11
    INFO(l.text());
    CHECK(l.lines() ==
          std::vector<std::string>{
              warn(7,
                   "version: VRRPv2 cannot carry IPv6 addresses: using version 3 (as "
                   "keepalived does)"),
              warn(8, "auth_type: VRRPv3 has no authentication: ignored (as keepalived)"),
          });
    const auto& in = l.cfg.instances.at(0);
    CHECK(in.version == 3);
    CHECK(in.effectiveVersion(2) == 3);
    CHECK(in.auth_type == AuthType::none);
  }
}

TEST_CASE("errors carry FILE:LINE") {
  struct Case {
    const char* name;
    std::string text;
    std::vector<std::string> expected;
  };
  const std::string head = kGlobal +
                           "[vrrp_instance VI_1]\n"                 // 4
                           "interface = lo\n"                       // 5
                           "virtual_router_id = 51\n"               // 6
                           "virtual_ipaddress = 192.0.2.100/24\n";  // 7
  std::vector<Case> cases = {
      {"unknown section",
       kGlobal + "[vrrp_instanse VI_1]\n",
       {err(4,
            "unknown section [vrrp_instanse VI_1] (expected [global], [vrrp_script NAME], "
            "[vrrp_instance NAME] or [vrrp_sync_group NAME])")}},
      {"unknown key",
       head + "priorty = 100\n",
       {err(8,
            "unknown key \"priorty\" in [vrrp_instance VI_1] (known keys: state, interface, "
            "virtual_router_id, priority, advert_int, version, nopreempt, preempt_delay, "
            "mcast_src_ip, unicast_src_ip, unicast_peer, auth_type, auth_pass, "
            "virtual_ipaddress, track_script, track_interface, garp_master_delay, "
            "garp_master_repeat, garp_master_refresh, garp_master_refresh_repeat, "
            "notify_master, notify_master_user, notify_backup, notify_backup_user, notify_fault, "
            "notify_fault_user, notify_stop, notify_stop_user, notify, notify_user)")}},
      {"unknown global key",
       "[global]\nrouter = x\n",
       {err(2,
            "unknown key \"router\" in [global] (known keys: router_id, run_dir, script_user, "
            "enable_script_security, vrrp_version, vrrp_skip_check_adv_addr, "
            "vrrp_check_unicast_src, v3_checksum_as_v2, vrrp_garp_interval, vrrp_gna_interval, "
            "notify_fifo, notify_timeout, script_max_processes)")}},
      {"duplicate key",
       head + "priority = 100\npriority = 90\n",
       {err(9, "\"priority\" is duplicate in [vrrp_instance VI_1]")}},
      {"priority out of range",
       head + "priority = 256\n",
       {err(8, "priority: invalid value \"256\" (expected a whole number from 1 to 255)")}},
      {"vrid 0",
       kGlobal + "[vrrp_instance VI_1]\ninterface = lo\nvirtual_router_id = 0\n"
                 "virtual_ipaddress = 192.0.2.100\n",
       {err(6, "virtual_router_id: invalid value \"0\" (expected a whole number from 1 to 255)")}},
      {"state",
       head + "state = SLAVE\n",
       {err(8, "state: invalid value \"SLAVE\" (expected MASTER or BACKUP)")}},
      {"nopreempt value",
       head + "nopreempt = maybe\n",
       {err(8,
            "nopreempt: invalid flag \"maybe\" (expected on or off; yes/no, true/false, 1/0 "
            "also work)")}},
      {"vrrp_version",
       "[global]\nvrrp_version = 4\n",
       {err(2, "vrrp_version: invalid value \"4\" (expected a whole number from 2 to 3)")}},
      {"script weight",
       kGlobal + "[vrrp_script chk]\nscript = /bin/true\nweight = -254\n",
       {err(6, "weight: invalid value \"-254\" (expected a whole number from -253 to 253)")}},
      {"script weight word",
       kGlobal + "[vrrp_script chk]\nscript = /bin/true\nweight = 2 up\n",
       {err(6,
            "weight: invalid value \"2 up\" (expected a whole number from -253 to 253, "
            "optionally followed by \"reverse\")")}},
      {"script without script",
       kGlobal + "[vrrp_script chk]\ninterval = 2\n",
       {err(4, "[vrrp_script chk] needs \"script\"")}},
      {"auth AH",
       head + "auth_type = AH\nauth_pass = x\n",
       {err(8, "auth_type: AH is not supported (keepalived has it; use PASS or none)")}},
      {"PASS without auth_pass",
       head + "auth_type = PASS\n",
       {err(8, "auth_type: PASS needs \"auth_pass\"")}},
      {"missing interface, vrid, vip",
       kGlobal + "[vrrp_instance VI_1]\npriority = 90\n",
       {err(4, "[vrrp_instance VI_1] needs \"interface\""),
        err(4,
            "[vrrp_instance VI_1] needs \"virtual_router_id\" (1 to 255, the same on every "
            "node of the group)"),
        err(4, "[vrrp_instance VI_1] needs \"virtual_ipaddress\"")}},
      {"duplicate interface+vrid+family",
       head + "[vrrp_instance VI_2]\n"                // 8
              "interface = lo\n"                      // 9
              "virtual_router_id = 51\n"              // 10
              "virtual_ipaddress = 192.0.2.101/24\n"  // 11
              "[vrrp_instance VI_6]\n"                // 12: another family: fine
              "interface = lo\n"
              "virtual_router_id = 51\n"
              "virtual_ipaddress = 2001:db8::100\n",
       {err(10,
            "virtual_router_id: 51 on lo (IPv4) is also used by [vrrp_instance VI_1] "
            "(line 4)")}},
      {"duplicate instance name",
       head + "[vrrp_instance VI_1]\n",
       {err(8, "vrrp_instance \"VI_1\" is duplicate")}},
      {"undefined track_script",
       head + "track_script = chk_nginx\n",
       {err(8, "track_script: no [vrrp_script chk_nginx] is defined")}},
      {"track_script syntax",
       head + "track_script = chk weight 2 3\n",
       {err(8, "track_script: invalid value \"chk weight 2 3\" (expected \"NAME [weight=N]\")")}},
      {"track_script weight",
       head + "track_script = chk weight=300\n",
       {err(8,
            "track_script: weight: invalid value \"300\" (expected a whole number from -253 "
            "to 253)")}},
      {"mixed families",
       head + "virtual_ipaddress = 2001:db8::100/64\n",
       {err(8,
            "virtual_ipaddress: 2001:db8::100 is IPv6 but 192.0.2.100 (line 7) is IPv4: one "
            "instance carries one family; put the IPv6 addresses in a [vrrp_instance] of "
            "their own (keepalived ignores such an address)")}},
      {"bad VIP",
       head + "virtual_ipaddress = 192.0.2.300\n",
       {err(8,
            "virtual_ipaddress: virtual IP address \"192.0.2.300\": \"192.0.2.300\" is not an IP "
            "address")}},
      {"unicast_peer family",
       head + "unicast_peer = 2001:db8::2\n",
       {err(8, "unicast_peer: 2001:db8::2 is IPv6 but the virtual addresses are IPv4")}},
      {"unicast_peer duplicate",
       head + "unicast_peer = 192.0.2.12\nunicast_peer = 192.0.2.12\n",
       {err(9, "unicast_peer: 192.0.2.12 is duplicate (also on line 8)")}},
      {"advert_int fraction with v2",
       head + "advert_int = 0.5\n",
       {err(8,
            "advert_int: 0.5 is not possible with VRRPv2 (the default), which carries whole "
            "seconds from 1 to 255; use version = 3 for fractions of a second")}},
      {"advert_int fraction with global v2",
       "[global]\nvrrp_version = 2\n" + head.substr(kGlobal.size()) + "advert_int = 1.5\n",
       {err(7,
            "advert_int: 1.5 is not possible with VRRPv2 (line 2), which carries whole "
            "seconds from 1 to 255; use version = 3 for fractions of a second")}},
      {"advert_int below 10 ms with v3",
       head + "version = 3\nadvert_int = 0.005\n",
       {err(9,
            "advert_int: invalid value \"0.005\" (expected a duration from 10ms to "
            "4m15s)")}},
      {"advert_int above 40.95 s with v3",
       head + "version = 3\nadvert_int = 41\n",
       {err(9,
            "advert_int: 41 is not possible with VRRPv3 (line 8), which carries "
            "hundredths of a second from 0.01 to 40.95")}},
      {"advert_int 0",
       head + "advert_int = 0\n",
       {err(8, "advert_int: invalid value \"0\" (expected a duration from 10ms to 4m15s)")}},
      {"advert_int garbage",
       head + "advert_int = fast\n",
       {err(8,
            "advert_int: invalid duration \"fast\" (expected a number with a unit: 500ms, 1s, "
            "10m, 1h)")}},
      {"sync group unknown instance",
       head + "[vrrp_sync_group G]\ngroup = VI_1 VI_9\n",
       {err(9, "group: no [vrrp_instance VI_9] is defined")}},
      {"instance in two sync groups",
       head + "[vrrp_sync_group G1]\ngroup = VI_1\n[vrrp_sync_group G2]\ngroup = VI_1\n",
       {warn(9,
             "group: [vrrp_sync_group G1] has only one instance, which is probably not what "
             "you want (keepalived warns too)"),
        err(11, "group: [vrrp_instance VI_1] is already in [vrrp_sync_group G1]"),
        warn(11,
             "group: [vrrp_sync_group G2] has only one instance, which is probably not what "
             "you want (keepalived warns too)")}},
      {"sync group without group",
       "[vrrp_sync_group G]\n",
       {err(1, "[vrrp_sync_group G] needs \"group\"")}},
      {"global duplicate", "[global]\n[global]\n", {err(2, "[global] is duplicate")}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto l = load(c.text);
    INFO(l.text());
    CHECK(l.diag.hasErrors());
    CHECK(l.lines() == c.expected);
  }
}

TEST_CASE("problems are reported in line order, also those found at the end") {
  auto l = load(kGlobal +
                "[vrrp_instance VI_1]\n"             // 4
                "interface = lo\n"                   // 5
                "virtual_router_id = 51\n"           // 6
                "track_script = nope\n"              // 7: found after the whole file
                "virtual_ipaddress = 192.0.2.300\n"  // 8: found at once
                "virtual_ipaddress = 192.0.2.10\n");
  CHECK(l.lines() == std::vector<std::string>{
                         err(7, "track_script: no [vrrp_script nope] is defined"),
                         err(8,
                             "virtual_ipaddress: virtual IP address \"192.0.2.300\": "
                             "\"192.0.2.300\" is not an IP address"),
                     });
}

TEST_CASE("warnings, as keepalived's (exit 0 under -t)") {
  const std::string head = kGlobal +
                           "[vrrp_instance VI_1]\n"                 // 4
                           "interface = lo\n"                       // 5
                           "virtual_router_id = 51\n"               // 6
                           "virtual_ipaddress = 192.0.2.100/24\n";  // 7
  struct Case {
    const char* name;
    std::string text;
    std::vector<std::string> expected;
  };
  std::vector<Case> cases = {
      {"priority 255 with state BACKUP",
       head + "state = BACKUP\npriority = 255\n",
       {warn(9,
             "priority: 255 makes this node the address owner: it takes the VIP from any other "
             "node as soon as it runs, whatever \"state = BACKUP\" says; give a backup a "
             "priority below 255")}},
      {"priority 255 with nopreempt",
       head + "priority = 255\nnopreempt = yes\n",
       {warn(9,
             "nopreempt: priority 255 (the address owner) always preempts: nopreempt is "
             "cleared (as keepalived)")}},
      {"state MASTER without priority",
       head + "state = MASTER\n",
       {warn(8,
             "state: MASTER without a priority makes this node the address owner (priority "
             "255, as keepalived derives it); set a priority below 255 unless it really owns "
             "the addresses")}},
      {"preempt_delay with MASTER",
       head + "state = MASTER\npriority = 100\npreempt_delay = 10\n",
       {warn(10,
             "preempt_delay: has no effect with \"state = MASTER\" and is cleared (as "
             "keepalived does)")}},
      {"preempt_delay with nopreempt",
       head + "nopreempt = yes\npreempt_delay = 10\n",
       {warn(9,
             "preempt_delay: has no effect with nopreempt and is cleared (as keepalived "
             "does)")}},
      {"missing interface",
       kGlobal + "[vrrp_instance VI_1]\ninterface = vrrpd-nx0\n"
                 "virtual_router_id = 51\nvirtual_ipaddress = 192.0.2.1\n",
       {warn(5, "interface: interface \"vrrpd-nx0\" does not exist on this host")}},
      {"missing track_interface",
       head + "track_interface = vrrpd-nx0\n",
       {warn(8, "track_interface: interface \"vrrpd-nx0\" does not exist on this host")}},
      {"missing script",
       kGlobal + "[vrrp_script chk]\nscript = /nonexistent/chk.sh --fast\n",
       {warn(5, "script: \"/nonexistent/chk.sh\" does not exist on this host")}},
      {"script not in PATH",
       kGlobal + "[vrrp_script chk]\nscript = vrrpd-no-such-tool -x\n",
       {warn(5, "script: \"vrrpd-no-such-tool\" is not found in PATH on this host")}},
      {"notify script missing",
       head + "notify_master = /nonexistent/notify.sh master\n",
       {warn(8, "notify_master: \"/nonexistent/notify.sh\" does not exist on this host")}},
      {"script user missing",
       "[global]\nscript_user = vrrpd-no-such-user\n",
       {warn(2,
             "script_user: user \"vrrpd-no-such-user\" does not exist on this host: scripts that "
             "run as it will not run")}},
      {"per-script user missing",
       kGlobal + "[vrrp_script chk]\nscript = /bin/true\nuser = vrrpd-no-such-user\n",
       {warn(6,
             "user: user \"vrrpd-no-such-user\" does not exist on this host: scripts that run as "
             "it will not run")}},
      {"notify_fifo",
       "[global]\nnotify_fifo = /run/vrrpd.fifo\n",
       {warn(2, "notify_fifo: not supported, ignored (use the notify scripts)")}},
      {"positive weight with nopreempt",
       kGlobal + "[vrrp_script chk]\nscript = /bin/true\nweight = 10 reverse\n" +
           "[vrrp_instance VI_1]\n"  // 7
           "interface = lo\n"
           "virtual_router_id = 51\n"
           "virtual_ipaddress = 192.0.2.100/24\n"
           "nopreempt = on\n"                // 11
           "track_script = chk\n"            // 12
           "track_script = chk0 weight=0\n"  // 13: weight 0 override: no warning
           "[vrrp_script chk0]\nscript = /bin/true\nweight = -5\n",
       {warn(12,
             "track_script chk: weight 10 can never move the VIP with nopreempt (a BACKUP "
             "with nopreempt never takes over from a live MASTER, whatever the priorities); "
             "use weight 0 so that a failing script puts this node in FAULT and the VIP "
             "moves")}},
      {"auth_pass without auth_type",
       head + "auth_pass = secret\n",
       {warn(8, "auth_pass: not used without \"auth_type = PASS\"")}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto l = load(c.text);
    INFO(l.text());
    CHECK_FALSE(l.diag.hasErrors());
    CHECK(l.lines() == c.expected);
  }
}

TEST_CASE("a script file that is not executable is a warning; relative paths use the config dir") {
  char dir_template[] = "/tmp/vrrpd_config_test.XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  std::string dir = dir_template;
  std::string script = dir + "/check.sh";
  { std::ofstream(script) << "#!/bin/sh\nexit 0\n"; }
  ::chmod(script.c_str(), 0644);

  common::Diagnostics diag;
  std::string path = dir + "/vrrpd.ini";
  auto cfg = parseVrrpConfig(kGlobal + "[vrrp_script chk]\nscript = ./check.sh arg\n", path, diag);
  REQUIRE(diag.items().size() == 1);
  CHECK(diag.items()[0].format() ==
        path + ":5: warning: script: \"" + dir + "/check.sh\" is not executable");
  CHECK(cfg.scripts.at(0).script == dir + "/check.sh arg");

  ::chmod(script.c_str(), 0755);
  common::Diagnostics diag2;
  cfg = parseVrrpConfig(kGlobal + "[vrrp_script chk]\nscript = \"" + script + "\" arg\n", path,
                        diag2);
  CHECK(diag2.items().empty());

  std::remove(script.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("sync group") {
  auto l = load(kGlobal +
                "[vrrp_sync_group VG_1]\n"            // 4: before its instances
                "group = VI_1\n"                      // 5
                "group = VI_2\n"                      // 6
                "notify_master = /bin/true master\n"  // 7
                "[vrrp_instance VI_1]\n"
                "interface = lo\n"
                "virtual_router_id = 51\n"
                "virtual_ipaddress = 192.0.2.100/24\n"
                "[vrrp_instance VI_2]\n"
                "interface = lo\n"
                "virtual_router_id = 52\n"
                "virtual_ipaddress = 198.51.100.100/24\n");
  INFO(l.text());
  CHECK(l.lines().empty());
  const auto& g = l.cfg.sync_groups.at(0);
  CHECK(g.name == "VG_1");
  CHECK(g.members == std::vector<std::string>{"VI_1", "VI_2"});
  CHECK(g.notify_master == "/bin/true master");
  CHECK(g.line == 4);
}

TEST_CASE(
    "notify users: notify_STATE_user = NAME [GROUP], as keepalived's [username [groupname]]") {
  auto l = load(kGlobal +
                "[vrrp_instance VI_1]\n"             // 4
                "interface = lo\n"                   // 5
                "virtual_router_id = 51\n"           // 6
                "virtual_ipaddress = 192.0.2.100\n"  // 7
                "notify_master = /bin/true\n"        // 8
                "notify_master_user = nobody\n"      // 9
                "notify = /bin/true\n"               // 10
                "notify_user = nobody nogroup\n"     // 11
                "[vrrp_script chk]\n"                // 12
                "script = /bin/true\n"               // 13
                "user = nobody nogroup\n");          // 14
  INFO(l.text());
  CHECK(l.lines().empty());
  const auto& in = l.cfg.instances.at(0);
  CHECK(in.notify_master_as == vrrpd::ScriptRunAs{"nobody", ""});
  CHECK(in.notify_as == vrrpd::ScriptRunAs{"nobody", "nogroup"});
  CHECK(in.notify_backup_as == vrrpd::ScriptRunAs{});
  CHECK(l.cfg.scripts.at(0).user == "nobody");
  CHECK(l.cfg.scripts.at(0).group == "nogroup");
  CHECK(l.cfg.global.notify_timeout == vrrpd::kDefaultNotifyTimeout);
  CHECK(l.cfg.global.script_max_processes == vrrpd::kDefaultScriptMaxProcesses);

  auto bad = load(
      "[global]\nscript_user = nobody :nogroup\nnotify_timeout = 0\n"
      "[global]\nnotify_timeout = 3601\nscript_max_processes = 4097\n");
  CHECK(bad.lines() ==
        std::vector<std::string>{
            err(2,
                "script_user: \":GROUP\" (keepalived's supplementary groups) is not supported: "
                "scripts run with no supplementary groups"),
            err(3, "notify_timeout: invalid value \"0\" (expected a duration from 1ms to 1h)"),
            err(4, "[global] is duplicate"),
            err(5, "notify_timeout: invalid value \"3601\" (expected a duration from 1ms to 1h)"),
            err(6,
                "script_max_processes: invalid value \"4097\" (expected a whole number from 1 "
                "to 4096)")});
}

TEST_CASE("vrrpd -t: a script run as root is a warning without enable_script_security") {
  std::string body =
      "[vrrp_script chk]\n"     // 4
      "script = /bin/true\n"    // 5
      "user = root\n"           // 6
      "[vrrp_instance VI_1]\n"  // 7
      "interface = lo\n"
      "virtual_router_id = 51\n"
      "virtual_ipaddress = 192.0.2.100\n"
      "notify_master = /bin/true\n";  // 11: as nobody: no warning
  auto l = load(kGlobal + body);
  CHECK(l.lines() ==
        std::vector<std::string>{warn(6,
                                      "script: runs as root (user \"root\") without "
                                      "enable_script_security: nothing checks that only root "
                                      "can modify it")});
  auto global = load("[global]\nscript_user = root\n\n" + body);
  CHECK(global.lines() ==
        std::vector<std::string>{
            warn(2,
                 "script_user: scripts run as root (user \"root\") without "
                 "enable_script_security: nothing checks that only root can modify them"),
            warn(6,
                 "script: runs as root (user \"root\") without enable_script_security: "
                 "nothing checks that only root can modify it")});
  // With it, a root-owned /bin/true is fine.
  auto safe = load("[global]\nscript_user = nobody\nenable_script_security = yes\n" + body);
  INFO(safe.text());
  CHECK(safe.lines().empty());
}

TEST_CASE("vrrpd -t: enable_script_security says which root scripts will be refused") {
  if (::getuid() != 0) {
    WARN("not run: needs root (the file must be root's)");
    return;
  }
  char dir_template[] = "/tmp/vrrpd_config_sec.XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  std::string dir = dir_template;
  ::chmod(dir.c_str(), 0755);
  std::string script = dir + "/notify.sh";
  { std::ofstream(script) << "#!/bin/sh\nexit 0\n"; }
  ::chmod(script.c_str(), 0757);
  auto l = load(
      "[global]\n"                    // 1
      "script_user = root\n"          // 2
      "enable_script_security = 1\n"  // 3
      "[vrrp_instance VI_1]\n"        // 4
      "interface = lo\n"
      "virtual_router_id = 51\n"
      "virtual_ipaddress = 192.0.2.100\n"
      "notify_backup = " +
      script + " backup\n");  // 8
  CHECK(l.lines() == std::vector<std::string>{warn(
                         8, "notify_backup: will not run: refused by enable_script_security: \"" +
                                script + "\" is writable by everyone")});
  std::remove(script.c_str());
  ::rmdir(dir.c_str());
}
