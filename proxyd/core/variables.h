// nginx stream's built-in variables (ngx_stream_variables.c, the upstream
// module's and ssl_preread's): their names, and their values for one session
// as the access log, a map source or a hash key sees them. User variables
// (map, geo, split_clients, set) live in variable_table.h.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "proxyd/core/session_record.h"

namespace proxyd {

enum class Variable {
  remote_addr,
  binary_remote_addr,
  remote_port,
  server_addr,
  server_port,
  server_name,
  protocol,
  status,
  bytes_sent,
  bytes_received,
  session_time,
  time_local,
  time_iso8601,
  msec,
  connection,
  nginx_version,
  upstream_addr,
  upstream_bytes_sent,
  upstream_bytes_received,
  upstream_connect_time,
  upstream_first_byte_time,
  upstream_session_time,
  hostname,
  pid,
  ssl_preread_protocol,
  ssl_preread_server_name,
  ssl_preread_alpn_protocols,
  limit_conn_status,
  proxy_protocol_addr,
  proxy_protocol_port,
  proxy_protocol_server_addr,
  proxy_protocol_server_port,
  realip_remote_addr,
  realip_remote_port,
  // ngx_stream_ssl_module's (tls_variables.cc), in this order.
  ssl_protocol,
  ssl_cipher,
  ssl_ciphers,
  ssl_curve,
  ssl_curves,
  ssl_server_name,
  ssl_session_id,
  ssl_session_reused,
  ssl_alpn_protocol,
  ssl_client_verify,
  ssl_client_s_dn,
  ssl_client_i_dn,
  ssl_client_serial,
  ssl_client_fingerprint,
  ssl_client_cert,
  ssl_client_raw_cert,
  ssl_client_v_start,
  ssl_client_v_end,
  ssl_client_v_remain,
};

// What $nginx_version says: the nginx release whose stream module proxyd
// follows (server_name came in 1.25.5), so that scripts comparing versions
// see the features they test for.
inline constexpr std::string_view kNginxVersion = "1.25.5";

// nginx log_format escape=default|json|none. Outside the access log (a map
// source, a hash key, proxy_pass, return) values are used as they are: none.
enum class Escape { standard, json, none };

// Process facts that some variables print; filled once at start.
struct ProcessInfo {
  std::string hostname;
  pid_t pid = 0;
};

// The built-in variable of that name; nginx looks names up case-insensitively.
std::optional<Variable> findBuiltinVariable(std::string_view name);
std::string_view builtinVariableName(Variable v);

// Appends the value of `v` for session `s`, escaped as `escape` asks; a value
// nginx reports as not found is "-" with escape=default, nothing otherwise.
void appendBuiltin(std::string& out, Variable v, const SessionRecord& s, const ProcessInfo& proc,
                   Escape escape);

// $proxy_protocol_tlv_NAME of `s`, `selector` a packed
// ProxyProtocolTlvSelector (proxy_protocol_tlv.h).
void appendProxyProtocolTlv(std::string& out, std::size_t selector, const SessionRecord& s,
                            Escape escape);

// Free text (a user variable's value) escaped as the access log escapes it.
void appendEscaped(std::string& out, std::string_view value, Escape escape);
// A variable that is not found: "-" with escape=default, else nothing.
void appendNotFound(std::string& out, Escape escape);

}  // namespace proxyd
