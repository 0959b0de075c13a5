#include "vrrpd/core/reload_plan.h"

#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/support/field_decisions.h"

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

ReloadStep stepOf(const vrrpd::ReloadPlan& plan, const std::string& name) {
  for (const auto& p : plan.instances) {
    if (p.name == name) return p.step;
  }
  FAIL("no plan entry for " << name);
  return ReloadStep::keep;
}

}  // namespace

TEST_CASE("reload plan: the same file keeps every instance", "[reload_plan]") {
  auto a = load(file(""));
  auto plan = planReload(a, load(file("")));
  REQUIRE(plan.instances.size() == 3);
  for (const auto& p : plan.instances) CHECK(p.step == ReloadStep::keep);
}

TEST_CASE("reload plan: moved lines and unrelated [global] values keep", "[reload_plan]") {
  auto a = load(file(""));
  // Every line moves down; router_id and enable_script_security are the
  // daemon's business, no instance reads them.
  auto b = load("; moved down\n\n" + file("enable_script_security = yes\n", "", "; note\n\n"));
  b.global.router_id = "other";
  auto plan = planReload(a, b);
  REQUIRE(plan.instances.size() == 3);
  for (const auto& p : plan.instances) CHECK(p.step == ReloadStep::keep);
}

TEST_CASE("reload plan: vrrp_version restarts the instances that follow it", "[reload_plan]") {
  auto v2 = load(file("vrrp_version = 2\n"));
  auto v3 = load(file("vrrp_version = 3\n"));
  auto plan = planReload(v2, v3);
  CHECK(stepOf(plan, "VI_1") == ReloadStep::restart);  // v2 -> v3 on the wire
  CHECK(stepOf(plan, "VI_V3") == ReloadStep::keep);    // its own version = 3
  CHECK(stepOf(plan, "VI_6") == ReloadStep::keep);     // IPv6 is always v3
  for (const auto& p : plan.instances) {
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
  for (const auto& p : plan.instances) {
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
  for (const auto& p : planReload(a, b).instances) CHECK(p.step == ReloadStep::restart);
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
  REQUIRE(plan.instances.size() == 3);
  CHECK(plan.instances.back().name == "VI_1");
  CHECK(plan.instances.back().step == ReloadStep::stop);
  auto back = planReload(b, a);
  CHECK(stepOf(back, "VI_1") == ReloadStep::start);
}

// ---- Every field has a decision, and the plan does what the decision says.

namespace {

using common::OnChange;
using test_support::expectedStep;
using test_support::fieldCount;
using test_support::Mutation;

EXPECT_DECIDED(vrrpd::InstanceSection, vrrpd::kInstanceSectionDecisions);
EXPECT_DECIDED(vrrpd::Vip, vrrpd::kVipDecisions);
EXPECT_DECIDED(vrrpd::TrackScriptRef, vrrpd::kTrackScriptRefDecisions);
EXPECT_DECIDED(vrrpd::TrackInterfaceRef, vrrpd::kTrackInterfaceRefDecisions);
EXPECT_DECIDED(vrrpd::ScriptRunAs, vrrpd::kScriptRunAsDecisions);
EXPECT_DECIDED(vrrpd::ScriptSection, vrrpd::kScriptSectionDecisions);
EXPECT_DECIDED(vrrpd::SyncGroupSection, vrrpd::kSyncGroupSectionDecisions);
EXPECT_DECIDED(vrrpd::GlobalSection, vrrpd::kGlobalSectionDecisions);
EXPECT_DECIDED(vrrpd::VrrpConfig, vrrpd::kVrrpConfigDecisions);
// globalsChange() names each field of InstanceGlobals in the log line.
static_assert(fieldCount<vrrpd::InstanceGlobals>() == 5,
              "InstanceGlobals: name the new field in globalsChange() (reload_plan.cc)");

// A value that differs from the one given, whatever the type.
using test_support::change;
void change(common::IpAddress& v) {
  v = *common::IpAddress::parse(v == *common::IpAddress::parse("192.0.2.9") ? "192.0.2.8"
                                                                            : "192.0.2.9");
}
void change(vrrpd::AuthType& v) {
  v = v == vrrpd::AuthType::pass ? vrrpd::AuthType::none : vrrpd::AuthType::pass;
}
void change(vrrpd::ScriptRunAs& v) {
  change(v.user);
}
template <class T>
void change(std::optional<T>& v) {
  if (v) {
    v.reset();
  } else {
    v.emplace();
    if constexpr (std::is_same_v<T, common::IpAddress>) change(*v);
  }
}
template <class T>
void change(std::vector<T>& v) {
  if (v.empty()) {
    v.emplace_back();
  } else {
    v.push_back(v.front());
  }
}
void change(std::vector<std::string>& v) {
  v.push_back("VI_X");
}

// Every section tracks and notifies, VI_1 tracks a script, VI_U is unicast.
const char* kFull =
    "[global]\nrouter_id = n1\n"
    "[vrrp_script chk]\nscript = /bin/true\ninterval = 1\nweight = 10\n"
    "[vrrp_script chk2]\nscript = /bin/true\ninterval = 2\n"
    "[vrrp_instance VI_1]\ninterface = lo\nvirtual_router_id = 51\n"
    "virtual_ipaddress = 192.0.2.100/24\ntrack_script = chk\ntrack_script = chk2\n"
    "track_interface = lo\nnotify_master = /bin/true\n"
    "[vrrp_instance VI_V3]\ninterface = lo\nvirtual_router_id = 52\nversion = 3\n"
    "virtual_ipaddress = 203.0.113.100/24\n"
    "[vrrp_instance VI_6]\ninterface = lo\nvirtual_router_id = 53\n"
    "virtual_ipaddress = 2001:db8::100/64\n"
    "[vrrp_instance VI_U]\ninterface = lo\nvirtual_router_id = 54\n"
    "unicast_src_ip = 192.0.2.1\nunicast_peer = 192.0.2.2\n"
    "virtual_ipaddress = 198.51.100.100/24\n"
    "[vrrp_sync_group G]\ngroup = VI_1 VI_V3\n";

ReloadStep scriptStep(const vrrpd::ReloadPlan& plan, const std::string& name) {
  for (const auto& p : plan.scripts) {
    if (p.name == name) return p.step;
  }
  FAIL("no script plan entry for " << name);
  return ReloadStep::keep;
}

// Changes each field of VI_1 (through `T& of(InstanceSection&)` for a
// nested struct) and checks the plan's step for VI_1 against the table.
template <class T, std::size_t N, class Of>
void checkInstanceFields(const std::array<common::FieldDecision, N>& table,
                         const std::vector<Mutation<T>>& mutations, Of of) {
  REQUIRE(mutations.size() == N);
  auto base = load(kFull);
  for (std::size_t i = 0; i < N; ++i) {
    INFO("field " << table[i].field);
    REQUIRE(mutations[i].field == table[i].field);
    auto next = base;
    mutations[i].apply(of(next.instances.front()));
    auto plan = planReload(base, next);
    if (table[i].on_change == OnChange::identity) {
      CHECK(stepOf(plan, "VI_1") == ReloadStep::stop);
      continue;
    }
    CHECK(stepOf(plan, "VI_1") == expectedStep(table[i].on_change));
    CHECK(stepOf(plan, "VI_V3") == ReloadStep::keep);
  }
}

}  // namespace

TEST_CASE("reload plan: the field counter counts fields", "[reload_plan]") {
  struct Three {
    int a = 0;
    std::string b;
    std::optional<vrrpd::ScriptRunAs> c;
  };
  STATIC_REQUIRE(fieldCount<Three>() == 3);
  STATIC_REQUIRE(fieldCount<vrrpd::ScriptRunAs>() == 2);
}

TEST_CASE("reload plan: every field of an instance section", "[reload_plan]") {
  using S = vrrpd::InstanceSection;
  checkInstanceFields<S>(vrrpd::kInstanceSectionDecisions,
                         {MUTATE(S, name),
                          MUTATE(S, line),
                          MUTATE(S, initial_master),
                          MUTATE(S, interface),
                          MUTATE(S, vrid),
                          MUTATE(S, priority),
                          MUTATE(S, advert_interval),
                          MUTATE(S, version),
                          MUTATE(S, preempt),
                          MUTATE(S, preempt_delay),
                          MUTATE(S, mcast_src_ip),
                          MUTATE(S, unicast_src_ip),
                          MUTATE(S, unicast_peers),
                          MUTATE(S, auth_type),
                          MUTATE(S, auth_pass),
                          MUTATE(S, vips),
                          MUTATE(S, track_scripts),
                          MUTATE(S, track_interfaces),
                          MUTATE(S, garp_master_delay),
                          MUTATE(S, garp_master_repeat),
                          MUTATE(S, garp_master_refresh),
                          MUTATE(S, garp_master_refresh_repeat),
                          MUTATE(S, notify_master),
                          MUTATE(S, notify_backup),
                          MUTATE(S, notify_fault),
                          MUTATE(S, notify_stop),
                          MUTATE(S, notify),
                          MUTATE(S, notify_master_as),
                          MUTATE(S, notify_backup_as),
                          MUTATE(S, notify_fault_as),
                          MUTATE(S, notify_stop_as),
                          MUTATE(S, notify_as)},
                         [](S& s) -> S& { return s; });
}

TEST_CASE("reload plan: every field of a VIP and of a tracked script or interface",
          "[reload_plan]") {
  using S = vrrpd::InstanceSection;
  using V = vrrpd::Vip;
  checkInstanceFields<V>(vrrpd::kVipDecisions,
                         {MUTATE(V, addr), MUTATE(V, prefix), MUTATE(V, dev), MUTATE(V, label),
                          MUTATE(V, scope), MUTATE(V, line)},
                         [](S& s) -> V& { return s.vips.front(); });
  using TS = vrrpd::TrackScriptRef;
  checkInstanceFields<TS>(vrrpd::kTrackScriptRefDecisions,
                          {MUTATE(TS, name), MUTATE(TS, weight), MUTATE(TS, line)},
                          [](S& s) -> TS& { return s.track_scripts.front(); });
  using TI = vrrpd::TrackInterfaceRef;
  checkInstanceFields<TI>(vrrpd::kTrackInterfaceRefDecisions,
                          {MUTATE(TI, name), MUTATE(TI, weight), MUTATE(TI, line)},
                          [](S& s) -> TI& { return s.track_interfaces.front(); });
  using R = vrrpd::ScriptRunAs;
  checkInstanceFields<R>(vrrpd::kScriptRunAsDecisions, {MUTATE(R, user), MUTATE(R, group)},
                         [](S& s) -> R& { return s.notify_master_as; });
}

TEST_CASE("reload plan: every field of a track script", "[reload_plan]") {
  using S = vrrpd::ScriptSection;
  const std::vector<Mutation<S>> mutations = {
      MUTATE(S, name),      MUTATE(S, script),  MUTATE(S, interval), MUTATE(S, timeout),
      MUTATE(S, weight),    MUTATE(S, reverse), MUTATE(S, fall),     MUTATE(S, rise),
      MUTATE(S, init_fail), MUTATE(S, user),    MUTATE(S, group),    MUTATE(S, line)};
  const auto& table = vrrpd::kScriptSectionDecisions;
  REQUIRE(mutations.size() == table.size());
  auto base = load(kFull);
  REQUIRE(base.scripts.front().name == "chk");
  {
    auto plan = planReload(base, base);
    REQUIRE(plan.scripts.size() == 2);
    CHECK(scriptStep(plan, "chk") == ReloadStep::keep);
  }
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO("field " << table[i].field);
    REQUIRE(mutations[i].field == table[i].field);
    auto next = base;
    mutations[i].apply(next.scripts.front());
    auto plan = planReload(base, next);
    // The instances are kept whatever the script does: they only take its
    // new state and weight.
    for (const auto& p : plan.instances) CHECK(p.step == ReloadStep::keep);
    CHECK(scriptStep(plan, "chk2") == ReloadStep::keep);
    if (table[i].on_change == OnChange::identity) {
      // VI_1 still tracks "chk", which no longer exists (the loader would
      // say so): the running one stops.
      CHECK(scriptStep(plan, "chk") == ReloadStep::stop);
      continue;
    }
    CHECK(scriptStep(plan, "chk") == expectedStep(table[i].on_change));
  }
}

TEST_CASE("reload plan: track scripts start and stop with the instances tracking them",
          "[reload_plan]") {
  auto base = load(kFull);
  auto next = base;
  next.instances.front().track_scripts.pop_back();  // VI_1 no longer tracks chk2
  auto plan = planReload(base, next);
  CHECK(scriptStep(plan, "chk2") == ReloadStep::stop);
  CHECK(scriptStep(plan, "chk") == ReloadStep::keep);
  CHECK(scriptStep(planReload(next, base), "chk2") == ReloadStep::start);
  // A script nobody tracks is never run: no entry.
  for (const auto& p : plan.scripts) CHECK(p.name != "chk2x");
}

TEST_CASE("reload plan: every [global] value goes to who reads it", "[reload_plan]") {
  using G = vrrpd::GlobalSection;
  const std::vector<Mutation<G>> mutations = {MUTATE(G, router_id),
                                              MUTATE(G, run_dir),
                                              MUTATE(G, script_user),
                                              MUTATE(G, script_group),
                                              MUTATE(G, enable_script_security),
                                              MUTATE(G, vrrp_version),
                                              MUTATE(G, skip_check_adv_addr),
                                              MUTATE(G, check_unicast_src),
                                              MUTATE(G, v3_checksum_as_v2),
                                              MUTATE(G, garp_interval),
                                              MUTATE(G, gna_interval),
                                              MUTATE(G, notify_fifo),
                                              MUTATE(G, notify_timeout),
                                              MUTATE(G, script_max_processes)};
  const auto& table = vrrpd::kGlobalSectionDecisions;
  REQUIRE(mutations.size() == table.size());
  auto base = load(kFull);
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO("[global] " << table[i].field);
    REQUIRE(mutations[i].field == table[i].field);
    auto next = base;
    mutations[i].apply(next.global);
    auto plan = planReload(base, next);
    std::size_t restarted = 0;
    for (const auto& p : plan.instances) restarted += p.step == ReloadStep::restart;
    std::size_t scripts_restarted = 0;
    for (const auto& p : plan.scripts) scripts_restarted += p.step == ReloadStep::restart;
    switch (table[i].reader) {
      case vrrpd::GlobalReader::daemon:
        CHECK(restarted == 0);
        CHECK(scripts_restarted == 0);
        break;
      case vrrpd::GlobalReader::instances:
        // Only the instances it applies to (globalsFor): at least one, not all.
        CHECK(restarted > 0);
        CHECK(restarted <= plan.instances.size());
        CHECK(scripts_restarted == 0);
        break;
      case vrrpd::GlobalReader::track_scripts:
        CHECK(restarted == 0);
        CHECK(scripts_restarted == plan.scripts.size());
        break;
    }
  }
}

TEST_CASE("reload plan: sync groups and the file's path restart nothing", "[reload_plan]") {
  using SG = vrrpd::SyncGroupSection;
  const std::vector<Mutation<SG>> mutations = {MUTATE(SG, name),
                                               MUTATE(SG, members),
                                               MUTATE(SG, notify_master),
                                               MUTATE(SG, notify_backup),
                                               MUTATE(SG, notify_fault),
                                               MUTATE(SG, notify),
                                               MUTATE(SG, notify_master_as),
                                               MUTATE(SG, notify_backup_as),
                                               MUTATE(SG, notify_fault_as),
                                               MUTATE(SG, notify_as),
                                               MUTATE(SG, line)};
  const auto& table = vrrpd::kSyncGroupSectionDecisions;
  REQUIRE(mutations.size() == table.size());
  auto base = load(kFull);
  REQUIRE(base.sync_groups.size() == 1);
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO("[vrrp_sync_group] " << table[i].field);
    REQUIRE(mutations[i].field == table[i].field);
    REQUIRE(table[i].on_change != OnChange::restart);
    auto next = base;
    mutations[i].apply(next.sync_groups.front());
    REQUIRE_FALSE(next == base);
    auto plan = planReload(base, next);
    for (const auto& p : plan.instances) CHECK(p.step == ReloadStep::keep);
    for (const auto& p : plan.scripts) CHECK(p.step == ReloadStep::keep);
  }
  auto moved = base;
  moved.path += ".new";
  for (const auto& p : planReload(base, moved).instances) CHECK(p.step == ReloadStep::keep);
}
