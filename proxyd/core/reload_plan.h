// What a HUP does to each listening address, upstream group and the status
// page (DESIGN.md "Reload is a diff, computed purely"): a pure function of
// the running and the new configuration, compared by value with defaulted
// operator==. Proxy::reload() carries it out: it opens what starts, takes
// over what is kept and closes what stops, once everything new is ready.
//
// Every field of every struct the plan reads has a row in a decision table
// below; tests/unit/proxyd/reload_plan_test.cc counts the fields of each
// struct at compile time and checks each row against what the plan does.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/reload_step.h"
#include "proxyd/core/config.h"

namespace proxyd {

using common::FieldDecision;
using common::OnChange;
using common::ReloadStep;

// A listening address: keep (same socket, same [server] and what it uses),
// update (same socket, so queued connections survive; new sessions take the
// changed [server], upstream group or log format), start (opened before
// anything changes: a bind error rejects the reload), stop (closed).
// Running sessions keep the block they were accepted with either way.
struct ListenStep {
  common::SocketAddress addr;
  std::string server;  // its default [server] (the old one for stop)
  ReloadStep step = ReloadStep::keep;
  ListenDirective listen;  // the socket: transport and parameters (listen.h)
  bool operator==(const ListenStep&) const = default;
};

// An upstream group: keep (its live state goes on: failures, connections,
// health and the health checker), restart (the same name with another
// section: fresh state), start, stop.
struct GroupStep {
  std::string name;
  ReloadStep step = ReloadStep::keep;
  bool operator==(const GroupStep&) const = default;
};

struct ReloadPlan {
  std::vector<ListenStep> listeners;  // the new file's in order, then the closed ones
  std::vector<GroupStep> groups;      // likewise
  // The status page: keep, update (same socket, new allow/deny), restart
  // (another address: a new socket), start, stop; none without one.
  std::optional<ReloadStep> status;
  bool rlimit_changed = false;  // worker_rlimit_nofile: set again
};

ReloadPlan planReload(const ProxyConfig& running, const ProxyConfig& next);

// ---- Decision tables: one row per field, in declaration order.

inline constexpr std::array kProxyConfigDecisions = {
    FieldDecision{"path", OnChange::nothing, "a reload reads the file proxyd started with"},
    FieldDecision{"prefix", OnChange::nothing, "a reload keeps the running prefix"},
    FieldDecision{"main", OnChange::update, "kMainSectionDecisions"},
    FieldDecision{"status", OnChange::update, "ReloadPlan::status"},
    FieldDecision{"log_format_text", OnChange::update, "the listeners whose access log uses it"},
    FieldDecision{"log_format_escape", OnChange::update, "the listeners whose access log uses it"},
    FieldDecision{"upstreams", OnChange::update, "GroupStep (kUpstreamSectionDecisions)"},
    FieldDecision{"servers", OnChange::update, "ListenStep (kServerSectionDecisions)"},
    FieldDecision{"variables", OnChange::update, "every listener takes the new table"},
};

// [main]: read by the process, none of it restarts a listener or a group.
inline constexpr std::array kMainSectionDecisions = {
    FieldDecision{"worker_processes", OnChange::nothing, "the next start (a warning says so)"},
    FieldDecision{"worker_connections", OnChange::update, "every worker, at every reload"},
    FieldDecision{"error_log", OnChange::update, "the main log: level, and reopened if moved"},
    FieldDecision{"pid_path", OnChange::nothing, "written once at start"},
    FieldDecision{"worker_rlimit_nofile", OnChange::update, "ReloadPlan::rlimit_changed"},
    FieldDecision{"worker_shutdown_timeout", OnChange::update, "read when QUIT comes"},
    FieldDecision{"limit_conn_zones", OnChange::update,
                  "kLimitConnZoneSpecDecisions: the zones new sessions count in"},
    FieldDecision{"resolver", OnChange::update,
                  "inherited by the [server]s and [upstream]s, which decide"},
};

// A zone of the same name and size is taken over with its counts (nginx
// reuses such a shared zone); running sessions give theirs back to the
// zone they counted in.
inline constexpr std::array kLimitConnZoneSpecDecisions = {
    FieldDecision{"name", OnChange::identity, "another zone"},
    FieldDecision{"key", OnChange::update, "a new key of a kept zone rejects the reload (nginx)"},
    FieldDecision{"size", OnChange::update, "a fresh zone: counts start at 0, as nginx's"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

inline constexpr std::array kLogTargetDecisions = {
    FieldDecision{"path", OnChange::update, "the log is opened anew"},
    FieldDecision{"level", OnChange::update, "the log is opened anew"},
    FieldDecision{"syslog", OnChange::update, "the log is opened anew (kSyslogTargetDecisions)"},
};

// A syslog destination: a new sender (socket) replaces the old one.
inline constexpr std::array kSyslogTargetDecisions = {
    FieldDecision{"text", OnChange::update, "a new sender"},
    FieldDecision{"server", OnChange::update, "a new sender"},
    FieldDecision{"unix_path", OnChange::update, "a new sender"},
    FieldDecision{"facility", OnChange::update, "a new sender"},
    FieldDecision{"severity", OnChange::update, "a new sender"},
    FieldDecision{"tag", OnChange::update, "a new sender"},
    FieldDecision{"nohostname", OnChange::update, "a new sender"},
};

inline constexpr std::array kStatusSectionDecisions = {
    FieldDecision{"listen", OnChange::restart, "the status page's socket"},
    FieldDecision{"rules", OnChange::update, "the running page takes them"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

inline constexpr std::array kAccessRuleDecisions = {
    FieldDecision{"allow", OnChange::update, "the listener or status page"},
    FieldDecision{"cidr", OnChange::update, "the listener or status page"},
};

// A group restarts on any change to its section: the text as written
// included, so an equivalent rewrite starts afresh as well.
inline constexpr std::array kUpstreamSectionDecisions = {
    FieldDecision{"name", OnChange::identity, ""},
    FieldDecision{"method", OnChange::restart, "the group"},
    FieldDecision{"hash_key", OnChange::restart, "the group"},
    FieldDecision{"servers", OnChange::restart, "the group (kUpstreamServerDecisions)"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
    FieldDecision{"health_check", OnChange::restart, "the group and its checker"},
    FieldDecision{"source_text", OnChange::restart, "the group"},
    FieldDecision{"resolver", OnChange::restart, "the group, resolved afresh"},
    FieldDecision{"zone", OnChange::restart, "the group (ignored otherwise: threads share state)"},
};

inline constexpr std::array kUpstreamServerDecisions = {
    FieldDecision{"name", OnChange::restart, "the group"},
    FieldDecision{"addrs", OnChange::restart, "the group (a name that resolves otherwise)"},
    FieldDecision{"weight", OnChange::restart, "the group"},
    FieldDecision{"max_fails", OnChange::restart, "the group"},
    FieldDecision{"fail_timeout", OnChange::restart, "the group"},
    FieldDecision{"max_conns", OnChange::restart, "the group"},
    FieldDecision{"backup", OnChange::restart, "the group"},
    FieldDecision{"down", OnChange::restart, "the group"},
    FieldDecision{"resolve", OnChange::restart, "the group"},
    FieldDecision{"service", OnChange::restart, "the group"},
    FieldDecision{"host", OnChange::restart, "the group"},
    FieldDecision{"port", OnChange::restart, "the group"},
};

inline constexpr std::array kHealthCheckOptionsDecisions = {
    FieldDecision{"interval", OnChange::restart, "the group and its checker"},
    FieldDecision{"timeout", OnChange::restart, "the group and its checker"},
    FieldDecision{"fall", OnChange::restart, "the group and its checker"},
    FieldDecision{"rise", OnChange::restart, "the group and its checker"},
    FieldDecision{"type", OnChange::restart, "the group and its checker"},
    FieldDecision{"uri", OnChange::restart, "the group and its checker"},
    FieldDecision{"expect_min", OnChange::restart, "the group and its checker"},
    FieldDecision{"expect_max", OnChange::restart, "the group and its checker"},
    FieldDecision{"expect_text", OnChange::restart, "the group and its checker"},
    FieldDecision{"sni", OnChange::restart, "the group and its checker"},
    FieldDecision{"verify", OnChange::restart, "the group and its checker"},
    FieldDecision{"ca", OnChange::restart, "the group and its checker"},
    FieldDecision{"cert", OnChange::restart, "the group and its checker"},
    FieldDecision{"key", OnChange::restart, "the group and its checker"},
    FieldDecision{"mandatory", OnChange::restart, "the group and its checker"},
};

// A [server] only restarts what listens where it no longer does; the rest
// goes to new sessions through its listeners (the block is rebuilt at
// every reload, its counters kept by name).
inline constexpr std::array kServerSectionDecisions = {
    FieldDecision{"name", OnChange::update, "the listeners (counters by name)"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
    FieldDecision{"listen", OnChange::restart, "a gone address stops, a new one starts"},
    FieldDecision{"proxy_pass", OnChange::update, "the listeners (with variables: any group)"},
    FieldDecision{"sets", OnChange::update, "the listeners (kSetDirectiveDecisions)"},
    FieldDecision{"return_text", OnChange::update, "the listeners"},
    FieldDecision{"pass", OnChange::update, "the listeners"},
    FieldDecision{"connect_timeout", OnChange::update, "the listeners"},
    FieldDecision{"timeout", OnChange::update, "the listeners"},
    FieldDecision{"buffer_size", OnChange::update, "the listeners"},
    FieldDecision{"half_close", OnChange::update, "the listeners"},
    FieldDecision{"next_upstream", OnChange::update, "the listeners"},
    FieldDecision{"next_upstream_tries", OnChange::update, "the listeners"},
    FieldDecision{"next_upstream_timeout", OnChange::update, "the listeners"},
    FieldDecision{"access_logs", OnChange::update, "the listeners (kAccessLogTargetDecisions)"},
    FieldDecision{"error_log", OnChange::update, "the listeners (kLogTargetDecisions)"},
    FieldDecision{"access_rules", OnChange::update, "the listeners (kAccessRuleDecisions)"},
    FieldDecision{"server_names", OnChange::update, "the listeners of its addresses (SNI choice)"},
    FieldDecision{"ssl_preread", OnChange::update, "the listeners"},
    FieldDecision{"preread_buffer_size", OnChange::update, "the listeners"},
    FieldDecision{"preread_timeout", OnChange::update, "the listeners"},
    FieldDecision{"limit_conn", OnChange::update, "the listeners (kLimitConnDirectiveDecisions)"},
    FieldDecision{"limit_conn_log_level", OnChange::update, "the listeners"},
    FieldDecision{"limit_conn_dry_run", OnChange::update, "the listeners"},
    FieldDecision{"upload_rate", OnChange::update, "the listeners (new sessions)"},
    FieldDecision{"download_rate", OnChange::update, "the listeners (new sessions)"},
    FieldDecision{"proxy_protocol", OnChange::update,
                  "the listeners (kProxyProtocolOptionsDecisions)"},
    FieldDecision{"tcp_nodelay", OnChange::update, "new sessions' sockets"},
    FieldDecision{"proxy_socket_keepalive", OnChange::update, "new upstream sockets"},
    FieldDecision{"proxy_bind", OnChange::update, "new upstream sockets (kProxyBindDecisions)"},
    FieldDecision{"resolver", OnChange::update, "the listeners (their sessions' resolver)"},
    FieldDecision{"proxy_requests", OnChange::update, "the listeners (new UDP sessions)"},
    FieldDecision{"proxy_responses", OnChange::update, "the listeners (new UDP sessions)"},
    FieldDecision{"ssl", OnChange::update,
                  "the listeners; certificates and keys are re-read at every reload"},
    FieldDecision{"proxy_ssl", OnChange::update, "the listeners"},
};

inline constexpr std::array kLimitConnDirectiveDecisions = {
    FieldDecision{"zone", OnChange::update, "the listeners"},
    FieldDecision{"conn", OnChange::update, "the listeners (sessions counted so far stay counted)"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

inline constexpr std::array kProxyProtocolOptionsDecisions = {
    FieldDecision{"send", OnChange::update, "the listeners"},
    FieldDecision{"timeout", OnChange::update, "the listeners"},
    FieldDecision{"real_ip_from", OnChange::update, "the listeners"},
};

inline constexpr std::array kProxyBindDecisions = {
    FieldDecision{"value", OnChange::update, "new upstream sockets"},
    FieldDecision{"address", OnChange::update, "new upstream sockets"},
    FieldDecision{"transparent", OnChange::update, "new upstream sockets"},
};

// One `listen`: a new address or transport is another socket (the old one
// stops when no server listens there any more); the rest changes what the
// listener's sessions do.
inline constexpr std::array kListenDirectiveDecisions = {
    FieldDecision{"address", OnChange::restart, "a new socket starts, the old one stops"},
    FieldDecision{"udp", OnChange::restart, "another socket (TCP and UDP are apart)"},
    FieldDecision{"ssl", OnChange::update, "the listeners"},
    FieldDecision{"proxy_protocol", OnChange::update, "the listeners"},
    FieldDecision{"default_server", OnChange::update, "the listeners of its addresses"},
    FieldDecision{"socket", OnChange::update,
                  "the listeners; a kept socket keeps the options it was opened with"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

inline constexpr std::array kSetDirectiveDecisions = {
    FieldDecision{"name", OnChange::update, "the listeners"},
    FieldDecision{"value", OnChange::update, "the listeners"},
    FieldDecision{"line", OnChange::nothing, "where it was written"},
};

inline constexpr std::array kAccessLogTargetDecisions = {
    FieldDecision{"path", OnChange::update, "the listeners"},
    FieldDecision{"format_name", OnChange::update, "the listeners"},
    FieldDecision{"buffering", OnChange::update,
                  "the listeners; each worker writes out the old buffer and opens the file anew "
                  "(kAccessLogBufferingDecisions)"},
    FieldDecision{"condition", OnChange::update, "the listeners"},
    FieldDecision{"syslog", OnChange::update, "the listeners (kSyslogTargetDecisions)"},
};

inline constexpr std::array kAccessLogBufferingDecisions = {
    FieldDecision{"size", OnChange::update, "the listeners (the file is opened anew)"},
    FieldDecision{"flush", OnChange::update, "the listeners (the file is opened anew)"},
    FieldDecision{"gzip", OnChange::update, "the listeners (the file is opened anew)"},
};

}  // namespace proxyd
