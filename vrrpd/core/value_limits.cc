#include "vrrpd/core/value_limits.h"

#include "vrrpd/core/config.h"

namespace vrrpd {
namespace {

using common::TextKey;
using common::ValueKind;
using common::ValueLimit;

constexpr ValueKind count = ValueKind::count;
constexpr ValueKind duration = ValueKind::duration;

// keepalived's own ranges (keepalived -t names them: "number '4295' outside
// range [0, 4294]"), so that every keepalived.conf it accepts imports; the
// durations are milliseconds, our resolution.
constexpr std::int64_t kUintSeconds = 4294;  // keepalived: UINT_MAX microseconds
constexpr ValueLimit kLimits[] = {
    // [global]
    {"global", "vrrp_version", "", count, 2, 3, "RFC 3768, RFC 5798"},
    {"global", "vrrp_garp_interval", "", duration, 0, 4294967, "keepalived: 4294.967295 s"},
    {"global", "vrrp_gna_interval", "", duration, 0, 4294967, "keepalived: 4294.967295 s"},
    // Our own: a notify is one process per transition, kept in order.
    {"global", "notify_timeout", "", duration, 1, kMaxScriptTimeout.count(), "an hour"},
    {"global", "script_max_processes", "", count, 1, kMaxScriptMaxProcesses, "RLIMIT_NPROC"},
    // [vrrp_script NAME]
    {"vrrp_script", "interval", "", duration, 1, kUintSeconds * 1000, "keepalived: 1 to 4294 s"},
    {"vrrp_script", "timeout", "", duration, 1, kUintSeconds * 1000, "keepalived: 4294 s"},
    {"vrrp_script", "weight", "", count, -253, 253, "keepalived"},
    {"vrrp_script", "fall", "", count, 1, 2147483647, "keepalived"},
    {"vrrp_script", "rise", "", count, 1, 2147483647, "keepalived"},
    // [vrrp_instance NAME]
    {"vrrp_instance", "virtual_router_id", "", count, 1, 255, "RFC 5798"},
    {"vrrp_instance", "priority", "", count, 1, 255, "RFC 5798 (0 is sent on stop)"},
    // VRRPv2 carries whole seconds up to 255, VRRPv3 centiseconds up to 40.95:
    // checked once the version is known.
    {"vrrp_instance", "advert_int", "", duration, 10, 255000, "RFC 3768, RFC 5798"},
    {"vrrp_instance", "version", "", count, 2, 3, "RFC 3768, RFC 5798"},
    {"vrrp_instance", "preempt_delay", "", duration, 0, 1000000, "keepalived: 1000 s"},
    {"vrrp_instance", "garp_master_delay", "", duration, 0, kUintSeconds * 1000,
     "keepalived: 4294 s"},
    {"vrrp_instance", "garp_master_repeat", "", count, 1, 255, "a burst, not a flood"},
    {"vrrp_instance", "garp_master_refresh", "", duration, 0, 4294967295LL * 1000,
     "keepalived: UINT_MAX s; 0: off"},
    {"vrrp_instance", "garp_master_refresh_repeat", "", count, 1, 255, "a burst, not a flood"},
    {"vrrp_instance", "track_script", "weight", count, -253, 253, "keepalived"},
    {"vrrp_instance", "track_interface", "weight", count, -253, 253, "keepalived"},
};

constexpr TextKey kText[] = {
    {"global", "router_id"},
    {"global", "run_dir"},
    {"global", "script_user"},
    {"global", "enable_script_security"},
    {"global", "vrrp_skip_check_adv_addr"},
    {"global", "vrrp_check_unicast_src"},
    {"global", "v3_checksum_as_v2"},
    {"global", "notify_fifo"},
    {"vrrp_script", "script"},
    {"vrrp_script", "init_fail"},
    {"vrrp_script", "user"},
    {"vrrp_instance", "state"},
    {"vrrp_instance", "interface"},
    {"vrrp_instance", "nopreempt"},
    {"vrrp_instance", "mcast_src_ip"},
    {"vrrp_instance", "unicast_src_ip"},
    {"vrrp_instance", "unicast_peer"},
    {"vrrp_instance", "auth_type"},
    {"vrrp_instance", "auth_pass"},
    {"vrrp_instance", "virtual_ipaddress"},
    {"vrrp_instance", "notify_master"},
    {"vrrp_instance", "notify_backup"},
    {"vrrp_instance", "notify_fault"},
    {"vrrp_instance", "notify_stop"},
    {"vrrp_instance", "notify"},
    {"vrrp_instance", "notify_master_user"},
    {"vrrp_instance", "notify_backup_user"},
    {"vrrp_instance", "notify_fault_user"},
    {"vrrp_instance", "notify_stop_user"},
    {"vrrp_instance", "notify_user"},
    {"vrrp_sync_group", "group"},
    {"vrrp_sync_group", "notify_master"},
    {"vrrp_sync_group", "notify_backup"},
    {"vrrp_sync_group", "notify_fault"},
    {"vrrp_sync_group", "notify"},
    {"vrrp_sync_group", "notify_master_user"},
    {"vrrp_sync_group", "notify_backup_user"},
    {"vrrp_sync_group", "notify_fault_user"},
    {"vrrp_sync_group", "notify_user"},
};

}  // namespace

std::span<const common::ValueLimit> valueLimits() {
  return kLimits;
}

std::span<const common::TextKey> textKeys() {
  return kText;
}

const common::ValueLimit& limitOf(std::string_view section, std::string_view key,
                                  std::string_view option) {
  return common::findLimit(kLimits, section, key, option);
}

}  // namespace vrrpd
