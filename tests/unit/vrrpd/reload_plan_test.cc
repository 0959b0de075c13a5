#include "vrrpd/core/reload_plan.h"

#include <catch2/catch.hpp>

#include <string>

using vrrpd::planReload;
using vrrpd::ReloadStep;

namespace {

// "lo" exists everywhere: the loader only warns about a missing interface,
// but a clean load keeps the expectations readable.
std::string file(const std::string& global, const std::string& extra_v1 = "",
                 const std::string& before = "") {
  return "[global]\nrouter_id = n1\n" + global + "\n" + before +
         "[vrrp_instance VI_1]\ninterface = lo\nvirtual_router_id = 51\npriority = 100\n"
         "virtual_ipaddress = 192.0.2.100/24\n" +
         extra_v1 +
         "\n[vrrp_instance VI_V3]\ninterface = lo\nvirtual_router_id = 52\nversion = 3\n"
         "virtual_ipaddress = 203.0.113.100/24\n"
         "\n[vrrp_instance VI_6]\ninterface = lo\nvirtual_router_id = 53\n"
         "virtual_ipaddress = 2001:db8::100/64\n";
}

vrrpd::VrrpConfig load(const std::string& text) {
  common::Diagnostics diag;
  auto cfg = vrrpd::parseVrrpConfig(text, "/etc/vrrpd/vrrpd.ini", diag);
  INFO(text);
  REQUIRE_FALSE(diag.hasErrors());
  return cfg;
}

ReloadStep stepOf(const std::vector<vrrpd::InstancePlan>& plan, const std::string& name) {
  for (const auto& p : plan) {
    if (p.name == name) return p.step;
  }
  FAIL("no plan entry for " << name);
  return ReloadStep::keep;
}

}  // namespace

TEST_CASE("reload plan: the same file keeps every instance", "[reload_plan]") {
  auto a = load(file(""));
  auto plan = planReload(a, load(file("")));
  REQUIRE(plan.size() == 3);
  for (const auto& p : plan) CHECK(p.step == ReloadStep::keep);
}

TEST_CASE("reload plan: moved lines and unrelated [global] values keep", "[reload_plan]") {
  auto a = load(file(""));
  // Every line moves down; router_id and enable_script_security are the
  // daemon's business, no instance reads them.
  auto b = load("; moved down\n\n" + file("enable_script_security = yes\n", "", "; note\n\n"));
  b.global.router_id = "other";
  auto plan = planReload(a, b);
  REQUIRE(plan.size() == 3);
  for (const auto& p : plan) CHECK(p.step == ReloadStep::keep);
}

TEST_CASE("reload plan: vrrp_version restarts the instances that follow it", "[reload_plan]") {
  auto v2 = load(file("vrrp_version = 2\n"));
  auto v3 = load(file("vrrp_version = 3\n"));
  auto plan = planReload(v2, v3);
  CHECK(stepOf(plan, "VI_1") == ReloadStep::restart);  // v2 -> v3 on the wire
  CHECK(stepOf(plan, "VI_V3") == ReloadStep::keep);    // its own version = 3
  CHECK(stepOf(plan, "VI_6") == ReloadStep::keep);     // IPv6 is always v3
  for (const auto& p : plan) {
    if (p.name == "VI_1") CHECK(p.why.find("version 2 -> 3") != std::string::npos);
  }
}

TEST_CASE("reload plan: v3_checksum_as_v2 restarts the v3 IPv4 instances only", "[reload_plan]") {
  auto off = load(file(""));
  auto on = load(file("v3_checksum_as_v2 = yes\n"));
  auto plan = planReload(off, on);
  CHECK(stepOf(plan, "VI_1") == ReloadStep::keep);      // v2: no pseudo-header either way
  CHECK(stepOf(plan, "VI_V3") == ReloadStep::restart);  // encodes with the new checksum
  CHECK(stepOf(plan, "VI_6") == ReloadStep::keep);      // IPv6: the option does not apply
  // What a kept instance runs with is what the new file gives it: encoding
  // (the instance) and decoding (the daemon, from [global]) agree.
  for (const auto& p : plan) {
    if (p.step != ReloadStep::keep) continue;
    const auto* sec = on.findInstance(p.name);
    const auto* was = off.findInstance(p.name);
    REQUIRE(sec != nullptr);
    CHECK(vrrpd::globalsFor(*was, off.global) == vrrpd::globalsFor(*sec, on.global));
  }
}

TEST_CASE("reload plan: other [global] values an instance reads", "[reload_plan]") {
  auto a = load(file(""));
  auto b = load(file("vrrp_skip_check_adv_addr = yes\n"));
  for (const auto& p : planReload(a, b)) CHECK(p.step == ReloadStep::restart);
  auto garp = load(file("vrrp_garp_interval = 0.01\n"));
  auto plan = planReload(a, garp);
  CHECK(stepOf(plan, "VI_1") == ReloadStep::restart);
  CHECK(stepOf(plan, "VI_V3") == ReloadStep::restart);
  CHECK(stepOf(plan, "VI_6") == ReloadStep::keep);  // NAs: vrrp_gna_interval
}

TEST_CASE("reload plan: any field of the section restarts it", "[reload_plan]") {
  auto a = load(file(""));
  for (const std::string extra :
       {"priority = 90\n", "virtual_ipaddress = 192.0.2.101/24\n", "nopreempt = yes\n",
        "track_interface = lo\n", "garp_master_repeat = 2\n", "notify_master = /bin/true\n"}) {
    std::string text = file("", extra);
    // The second `priority` overrides the first? Keep one: replace instead.
    if (extra.rfind("priority", 0) == 0) {
      text = file("");
      text.replace(text.find("priority = 100"), 14, "priority = 90");
    }
    auto b = load(text);
    auto plan = planReload(a, b);
    INFO(extra);
    CHECK(stepOf(plan, "VI_1") == ReloadStep::restart);
    CHECK(stepOf(plan, "VI_V3") == ReloadStep::keep);
  }
  // A VIP's `dev` is part of it (the old fingerprint printed only the address).
  auto dev = load(file("", "virtual_ipaddress = 192.0.2.101/24 dev lo\n"));
  auto dev2 = load(file("", "virtual_ipaddress = 192.0.2.101/24\n"));
  CHECK(stepOf(planReload(dev2, dev), "VI_1") == ReloadStep::restart);
}

TEST_CASE("reload plan: new and removed instances", "[reload_plan]") {
  auto a = load(file(""));
  auto b = a;
  b.instances.erase(b.instances.begin());  // VI_1 gone
  auto plan = planReload(a, b);
  REQUIRE(plan.size() == 3);
  CHECK(plan.back().name == "VI_1");
  CHECK(plan.back().step == ReloadStep::stop);
  auto back = planReload(b, a);
  CHECK(stepOf(back, "VI_1") == ReloadStep::start);
}
