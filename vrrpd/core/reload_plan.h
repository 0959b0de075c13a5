// What a HUP does to each instance and track script (DESIGN.md "Reload is a
// diff, computed purely"): a pure function of the running and the new
// configuration, compared by value with defaulted operator==, never by a
// hand-written fingerprint (the last one forgot [global] twice: vrrp_version
// and v3_checksum_as_v2, so a kept instance sent v2 after a switch to v3, and
// encoded its checksum one way while the daemon decoded the other).
//
// Every field of every struct the plan reads has a row in a decision table
// below; tests/unit/vrrpd/reload_plan_test.cc counts the fields of each
// struct at compile time and checks each row against what the plan does.
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "common/reload_step.h"
#include "vrrpd/core/config.h"
#include "vrrpd/core/script_policy.h"

namespace vrrpd {

using common::FieldDecision;
using common::OnChange;
using common::ReloadStep;
using common::reloadStepName;

// The [global] values a running instance is built with, already resolved for
// that instance. The instance sees nothing else of [global] (its constructor
// takes this), so a value it starts to depend on is added here and the plan
// compares it without being told.
struct InstanceGlobals {
  int version = 2;                 // vrrp_version unless the section or IPv6 VIPs decide
  bool v3_checksum_as_v2 = false;  // only read by v3 over IPv4 (send and receive)
  bool skip_check_adv_addr = false;
  bool check_unicast_src = false;                  // only read in unicast mode
  std::chrono::milliseconds announce_interval{0};  // vrrp_garp_interval / vrrp_gna_interval
  bool operator==(const InstanceGlobals&) const = default;
};
InstanceGlobals globalsFor(const InstanceSection& sec, const GlobalSection& global);

// instances: keep (same section, same globals: keeps its state and VIPs, a
// master adverts at once), restart (stopped with priority 0 and its VIPs
// removed, then started from the new section), start, stop.
struct InstancePlan {
  std::string name;
  ReloadStep step = ReloadStep::keep;
  std::string why;  // for the log: what changed
  bool operator==(const InstancePlan&) const = default;
};

// Track scripts that some instance tracks: keep (runs and judges the same
// way: keeps its OK/failed state, no flap), update (kept, the instances
// read its new weight), restart (a fresh script: OK unless init_fail),
// start, stop (no instance tracks it any more).
struct ScriptPlan {
  std::string name;
  ReloadStep step = ReloadStep::keep;
  bool operator==(const ScriptPlan&) const = default;
};

struct ReloadPlan {
  std::vector<InstancePlan> instances;
  std::vector<ScriptPlan> scripts;
};

// One entry per instance of `running` or `next`: first the instances of
// `next` in file order, then the ones that are gone; the same for the track
// scripts, in the order the instances track them. Where a key was written
// (its line) is not a change: a comment added above a section keeps it.
ReloadPlan planReload(const VrrpConfig& running, const VrrpConfig& next);

// ---- Decision tables: one row per field, in declaration order.

inline constexpr std::array kInstanceSectionDecisions = {
    FieldDecision{"name", OnChange::identity, ""},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
    FieldDecision{"initial_master", OnChange::restart, "instance"},
    FieldDecision{"interface", OnChange::restart, "instance, socket"},
    FieldDecision{"vrid", OnChange::restart, "instance"},
    FieldDecision{"priority", OnChange::restart, "instance"},
    FieldDecision{"advert_interval", OnChange::restart, "instance"},
    FieldDecision{"version", OnChange::restart, "instance (InstanceGlobals::version)"},
    FieldDecision{"preempt", OnChange::restart, "instance"},
    FieldDecision{"preempt_delay", OnChange::restart, "instance"},
    FieldDecision{"mcast_src_ip", OnChange::restart, "instance"},
    FieldDecision{"unicast_src_ip", OnChange::restart, "instance"},
    FieldDecision{"unicast_peers", OnChange::restart, "instance"},
    FieldDecision{"auth_type", OnChange::restart, "instance"},
    FieldDecision{"auth_pass", OnChange::restart, "instance"},
    FieldDecision{"vips", OnChange::restart, "instance (kVipDecisions)"},
    FieldDecision{"track_scripts", OnChange::restart, "instance (kTrackScriptRefDecisions)"},
    FieldDecision{"track_interfaces", OnChange::restart, "instance (kTrackInterfaceRefDecisions)"},
    FieldDecision{"garp_master_delay", OnChange::restart, "instance"},
    FieldDecision{"garp_master_repeat", OnChange::restart, "instance"},
    FieldDecision{"garp_master_refresh", OnChange::restart, "instance"},
    FieldDecision{"garp_master_refresh_repeat", OnChange::restart, "instance"},
    FieldDecision{"notify_master", OnChange::restart, "instance"},
    FieldDecision{"notify_backup", OnChange::restart, "instance"},
    FieldDecision{"notify_fault", OnChange::restart, "instance"},
    FieldDecision{"notify_stop", OnChange::restart, "instance"},
    FieldDecision{"notify", OnChange::restart, "instance"},
    FieldDecision{"notify_master_as", OnChange::restart, "instance (kScriptRunAsDecisions)"},
    FieldDecision{"notify_backup_as", OnChange::restart, "instance"},
    FieldDecision{"notify_fault_as", OnChange::restart, "instance"},
    FieldDecision{"notify_stop_as", OnChange::restart, "instance"},
    FieldDecision{"notify_as", OnChange::restart, "instance"},
};

inline constexpr std::array kVipDecisions = {
    FieldDecision{"addr", OnChange::restart, "instance"},
    FieldDecision{"prefix", OnChange::restart, "instance"},
    FieldDecision{"dev", OnChange::restart, "instance"},
    FieldDecision{"label", OnChange::restart, "instance"},
    FieldDecision{"scope", OnChange::restart, "instance"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

inline constexpr std::array kTrackScriptRefDecisions = {
    FieldDecision{"name", OnChange::restart, "instance"},
    FieldDecision{"weight", OnChange::restart, "instance"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

inline constexpr std::array kTrackInterfaceRefDecisions = {
    FieldDecision{"name", OnChange::restart, "instance"},
    FieldDecision{"weight", OnChange::restart, "instance"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

inline constexpr std::array kScriptRunAsDecisions = {
    FieldDecision{"user", OnChange::restart, "the instance whose notify script it is"},
    FieldDecision{"group", OnChange::restart, "the instance whose notify script it is"},
};

// A track script restarts when the way it runs or is judged changes; its
// weight is the tracking instances' business, read again on every reload.
inline constexpr std::array kScriptSectionDecisions = {
    FieldDecision{"name", OnChange::identity, ""},
    FieldDecision{"script", OnChange::restart, "track script"},
    FieldDecision{"interval", OnChange::restart, "track script"},
    FieldDecision{"timeout", OnChange::restart, "track script"},
    FieldDecision{"weight", OnChange::update, "the tracking instances"},
    FieldDecision{"reverse", OnChange::update, "the tracking instances (the weight's sign)"},
    FieldDecision{"fall", OnChange::restart, "track script"},
    FieldDecision{"rise", OnChange::restart, "track script"},
    FieldDecision{"init_fail", OnChange::restart, "track script"},
    FieldDecision{"user", OnChange::restart, "track script"},
    FieldDecision{"group", OnChange::restart, "track script"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

// Sync groups hold no state of their own: Daemon::syncGroups() reads the
// members from the running configuration at every state change. Their
// notify scripts are loaded but not run yet.
inline constexpr std::array kSyncGroupSectionDecisions = {
    FieldDecision{"name", OnChange::update, "read live"},
    FieldDecision{"members", OnChange::update, "read live"},
    FieldDecision{"notify_master", OnChange::nothing, "not run yet"},
    FieldDecision{"notify_backup", OnChange::nothing, "not run yet"},
    FieldDecision{"notify_fault", OnChange::nothing, "not run yet"},
    FieldDecision{"notify", OnChange::nothing, "not run yet"},
    FieldDecision{"notify_master_as", OnChange::nothing, "not run yet"},
    FieldDecision{"notify_backup_as", OnChange::nothing, "not run yet"},
    FieldDecision{"notify_fault_as", OnChange::nothing, "not run yet"},
    FieldDecision{"notify_as", OnChange::nothing, "not run yet"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

// [global]: who reads each value. The instances it applies to restart
// (through InstanceGlobals), or every track script does (through
// ScriptPolicy; the notify scripts' Notifier takes the new policy without a
// restart), or the daemon reads it live and nothing restarts.
enum class GlobalReader { daemon, instances, track_scripts };
struct GlobalDecision {
  std::string_view field;
  GlobalReader reader;
  std::string_view why;
};
inline constexpr std::array kGlobalSectionDecisions = {
    GlobalDecision{"router_id", GlobalReader::daemon, "the state file"},
    GlobalDecision{"run_dir", GlobalReader::daemon, "the state file's path"},
    GlobalDecision{"script_user", GlobalReader::track_scripts, "ScriptPolicy"},
    GlobalDecision{"script_group", GlobalReader::track_scripts, "ScriptPolicy"},
    GlobalDecision{"enable_script_security", GlobalReader::track_scripts, "ScriptPolicy"},
    GlobalDecision{"vrrp_version", GlobalReader::instances, "InstanceGlobals::version"},
    GlobalDecision{"skip_check_adv_addr", GlobalReader::instances, "InstanceGlobals"},
    GlobalDecision{"check_unicast_src", GlobalReader::instances, "InstanceGlobals (unicast)"},
    GlobalDecision{"v3_checksum_as_v2", GlobalReader::instances, "InstanceGlobals (v3, IPv4)"},
    GlobalDecision{"garp_interval", GlobalReader::instances, "InstanceGlobals (IPv4)"},
    GlobalDecision{"gna_interval", GlobalReader::instances, "InstanceGlobals (IPv6)"},
    GlobalDecision{"notify_fifo", GlobalReader::daemon, "not supported yet: a warning"},
    GlobalDecision{"notify_timeout", GlobalReader::track_scripts, "ScriptPolicy"},
    GlobalDecision{"script_max_processes", GlobalReader::track_scripts, "ScriptPolicy"},
};

inline constexpr std::array kVrrpConfigDecisions = {
    FieldDecision{"path", OnChange::nothing, "a reload reads the same file"},
    FieldDecision{"global", OnChange::update, "kGlobalSectionDecisions"},
    FieldDecision{"scripts", OnChange::update, "ScriptPlan (kScriptSectionDecisions)"},
    FieldDecision{"instances", OnChange::update, "InstancePlan (kInstanceSectionDecisions)"},
    FieldDecision{"sync_groups", OnChange::update, "kSyncGroupSectionDecisions"},
};

}  // namespace vrrpd
