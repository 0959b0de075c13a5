#include "proxyd/core/value_limits.h"

namespace proxyd {
namespace {

using common::kMaxTimerMs;
using common::TextKey;
using common::ValueKind;
using common::ValueLimit;

constexpr ValueKind count = ValueKind::count;
constexpr ValueKind size = ValueKind::size;
constexpr ValueKind duration = ValueKind::duration;

// Every range holds every value nginx runs with for the directives we share
// (nginx -t accepts larger ones but then wraps its timers or cannot
// allocate): --import-nginx carries the rest as the nearest bound, with a
// warning at the nginx.conf line.
constexpr ValueLimit kLimits[] = {
    // [main]
    {"main", "worker_processes", "", count, 1, 1024, "NGX_MAX_PROCESSES; or auto"},
    {"main", "worker_connections", "", count, 1, 1 << 24, "connections per worker"},
    {"main", "worker_rlimit_nofile", "", count, 16, 1 << 30, "Linux's fs.nr_open ceiling"},
    {"main", "worker_shutdown_timeout", "", duration, 0, kMaxTimerMs, "timer"},
    {"main", "resolver_timeout", "", duration, 1, kMaxTimerMs, "timer"},
    // [server NAME]
    {"server", "proxy_connect_timeout", "", duration, 0, kMaxTimerMs, "timer"},
    {"server", "proxy_timeout", "", duration, 0, kMaxTimerMs, "timer"},
    {"server", "proxy_next_upstream_timeout", "", duration, 0, kMaxTimerMs, "timer; 0: none"},
    // nginx takes any size; 1 byte works (one recv per byte), 64m per
    // direction per session is already more memory than a proxy should hold.
    {"server", "proxy_buffer_size", "", size, 1, 64 << 20, "per direction and session"},
    {"server", "proxy_next_upstream_tries", "", count, 0, 1 << 20, "0: no limit"},
    {"server", "preread_buffer_size", "", size, 1, 64 << 20, "per session while prereading"},
    {"server", "preread_timeout", "", duration, 0, kMaxTimerMs, "timer"},
    // listen = ADDRESS [backlog=N] ... (the kernel caps backlog at somaxconn)
    {"server", "listen", "backlog", count, 1, 2147483647, "int; capped by net.core.somaxconn"},
    {"server", "listen", "rcvbuf", size, 1, 2147483647, "int; capped by net.core.rmem_max"},
    {"server", "listen", "sndbuf", size, 1, 2147483647, "int; capped by net.core.wmem_max"},
    {"server", "listen", "fastopen", count, 0, 2147483647, "int; 0: off"},
    // TCP_KEEPIDLE / TCP_KEEPINTVL (seconds) and TCP_KEEPCNT as Linux bounds them.
    {"server", "listen", "so_keepalive_idle", duration, 1000, 32767000, "TCP_KEEPIDLE"},
    {"server", "listen", "so_keepalive_interval", duration, 1000, 32767000, "TCP_KEEPINTVL"},
    {"server", "listen", "so_keepalive_count", count, 1, 127, "TCP_KEEPCNT"},
    // bytes per second; nginx takes any size_t, 64g/s is beyond any link.
    {"server", "proxy_upload_rate", "", size, 0, std::int64_t{64} << 30, "0: no limit"},
    {"server", "proxy_download_rate", "", size, 0, std::int64_t{64} << 30, "0: no limit"},
    {"server", "proxy_protocol_timeout", "", duration, 0, kMaxTimerMs, "timer"},
    {"server", "resolver_timeout", "", duration, 1, kMaxTimerMs, "timer"},
    {"upstream", "resolver_timeout", "", duration, 1, kMaxTimerMs, "timer"},
    // ngx_conf_set_num_slot; nginx's "no limit" for proxy_responses is 2^31 - 1.
    {"server", "proxy_requests", "", count, 0, 2147483647, "0: no limit"},
    {"server", "proxy_responses", "", count, 0, 2147483647, "none: no limit"},
    {"server", "ssl_handshake_timeout", "", duration, 0, kMaxTimerMs, "timer"},
    {"server", "ssl_session_timeout", "", duration, 0, kMaxTimerMs, "session lifetime"},
    {"server", "ssl_verify_depth", "", count, 0, 100, "certificate chain length"},
    {"server", "proxy_ssl_verify_depth", "", count, 0, 100, "certificate chain length"},
    // [upstream NAME]: server = ADDRESS [weight=N] ...
    // The weight cap keeps the ketama ring (160 points per unit) in memory.
    {"upstream", "server", "weight", count, 1, 100000, "ring size"},
    {"upstream", "server", "max_fails", count, 0, 2147483647, "int"},
    // nginx reads fail_timeout in seconds (ngx_parse_time, is_sec): 2^31 - 1 s,
    // which checked + fail_timeout on the nanosecond steady clock holds.
    {"upstream", "server", "fail_timeout", duration, 0, 2147483647LL * 1000, "2^31 - 1 s"},
    {"upstream", "server", "max_conns", count, 0, 2147483647, "int; 0: no limit"},
    // health_check = interval= timeout= fall= rise= (fails=/passes=, nginx Plus)
    {"upstream", "health_check", "interval", duration, 1, kMaxTimerMs, "timer"},
    {"upstream", "health_check", "timeout", duration, 1, kMaxTimerMs, "timer"},
    {"upstream", "health_check", "fall", count, 1, 1000, ""},
    {"upstream", "health_check", "fails", count, 1, 1000, "= fall"},
    {"upstream", "health_check", "rise", count, 1, 1000, ""},
    {"upstream", "health_check", "passes", count, 1, 1000, "= rise"},
};

constexpr TextKey kText[] = {
    {"main", "error_log"},
    {"main", "pid"},
    {"main", "limit_conn_zone"},  // zone=NAME:SIZE from 32k to 64g (limits_config.h)
    {"status", "listen"},
    {"status", "allow"},
    {"status", "deny"},
    {"log_format", "format"},
    {"log_format", "escape"},
    {"map", "source"},
    {"map", "hostnames"},
    {"map", "volatile"},
    {"map", "default"},
    {"map", "include"},
    {"map", "entry"},
    {"upstream", "hash"},
    {"upstream", "balance"},
    {"upstream", "server", "backup"},
    {"upstream", "server", "down"},
    {"upstream", "server", "resolve"},
    {"upstream", "server", "service"},
    {"upstream", "resolver"},
    {"upstream", "zone"},
    {"upstream", "health_check", "type"},
    {"upstream", "health_check", "uri"},
    {"upstream", "health_check", "expect"},
    {"upstream", "health_check", "sni"},
    {"upstream", "health_check", "verify"},
    {"upstream", "health_check", "ca"},
    {"upstream", "health_check", "cert"},
    {"upstream", "health_check", "key"},
    {"upstream", "health_check", "mandatory"},
    {"server", "listen"},
    {"server", "listen", "default_server"},
    {"server", "listen", "ssl"},
    {"server", "listen", "udp"},
    {"server", "listen", "proxy_protocol"},
    {"server", "listen", "so_keepalive"},
    {"server", "listen", "deferred"},
    {"server", "listen", "bind"},
    {"server", "listen", "ipv6only"},
    {"server", "listen", "reuseport"},
    {"server", "listen", "multipath"},
    {"server", "proxy_pass"},
    {"server", "pass"},
    {"server", "set"},
    {"server", "return"},
    {"server", "proxy_half_close"},
    {"server", "proxy_next_upstream"},
    {"server", "access_log"},
    {"server", "error_log"},
    {"server", "allow"},
    {"server", "deny"},
    {"server", "server_name"},
    {"server", "ssl_preread"},
    {"server", "limit_conn"},  // ZONE 1..65535, nginx's bounds (limits_config.cc)
    {"server", "limit_conn_log_level"},
    {"server", "limit_conn_dry_run"},
    {"server", "proxy_protocol"},
    {"server", "set_real_ip_from"},
    {"server", "tcp_nodelay"},
    {"server", "proxy_socket_keepalive"},
    {"server", "proxy_bind"},
    {"server", "resolver"},
    {"main", "resolver"},
    {"server", "ssl_certificate"},
    {"server", "ssl_certificate_key"},
    {"server", "ssl_password_file"},
    {"server", "ssl_protocols"},
    {"server", "ssl_ciphers"},
    {"server", "ssl_prefer_server_ciphers"},
    {"server", "ssl_ecdh_curve"},
    {"server", "ssl_dhparam"},
    {"server", "ssl_session_cache"},
    {"server", "ssl_session_tickets"},
    {"server", "ssl_session_ticket_key"},
    {"server", "ssl_verify_client"},
    {"server", "ssl_client_certificate"},
    {"server", "ssl_trusted_certificate"},
    {"server", "ssl_crl"},
    {"server", "ssl_alpn"},
    {"server", "ssl_conf_command"},
    {"server", "ssl_reject_handshake"},
    {"server", "proxy_ssl"},
    {"server", "proxy_ssl_name"},
    {"server", "proxy_ssl_server_name"},
    {"server", "proxy_ssl_verify"},
    {"server", "proxy_ssl_trusted_certificate"},
    {"server", "proxy_ssl_certificate"},
    {"server", "proxy_ssl_certificate_key"},
    {"server", "proxy_ssl_password_file"},
    {"server", "proxy_ssl_protocols"},
    {"server", "proxy_ssl_ciphers"},
    {"server", "proxy_ssl_session_reuse"},
    {"server", "proxy_ssl_crl"},
    {"server", "proxy_ssl_conf_command"},
    // [geo $NAME], [split_clients $NAME]: their sizes are bounded in
    // geo_table.h, geo_section.h and split_clients_section.h.
    {"geo", "source"},
    {"geo", "ranges"},
    {"geo", "default"},
    {"geo", "entry"},
    {"geo", "delete"},
    {"geo", "include"},
    {"split_clients", "source"},
    {"split_clients", "entry"},
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

}  // namespace proxyd
