// vrrpd.ini as loaded (DESIGN.md): [global], [vrrp_script NAME],
// [vrrp_instance NAME], [vrrp_sync_group NAME]. Keys carry keepalived's
// names; every problem is reported as FILE:LINE, host-dependent ones
// (missing interface, script, script user) as warnings.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/host.h"
#include "common/ini_file.h"
#include "common/ip_address.h"
#include "vrrpd/core/vip.h"
#include "vrrpd/core/vrrp_packet.h"

namespace vrrpd {

// Notify scripts: how long one may run (then SIGTERM, SIGKILL after 2 s).
inline constexpr std::chrono::milliseconds kDefaultNotifyTimeout{10000};
inline constexpr std::chrono::milliseconds kMaxScriptTimeout{3600000};
// RLIMIT_NPROC of a script user (every process of that user counts).
inline constexpr int kDefaultScriptMaxProcesses = 64;
inline constexpr int kMaxScriptMaxProcesses = 4096;

// `user = NAME [GROUP]`: who a script runs as (empty: the global script_user).
struct ScriptRunAs {
  std::string user, group;
  bool operator==(const ScriptRunAs&) const = default;
};

struct GlobalSection {
  std::string router_id;               // default: the host name
  std::string run_dir = "/run/vrrpd";  // pid file, state.json, control socket
  std::string script_user;             // empty: vrrpd_script if it exists, else root (warning)
  std::string script_group;            // empty: the script user's own group
  bool enable_script_security = false;
  int vrrp_version = 2;
  bool skip_check_adv_addr = false;  // vrrp_skip_check_adv_addr
  // vrrp_check_unicast_src: in unicast mode, drop adverts whose sender is
  // not a unicast_peer (off by default, as in keepalived).
  bool check_unicast_src = false;
  bool v3_checksum_as_v2 = false;
  std::chrono::milliseconds garp_interval{0};  // vrrp_garp_interval: gap between GARPs of a burst
  std::chrono::milliseconds gna_interval{0};   // vrrp_gna_interval: same for NAs
  std::string notify_fifo;                     // not supported yet: a warning
  std::chrono::milliseconds notify_timeout = kDefaultNotifyTimeout;
  int script_max_processes = kDefaultScriptMaxProcesses;
  bool operator==(const GlobalSection&) const = default;
};

struct ScriptSection {
  std::string name;
  std::string script;  // command line, run through /bin/sh -c
  std::chrono::milliseconds interval{1000};
  std::optional<std::chrono::milliseconds> timeout;  // default: interval
  int weight = 0;                                    // -253..253
  bool reverse = false;
  int fall = 1;
  int rise = 1;
  bool init_fail = false;
  std::string user;   // per-script `user`, else global script_user
  std::string group;  // `user = NAME GROUP`
  int line = 0;
  bool operator==(const ScriptSection&) const = default;
};

struct TrackScriptRef {
  std::string name;
  std::optional<int> weight;  // overrides the script's
  int line = 0;
  bool operator==(const TrackScriptRef&) const = default;
};

struct TrackInterfaceRef {
  std::string name;
  int weight = 0;  // 0: down -> FAULT
  int line = 0;
  bool operator==(const TrackInterfaceRef&) const = default;
};

struct InstanceSection {
  std::string name;
  int line = 0;
  bool initial_master = false;  // state = MASTER | BACKUP
  std::string interface;
  int vrid = 0;                                     // virtual_router_id, 1..255
  int priority = 100;                               // 1..255
  std::chrono::milliseconds advert_interval{1000};  // advert_int (seconds, decimals allowed)
  int version = 0;                                  // 0: global vrrp_version (IPv6 VIPs force 3)
  bool preempt = true;                              // nopreempt = yes -> false
  std::chrono::milliseconds preempt_delay{0};
  std::optional<common::IpAddress> mcast_src_ip;
  std::optional<common::IpAddress> unicast_src_ip;
  std::vector<common::IpAddress> unicast_peers;
  AuthType auth_type = AuthType::none;
  std::string auth_pass;
  std::vector<Vip> vips;  // virtual_ipaddress
  std::vector<TrackScriptRef> track_scripts;
  std::vector<TrackInterfaceRef> track_interfaces;
  std::chrono::milliseconds garp_master_delay{5000};
  int garp_master_repeat = 5;
  std::chrono::milliseconds garp_master_refresh{0};
  int garp_master_refresh_repeat = 1;
  std::string notify_master, notify_backup, notify_fault, notify_stop, notify;
  // notify_master_user = NAME [GROUP], ... (keepalived's `notify_master
  // SCRIPT [username [groupname]]`)
  ScriptRunAs notify_master_as, notify_backup_as, notify_fault_as, notify_stop_as, notify_as;

  bool unicast() const { return !unicast_peers.empty(); }
  int effectiveVersion(int global_version) const;  // IPv6 VIPs force 3
  // By value, every field (reload_plan.h decides with it).
  bool operator==(const InstanceSection&) const = default;
};

struct SyncGroupSection {
  std::string name;
  std::vector<std::string> members;  // group = VI_1 VI_2
  std::string notify_master, notify_backup, notify_fault, notify;
  ScriptRunAs notify_master_as, notify_backup_as, notify_fault_as, notify_as;
  int line = 0;
  bool operator==(const SyncGroupSection&) const = default;
};

struct VrrpConfig {
  std::string path;
  GlobalSection global;
  std::vector<ScriptSection> scripts;
  std::vector<InstanceSection> instances;
  std::vector<SyncGroupSection> sync_groups;

  const ScriptSection* findScript(const std::string& name) const;
  const InstanceSection* findInstance(const std::string& name) const;
  bool operator==(const VrrpConfig&) const = default;
};

// Loads and checks `path`. Problems go to `diag`. What depends on the
// machine (interfaces, addresses, users, scripts) is asked of `host` and is a
// warning when missing.
VrrpConfig loadVrrpConfig(const std::string& path, common::Diagnostics& diag,
                          const common::Host& host = common::realHost());
VrrpConfig parseVrrpConfig(std::string_view text, const std::string& path,
                           common::Diagnostics& diag,
                           const common::Host& host = common::realHost());

}  // namespace vrrpd
