// proxyd.ini as loaded: every section checked, every value parsed, every
// problem reported as FILE:LINE (see DESIGN.md for the schema). Keys carry
// the names of the nginx directives they replace.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/host.h"
#include "common/ini_file.h"
#include "common/log.h"
#include "proxyd/core/access_log_target.h"
#include "proxyd/core/health_check.h"
#include "proxyd/core/limits_config.h"
#include "proxyd/core/listen.h"
#include "proxyd/core/log_format.h"
#include "proxyd/core/proxy_protocol_options.h"
#include "proxyd/core/resolver_keys.h"
#include "proxyd/core/syslog_target.h"
#include "proxyd/core/tls_settings.h"
#include "proxyd/core/upstream_group.h"
#include "proxyd/core/upstream_socket.h"
#include "proxyd/core/user_variables.h"

namespace proxyd {

struct LogTarget {
  std::string path;  // absolute, "stderr", or the "syslog:..." text
  common::LogLevel level = common::LogLevel::error;
  std::optional<SyslogTarget> syslog;  // path is "syslog:..."
  bool operator==(const LogTarget&) const = default;
};

struct MainSection {
  int worker_processes = 1;  // "auto" = number of CPUs
  int worker_connections = 1024;
  // nginx's error_log chain: each line goes to every target whose level
  // admits it. Empty: stderr at "error", as nginx's default.
  std::vector<LogTarget> error_log;
  std::string pid_path;          // empty: no pid file
  int worker_rlimit_nofile = 0;  // 0: leave RLIMIT_NOFILE as inherited
  // QUIT: sessions still running after this are closed; 0 waits for them
  // (nginx's default).
  std::chrono::milliseconds worker_shutdown_timeout{0};
  std::vector<LimitConnZoneSpec> limit_conn_zones;  // limit_conn_zone, shared by all workers
  ResolverSettings resolver;                        // the default of every [server] and [upstream]
  bool operator==(const MainSection&) const = default;
};

struct AccessRule {
  bool allow = true;
  common::Cidr cidr;
  bool operator==(const AccessRule&) const = default;
};

struct StatusSection {
  common::SocketAddress listen;
  std::vector<AccessRule> rules;  // first match wins; no match: allowed
  int line = 0;
  bool operator==(const StatusSection&) const = default;
};

struct UpstreamSection {
  std::string name;
  BalanceMethod method = BalanceMethod::round_robin;
  std::string hash_key;  // the key's text, "$remote_addr"
  std::vector<UpstreamServer> servers;
  int line = 0;
  // Active health checks (health_check.h); ca/cert/key resolved against the prefix.
  std::optional<HealthCheckOptions> health_check;
  // The section's entries as written ("key=value\n" each): a reload keeps
  // the live state of a group whose text and resolved addresses are unchanged.
  std::string source_text;
  // For its `resolve` servers; [main]'s unless set (nginx 1.27.3's upstream resolver).
  ResolverSettings resolver;
  // zone = NAME [SIZE]: accepted and ignored; the workers are threads of
  // one process, so a group's state is always shared. As written.
  std::string zone;
  bool operator==(const UpstreamSection&) const = default;
};

// `set = $NAME VALUE` (ngx_stream_set_module): VALUE is a template.
struct SetDirective {
  std::string name;  // lower case, without the '$'
  std::string value;
  int line = 0;
  bool operator==(const SetDirective&) const = default;
};

struct ServerSection {
  std::string name;
  int line = 0;
  std::vector<ListenDirective> listen;  // with default_server, ssl, udp, ... (listen.h)
  // The name of an [upstream] (an address is made a one-server group), or
  // a template evaluated per session (proxy_pass_target.h). Empty with `return`.
  std::string proxy_pass;
  std::vector<SetDirective> sets;          // in order, run before allow/deny
  std::optional<std::string> return_text;  // `return`: a template sent, then the close
  // nginx 1.25.5's `pass`: the connection goes on as accepted by the TCP
  // listener of this address (a template; pass_address.h).
  std::optional<std::string> pass;
  std::chrono::milliseconds connect_timeout{60000};
  std::chrono::milliseconds timeout{600000};
  std::size_t buffer_size = 16384;
  bool half_close = false;
  bool next_upstream = true;
  unsigned next_upstream_tries = 0;                    // 0: no limit
  std::chrono::milliseconds next_upstream_timeout{0};  // 0: no limit
  // Every line goes to each of them (nginx's several access_log); none
  // with `access_log = off` or without the key.
  std::vector<AccessLogTarget> access_logs;
  std::vector<LogTarget> error_log;      // empty: the [main] chain (as nginx inherits it)
  std::vector<AccessRule> access_rules;  // allow/deny, first match wins; no match: allowed
  // nginx evaluates proxy_pass per session when it has a variable (a '$';
  // one that starts no valid variable fails to load).
  bool passHasVariables() const { return proxy_pass.find('$') != std::string::npos; }
  // nginx 1.25.5's server_name, as written; none: "" (as nginx's default).
  std::vector<std::string> server_names;
  bool ssl_preread = false;
  std::size_t preread_buffer_size = 16384;
  std::chrono::milliseconds preread_timeout{30000};
  // ngx_stream_limit_conn_module (limits_config.h), checked in the
  // preaccess phase: after set, before allow/deny.
  std::vector<LimitConnDirective> limit_conn;
  common::LogLevel limit_conn_log_level = common::LogLevel::error;
  bool limit_conn_dry_run = false;
  // proxy_upload_rate / proxy_download_rate as written: a size or a
  // template; empty: no limit (as "0").
  std::string upload_rate;
  std::string download_rate;
  ProxyProtocolOptions proxy_protocol;  // proxy_protocol, _timeout, set_real_ip_from
  // Sockets (upstream_socket.h): nginx's defaults, tcp_nodelay on both legs.
  bool tcp_nodelay = true;
  bool proxy_socket_keepalive = false;  // SO_KEEPALIVE on the upstream socket
  std::optional<ProxyBind> proxy_bind;  // none: the kernel picks (proxy_bind off)
  ResolverSettings resolver;            // proxy_pass with variables; [main]'s unless set
  // UDP (listen ... udp, udp_exchange.h): nginx's proxy_requests (0: no
  // limit) and proxy_responses (none: no limit, nginx's default).
  unsigned proxy_requests = 0;
  std::optional<unsigned> proxy_responses;
  TlsServerSettings ssl;       // ssl_* (tls_settings.h)
  ProxySslSettings proxy_ssl;  // proxy_ssl_*
  bool operator==(const ServerSection&) const = default;
};

struct ProxyConfig {
  std::string path;    // the main file
  std::string prefix;  // relative paths resolve against it
  MainSection main;
  std::optional<StatusSection> status;
  std::map<std::string, std::string> log_format_text;  // name -> format text
  std::map<std::string, Escape> log_format_escape;     // name -> escape= (default: standard)
  std::vector<UpstreamSection> upstreams;
  std::vector<ServerSection> servers;
  UserVariables variables;  // [map], [geo], [split_clients] and set, compiled

  const UpstreamSection* findUpstream(const std::string& name) const;
  bool operator==(const ProxyConfig&) const = default;
};

// Loads and checks `path`. `prefix` empty means the directory of `path`.
// Problems go to `diag`; the result is only meaningful without errors. What
// depends on the machine (log directories, health-check files, the CPU count
// of `worker_processes auto`) is asked of `host`.
ProxyConfig loadProxyConfig(const std::string& path, const std::string& prefix,
                            common::Diagnostics& diag,
                            const common::Host& host = common::realHost());

// Same, from text already in memory (tests).
ProxyConfig parseProxyConfig(std::string_view text, const std::string& path,
                             const std::string& prefix, common::Diagnostics& diag,
                             const common::Host& host = common::realHost());

}  // namespace proxyd
