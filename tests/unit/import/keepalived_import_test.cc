#include "import/keepalived/keepalived_import.h"

#include <stdlib.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "vrrpd/core/config.h"

#include "tests/unit/support/diagnostics.h"
#include "tests/unit/support/temp_dir.h"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using test_support::TempDir;

namespace {

fs::path seedDir() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "data" / "seed" /
         "keepalived";
}

struct Loaded {
  vrrpd::ImportResult imported;
  vrrpd::VrrpConfig cfg;
  common::Diagnostics diag;
  std::string text() const {
    std::ostringstream out;
    out << imported.ini << "\n--- importer:\n";
    for (const auto& w : imported.warnings) out << w << "\n";
    out << "--- loader:\n" << test_support::diagnosticText(diag);
    return out.str();
  }
  bool hasWarning(const std::string& text) const {
    return std::any_of(imported.warnings.begin(), imported.warnings.end(),
                       [&](const std::string& w) { return w.find(text) != std::string::npos; });
  }
};

Loaded importAndLoad(const std::string& path) {
  Loaded l;
  l.imported = vrrpd::importKeepalived(path);
  l.cfg = vrrpd::parseVrrpConfig(l.imported.ini, "/etc/vrrpd/vrrpd.ini", l.diag);
  return l;
}

}  // namespace

TEST_CASE("keepalived import: the seed's three nodes import and pass vrrpd's loader") {
  struct Node {
    const char* name;
    int priority;
    bool master;
    const char* src;
  };
  const Node nodes[] = {{"master1", 100, true, "192.0.2.11"},
                        {"master2", 80, false, "192.0.2.12"},
                        {"master3", 60, false, "192.0.2.13"}};
  for (const Node& n : nodes) {
    const std::string path = (seedDir() / n.name / "keepalived.conf").string();
    auto l = importAndLoad(path);
    INFO(n.name << "\n" << l.text());
    REQUIRE(l.imported.ok);
    REQUIRE_FALSE(l.diag.hasErrors());  // warnings (eno1, the script path) are allowed
    CHECK(l.imported.ini.rfind("; vrrpd.ini imported from " + path, 0) == 0);

    CHECK(l.cfg.global.router_id == "LVS_DEVEL");
    CHECK(l.cfg.global.skip_check_adv_addr);
    REQUIRE(l.cfg.scripts.size() == 1);
    const auto& sc = l.cfg.scripts[0];
    CHECK(sc.name == "check_nginx");
    CHECK(sc.script == "/usr/local/keepalived/conf/check_nginx.sh");
    CHECK(sc.interval == 2s);
    CHECK(sc.weight == -2);

    REQUIRE(l.cfg.instances.size() == 1);
    const auto& in = l.cfg.instances[0];
    CHECK(in.name == "VI_1");
    CHECK(in.initial_master == n.master);
    CHECK(in.interface == "eno1");
    CHECK(in.vrid == 51);
    CHECK(in.priority == n.priority);
    CHECK(in.advert_interval == 2s);
    // nopreempt as written; keepalived (and vrrpd) clear it with state MASTER.
    CHECK(in.preempt == n.master);
    REQUIRE(in.mcast_src_ip);
    CHECK(in.mcast_src_ip->toString() == n.src);
    CHECK(in.auth_type == vrrpd::AuthType::pass);
    CHECK(in.auth_pass == "K8SHA_KA");  // vrrpd cuts it as keepalived does
    REQUIRE(in.vips.size() == 2);
    CHECK(in.vips[0].toString().rfind("192.0.2.100/24", 0) == 0);
    CHECK(in.vips[1].toString().rfind("203.0.113.100/24", 0) == 0);
    REQUIRE(in.track_scripts.size() == 1);
    CHECK(in.track_scripts[0].name == "check_nginx");
    CHECK_FALSE(in.track_scripts[0].weight);

    // keepalived's own warnings and the seed's trap, at the keepalived.conf lines.
    CHECK(l.hasWarning(path + ":22: warning: auth_pass: \"K8SHA_KA_AUTH\" is longer than 8 "
                              "bytes: keepalived truncates it to \"K8SHA_KA\""));
    CHECK(l.hasWarning(path + ":19: warning: nopreempt: has no effect with \"state MASTER\"") ==
          n.master);
    CHECK(l.hasWarning(path + ":29: warning: track_script check_nginx: weight -2"));
    CHECK(l.hasWarning("use \"weight = 0\""));
    // The password is kept as written: vrrpd truncates it and warns the same way.
    CHECK(l.imported.ini.find("auth_pass = K8SHA_KA_AUTH\n") != std::string::npos);
  }
}

TEST_CASE("keepalived import: the seed's cross-data-centre unicast instance") {
  auto l = importAndLoad((seedDir() / "cross-dc" / "keepalived.conf").string());
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  REQUIRE(l.cfg.instances.size() == 1);
  const auto& in = l.cfg.instances[0];
  CHECK(in.unicast());
  REQUIRE(in.unicast_peers.size() == 1);
  CHECK(in.unicast_peers[0].toString() == "192.0.2.12");
  REQUIRE(in.unicast_src_ip);
  CHECK(in.unicast_src_ip->toString() == "192.0.2.11");
  CHECK(in.auth_pass == "1111");
  REQUIRE(in.vips.size() == 1);
  CHECK(in.vips[0].toString().rfind("198.51.100.100/24", 0) == 0);
}

TEST_CASE("keepalived import: the article's shorthand with \";\" reads, with a warning") {
  TempDir t("keepalived_import");
  std::string path = t.write("keepalived.conf", R"(global_defs { router_id LVS_DEVEL }
vrrp_script check_nginx { script "/bin/true"; interval 2; weight -2; }
vrrp_instance VI_1 {
    state BACKUP                # BACKUP 角色
    interface lo
    virtual_router_id 51        ! 必须和 master1 一致
    priority 80
    advert_int 2
    nopreempt
    authentication { auth_type PASS; auth_pass K8SHA_KA_AUTH; }
    virtual_ipaddress { 192.0.2.100/24 dev lo label lo:vip brd 192.0.2.255 }
    track_script { check_nginx; }
}
)");
  auto l = importAndLoad(path);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.hasWarning(path + ":2: warning: \";\" is not a separator in keepalived.conf"));
  CHECK(l.hasWarning(path + ":11: warning: virtual_ipaddress 192.0.2.100/24: \"brd "
                            "192.0.2.255\" is not supported by vrrpd: dropped"));
  REQUIRE(l.cfg.instances.size() == 1);
  const auto& in = l.cfg.instances[0];
  CHECK(in.priority == 80);
  CHECK(in.auth_pass == "K8SHA_KA");
  REQUIRE(in.vips.size() == 1);
  CHECK(in.vips[0].dev == "lo");
  CHECK(in.vips[0].label == "lo:vip");
  REQUIRE(l.cfg.scripts.size() == 1);
  CHECK(l.cfg.scripts[0].script == "/bin/true");
  CHECK(l.cfg.scripts[0].weight == -2);
}

TEST_CASE("keepalived import: includes are relative to the including file") {
  TempDir t("keepalived_import");
  std::string main_conf = t.write("etc/keepalived.conf",
                                  "global_defs {\n    router_id node1\n    script_user nobody\n"
                                  "    enable_script_security\n    vrrp_strict\n}\n"
                                  "include conf.d/*.conf\n");
  // conf.d/instances.conf includes scripts.inc from its own directory.
  t.write("etc/conf.d/instances.conf",
          "include scripts.inc\n"
          "vrrp_instance VI_1\n{\n    interface lo\n    virtual_router_id 7\n"
          "    priority 150\n    advert_int 0.5\n    version 3\n"
          "    virtual_ipaddress {\n        2001:db8::100/64\n    }\n"
          "    track_script {\n        chk weight 10\n    }\n"
          "    track_interface {\n        lo weight -5\n    }\n"
          "    notify_master \"/bin/echo master\"\n}\n"
          "vrrp_instance VI_2 {\n    interface lo\n    virtual_router_id 8\n"
          "    virtual_ipaddress {\n        192.0.2.200\n    }\n}\n"
          "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_2\n    }\n}\n");
  t.write("etc/conf.d/scripts.inc",
          "vrrp_script chk {\n    script \"/bin/true\"\n    interval 1\n    fall 2\n"
          "    rise 3\n    init_fail\n    frobnicate 1\n}\n");
  auto l = importAndLoad(main_conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.global.router_id == "node1");
  CHECK(l.cfg.global.script_user == "nobody");
  CHECK(l.cfg.global.enable_script_security);
  CHECK(l.hasWarning(main_conf + ":5: warning: vrrp_strict is not supported by vrrpd: dropped"));
  CHECK(l.hasWarning((t.path / "etc/conf.d/scripts.inc").string() +
                     ":7: warning: frobnicate is not supported by vrrpd: dropped"));
  REQUIRE(l.cfg.scripts.size() == 1);
  CHECK(l.cfg.scripts[0].fall == 2);
  CHECK(l.cfg.scripts[0].rise == 3);
  CHECK(l.cfg.scripts[0].init_fail);
  REQUIRE(l.cfg.instances.size() == 2);
  const auto& in = l.cfg.instances[0];
  CHECK(in.version == 3);
  CHECK(in.advert_interval == 500ms);
  REQUIRE(in.track_scripts.size() == 1);
  CHECK(in.track_scripts[0].weight == 10);
  REQUIRE(in.track_interfaces.size() == 1);
  CHECK(in.track_interfaces[0].weight == -5);
  CHECK(in.notify_master == "/bin/echo master");
  REQUIRE(l.cfg.sync_groups.size() == 1);
  CHECK(l.cfg.sync_groups[0].members == std::vector<std::string>{"VI_1", "VI_2"});
}

TEST_CASE("keepalived import: syntax errors are FILE:LINE errors and ok=false") {
  TempDir t("keepalived_import");
  struct Case {
    const char* text;
    int line;
    const char* what;
  };
  const Case cases[] = {
      {"vrrp_instance VI_1 {\n    state BACKUP\n", 1, "not closed"},
      {"global_defs {\n}\n}\n", 3, "unexpected \"}\""},
      {"vrrp_script x {\n    script \"/bin/true\n}\n", 2, "unmatched quote"},
      {"{\n}\n", 1, "unexpected \"{\""},
      {"include missing/file.conf\n", 1, "no file matches"},
  };
  for (const auto& c : cases) {
    std::string path = t.write("bad.conf", c.text);
    auto r = vrrpd::importKeepalived(path);
    INFO(c.text);
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].find(path + ":" + std::to_string(c.line) + ": ") == 0);
    CHECK(r.warnings[0].find(c.what) != std::string::npos);
    // A missing include is keepalived's warning; everything else is an error.
    CHECK(r.ok == (std::string(c.what) == "no file matches"));
  }
  auto missing = vrrpd::importKeepalived((t.path / "nope.conf").string());
  CHECK_FALSE(missing.ok);
  REQUIRE(missing.warnings.size() == 1);
  CHECK(missing.warnings[0].find("error: cannot read") != std::string::npos);
}

TEST_CASE("keepalived import: a notify's [username [groupname]] becomes notify_STATE_user") {
  // keepalived (notify_script_init): the script is the first word, quoted
  // when it has arguments; the next words are the user and group.
  TempDir t("keepalived_import");
  std::string conf =
      t.write("keepalived.conf",
              "global_defs {\n    script_user nobody nogroup\n}\n"
              "vrrp_script chk {\n    script \"/bin/true\"\n    user nobody :nogroup\n}\n"
              "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 7\n"
              "    virtual_ipaddress {\n        192.0.2.100\n    }\n"
              "    notify_master \"/bin/echo master\" root\n"  // 14
              "    notify_backup /bin/true nobody nogroup\n"
              "    notify_fault \"/bin/true\"\n"
              "    notify \"/bin/true\" nobody : nogroup\n"
              "}\n");
  auto l = importAndLoad(conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.global.script_user == "nobody");
  CHECK(l.cfg.global.script_group == "nogroup");
  CHECK(l.cfg.scripts.at(0).user == "nobody");
  CHECK(l.cfg.scripts.at(0).group == "nogroup");
  CHECK(l.hasWarning(conf + ":6: warning: user: \":\" (the user's supplementary groups) is not "
                            "supported by vrrpd: dropped"));
  const auto& in = l.cfg.instances.at(0);
  // Not the command "/bin/echo master root" (the old importer folded it in).
  CHECK(in.notify_master == "/bin/echo master");
  CHECK(in.notify_master_as == vrrpd::ScriptRunAs{"root", ""});
  CHECK(in.notify_backup == "/bin/true");
  CHECK(in.notify_backup_as == vrrpd::ScriptRunAs{"nobody", "nogroup"});
  CHECK(in.notify_fault == "/bin/true");
  CHECK(in.notify_fault_as == vrrpd::ScriptRunAs{});
  CHECK(in.notify == "/bin/true");
  CHECK(in.notify_as == vrrpd::ScriptRunAs{"nobody", "nogroup"});
}

// Values keepalived -t refuses (it ignores them with a message and keeps its
// default) are left out with a warning at the keepalived.conf line, so the
// output loads; values at keepalived's bounds are carried as written.
// tests/interop/test_import_limits.py checks the lines against keepalived -t.
TEST_CASE("keepalived import: out-of-range values are warnings, the rest loads") {
  TempDir dir("keepalived_import");
  const std::string conf = dir.write("keepalived.conf",
                                     "vrrp_script chk {\n"                 // 1
                                     "  script \"/bin/true\"\n"            // 2
                                     "  interval 9000000000000000\n"       // 3
                                     "  fall 2147483647\n"                 // 4
                                     "  rise 0\n"                          // 5
                                     "}\n"                                 // 6
                                     "vrrp_instance VI_1 {\n"              // 7
                                     "  interface lo\n"                    // 8
                                     "  virtual_router_id 255\n"           // 9
                                     "  priority 1\n"                      // 10
                                     "  preempt_delay 1001\n"              // 11
                                     "  garp_master_refresh 4294967295\n"  // 12
                                     "  virtual_ipaddress {\n"             // 13
                                     "    192.0.2.10/24\n"                 // 14
                                     "  }\n"                               // 15
                                     "  track_script {\n"                  // 16
                                     "    chk weight 254\n"                // 17
                                     "  }\n"
                                     "}\n");
  auto l = importAndLoad(conf);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  CHECK_FALSE(l.diag.hasErrors());
  CHECK(l.hasWarning(conf + ":3: warning: interval: invalid value \"9000000000000000\""));
  CHECK(l.hasWarning(conf + ":5: warning: rise: invalid value \"0\""));
  CHECK(l.hasWarning(conf + ":11: warning: preempt_delay: invalid value \"1001\""));
  CHECK(l.hasWarning(conf + ":17: warning: chk: weight 254 is outside -253..253"));
  REQUIRE(l.cfg.scripts.size() == 1);
  CHECK(l.cfg.scripts[0].interval == std::chrono::seconds(1));  // keepalived's default
  CHECK(l.cfg.scripts[0].fall == 2147483647);
  REQUIRE(l.cfg.instances.size() == 1);
  CHECK(l.cfg.instances[0].garp_master_refresh == std::chrono::seconds(4294967295LL));
  REQUIRE(l.cfg.instances[0].track_scripts.size() == 1);
  CHECK(l.cfg.instances[0].track_scripts[0].weight == 253);
}

TEST_CASE("keepalived import: a value vrrpd.ini cannot hold is a warning at its line") {
  TempDir t("keepalived_import");
  // "script = ;x" would be read back as an empty value.
  std::string path = t.write("keepalived.conf",
                             "vrrp_script chk {\n    script \";x\"\n    weight 0\n}\n"
                             "vrrp_script long {\n    script \"/bin/" +
                                 std::string(200, 'x') + "\"\n}\n");
  auto l = importAndLoad(path);
  INFO(l.text());
  REQUIRE(l.imported.ok);
  CHECK_FALSE(l.diag.hasErrors());
  CHECK(
      l.hasWarning(path + ":2: warning: script: the value cannot be written to vrrpd.ini (\" ;\""));
  CHECK(l.hasWarning(path + ":6: warning: script: the value cannot be written to vrrpd.ini (it "
                            "needs a line of"));
  CHECK(l.imported.ini.find(";x") == std::string::npos);
}
