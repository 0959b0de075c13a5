// vrrpd -t's host warnings against a made-up host (DESIGN.md: what depends on
// the machine is a warning, since a config may be checked on another one).
// The loader asks only the host it is given: each case runs on a host that
// has the thing (no warning) and on one that lacks it (the warning).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/unit/support/addresses.h"
#include "tests/unit/support/diagnostics.h"
#include "tests/unit/support/fake_host.h"
#include "vrrpd/core/config.h"

namespace {

const std::string kPath = "/etc/vrrpd/vrrpd.ini";

std::vector<std::string> warnings(const std::string& text, const test_support::FakeHost& host) {
  common::Diagnostics diag;
  vrrpd::parseVrrpConfig(text, kPath, diag, host);
  return test_support::diagnosticLines(diag);
}

std::string warn(int line, const std::string& msg) {
  return kPath + ":" + std::to_string(line) + ": warning: " + msg;
}

// A host where everything the base config below names is present.
test_support::FakeHost fullHost() {
  test_support::FakeHost h;
  h.interfaces = {"eth7", "eth8"};
  h.addresses = {test_support::ip("192.0.2.11")};
  h.users = {{"nobody", {65534, 65534}}, {"vrrpd_script", {990, 990}}, {"root", {0, 0}}};
  h.groups = {{"nogroup", 65534}};
  h.addFile("/usr/libexec/vrrpd/chk.sh", S_IFREG | 0755);
  h.addFile("/usr/bin/chk-tool", S_IFREG | 0755);
  h.addFile(kPath, S_IFREG | 0600);
  return h;
}

const std::string kBase =
    "[global]\n"                               // 1
    "script_user = nobody\n"                   // 2
    "\n"                                       // 3
    "[vrrp_script chk]\n"                      // 4
    "script = /usr/libexec/vrrpd/chk.sh -x\n"  // 5
    "[vrrp_instance VI_1]\n"                   // 6
    "interface = eth7\n"                       // 7
    "virtual_router_id = 51\n"                 // 8
    "virtual_ipaddress = 192.0.2.100/24\n"     // 9
    "track_interface = eth8\n"                 // 10
    "unicast_src_ip = 192.0.2.11\n"            // 11
    "unicast_peer = 192.0.2.12\n"              // 12
    "track_script = chk\n";                    // 13

}  // namespace

TEST_CASE(
    "vrrpd -t on a host that has everything: no host warning, and nothing asked of this one") {
  // eth7, eth8 and 192.0.2.11 are not on the machine running the test: the
  // loader must not look there.
  auto h = fullHost();
  CHECK(warnings(kBase, h).empty());
}

TEST_CASE("vrrpd -t: each missing thing of the host is one warning at its line") {
  struct Case {
    const char* name;
    void (*remove)(test_support::FakeHost&);
    std::string expected;
  };
  std::vector<Case> cases = {
      {"interface", [](test_support::FakeHost& h) { h.interfaces.erase("eth7"); },
       warn(7, "interface: interface \"eth7\" does not exist on this host")},
      {"track_interface", [](test_support::FakeHost& h) { h.interfaces.erase("eth8"); },
       warn(10, "track_interface: interface \"eth8\" does not exist on this host")},
      {"source address", [](test_support::FakeHost& h) { h.addresses.clear(); },
       warn(11, "unicast_src_ip: 192.0.2.11 is not configured on this host")},
      {"script", [](test_support::FakeHost& h) { h.files.erase("/usr/libexec/vrrpd/chk.sh"); },
       warn(5, "script: \"/usr/libexec/vrrpd/chk.sh\" does not exist on this host")},
      {"script not executable",
       [](test_support::FakeHost& h) { h.addFile("/usr/libexec/vrrpd/chk.sh", S_IFREG | 0644); },
       warn(5, "script: \"/usr/libexec/vrrpd/chk.sh\" is not executable")},
      {"script user", [](test_support::FakeHost& h) { h.users.erase("nobody"); },
       warn(2,
            "script_user: user \"nobody\" does not exist on this host: scripts that run as it "
            "will not run")},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto h = fullHost();
    c.remove(h);
    CHECK(warnings(kBase, h) == std::vector<std::string>{c.expected});
  }
}

TEST_CASE("vrrpd -t: a bare script name is searched in the scripts' PATH on the host") {
  const std::string text =
      "[global]\nscript_user = nobody\n\n[vrrp_script chk]\nscript = chk-tool --fast\n";
  auto h = fullHost();
  CHECK(warnings(text, h).empty());
  h.files.erase("/usr/bin/chk-tool");
  CHECK(warnings(text, h) == std::vector<std::string>{warn(
                                 5, "script: \"chk-tool\" is not found in PATH on this host")});
}

TEST_CASE("vrrpd -t: no script_user and no vrrpd_script user on the host") {
  const std::string text = "[vrrp_script chk]\nscript = /usr/libexec/vrrpd/chk.sh\n";
  auto h = fullHost();
  CHECK(warnings(text, h).empty());  // vrrpd_script exists: scripts run as it
  h.users.erase("vrrpd_script");
  CHECK(warnings(text, h) ==
        std::vector<std::string>{
            warn(2,
                 "no script_user is set and user \"vrrpd_script\" does not exist on this host: "
                 "scripts will not run (they count as failing); create the user, or say "
                 "script_user = root in [global] to run them as root")});
}

TEST_CASE("vrrpd -t: enable_script_security judges the host's files, not this machine's") {
  const std::string text =
      "[global]\n"
      "script_user = root\n"
      "enable_script_security = yes\n"
      "[vrrp_script chk]\n"
      "script = /opt/team/run.sh\n";  // 5
  auto h = fullHost();
  h.addFile("/opt/team/run.sh", S_IFREG | 0755);
  CHECK(warnings(text, h).empty());
  h.files["/opt/team"] =
      test_support::fakeNode(S_IFDIR | 0775, 0, 1000);  // the team may replace it
  CHECK(warnings(text, h) ==
        std::vector<std::string>{
            warn(5,
                 "script: will not run: refused by enable_script_security: \"/opt/team\" is "
                 "writable by group 1000")});
}

TEST_CASE("vrrpd -t: auth_pass in a file other users can read, on the host") {
  const std::string text =
      "[global]\nscript_user = nobody\n\n"
      "[vrrp_instance VI_1]\ninterface = eth7\nvirtual_router_id = 51\n"
      "virtual_ipaddress = 192.0.2.100/24\nauth_type = PASS\nauth_pass = secret\n";  // 9
  auto h = fullHost();
  CHECK(warnings(text, h).empty());
  h.addFile(kPath, S_IFREG | 0644);
  CHECK(warnings(text, h) ==
        std::vector<std::string>{
            warn(9,
                 "auth_pass: \"/etc/vrrpd/vrrpd.ini\" is readable by other users (mode 0644): "
                 "they can read the password (chmod 0600 it)")});
}

TEST_CASE("vrrpd: router_id defaults to the host's name") {
  auto h = fullHost();
  h.host_name = "master2";
  common::Diagnostics diag;
  auto cfg = vrrpd::parseVrrpConfig("[global]\n", kPath, diag, h);
  CHECK(cfg.global.router_id == "master2");
}
