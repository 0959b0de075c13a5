// The values of nginx stream's built-in variables (ngx_stream_variables.c,
// ngx_stream_upstream.c, ngx_stream_ssl_preread_module.c), appended without
// temporary strings: the access log renders them for every session.
#include "proxyd/core/variables.h"

#include "common/config_text.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "proxyd/core/proxy_protocol_tlv.h"
#include "proxyd/core/tls_variables.h"

namespace proxyd {
namespace {

struct VariableName {
  std::string_view name;
  Variable variable;
};

// Every built-in variable. tests/interop builds its every-variable format
// from this table (tests/lib/proxylab.py reads it), so a variable added here
// is compared with nginx at once.
constexpr std::array<VariableName, 53> kVariables{{
    {"remote_addr", Variable::remote_addr},
    {"binary_remote_addr", Variable::binary_remote_addr},
    {"remote_port", Variable::remote_port},
    {"server_addr", Variable::server_addr},
    {"server_port", Variable::server_port},
    {"server_name", Variable::server_name},
    {"protocol", Variable::protocol},
    {"status", Variable::status},
    {"bytes_sent", Variable::bytes_sent},
    {"bytes_received", Variable::bytes_received},
    {"session_time", Variable::session_time},
    {"time_local", Variable::time_local},
    {"time_iso8601", Variable::time_iso8601},
    {"msec", Variable::msec},
    {"connection", Variable::connection},
    {"nginx_version", Variable::nginx_version},
    {"upstream_addr", Variable::upstream_addr},
    {"upstream_bytes_sent", Variable::upstream_bytes_sent},
    {"upstream_bytes_received", Variable::upstream_bytes_received},
    {"upstream_connect_time", Variable::upstream_connect_time},
    {"upstream_first_byte_time", Variable::upstream_first_byte_time},
    {"upstream_session_time", Variable::upstream_session_time},
    {"hostname", Variable::hostname},
    {"pid", Variable::pid},
    {"ssl_preread_protocol", Variable::ssl_preread_protocol},
    {"ssl_preread_server_name", Variable::ssl_preread_server_name},
    {"ssl_preread_alpn_protocols", Variable::ssl_preread_alpn_protocols},
    {"limit_conn_status", Variable::limit_conn_status},
    {"proxy_protocol_addr", Variable::proxy_protocol_addr},
    {"proxy_protocol_port", Variable::proxy_protocol_port},
    {"proxy_protocol_server_addr", Variable::proxy_protocol_server_addr},
    {"proxy_protocol_server_port", Variable::proxy_protocol_server_port},
    {"realip_remote_addr", Variable::realip_remote_addr},
    {"realip_remote_port", Variable::realip_remote_port},
    {"ssl_protocol", Variable::ssl_protocol},
    {"ssl_cipher", Variable::ssl_cipher},
    {"ssl_ciphers", Variable::ssl_ciphers},
    {"ssl_curve", Variable::ssl_curve},
    {"ssl_curves", Variable::ssl_curves},
    {"ssl_server_name", Variable::ssl_server_name},
    {"ssl_session_id", Variable::ssl_session_id},
    {"ssl_session_reused", Variable::ssl_session_reused},
    {"ssl_alpn_protocol", Variable::ssl_alpn_protocol},
    {"ssl_client_verify", Variable::ssl_client_verify},
    {"ssl_client_s_dn", Variable::ssl_client_s_dn},
    {"ssl_client_i_dn", Variable::ssl_client_i_dn},
    {"ssl_client_serial", Variable::ssl_client_serial},
    {"ssl_client_fingerprint", Variable::ssl_client_fingerprint},
    {"ssl_client_cert", Variable::ssl_client_cert},
    {"ssl_client_raw_cert", Variable::ssl_client_raw_cert},
    {"ssl_client_v_start", Variable::ssl_client_v_start},
    {"ssl_client_v_end", Variable::ssl_client_v_end},
    {"ssl_client_v_remain", Variable::ssl_client_v_remain},
}};

// nginx looks variable names up case-insensitively (ngx_strncasecmp in
// ngx_stream_get_variable_index), so "$Remote_Addr" is $remote_addr.
}  // namespace

std::optional<Variable> findBuiltinVariable(std::string_view name) {
  for (const auto& v : kVariables) {
    if (common::equalsIgnoringCase(name, v.name)) return v.variable;
  }
  return std::nullopt;
}

std::string_view builtinVariableName(Variable v) {
  for (const auto& row : kVariables) {
    if (row.variable == v) return row.name;
  }
  return {};
}

namespace {

template <class Int>
void appendInt(std::string& out, Int value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

// nginx's "%T.%03M" of a millisecond count clamped at 0 (ngx_max(ms, 0)):
// $session_time, $upstream_*_time and $msec.
void appendMillis(std::string& out, std::int64_t ms) {
  if (ms < 0) ms = 0;
  appendInt(out, ms / 1000);
  out.push_back('.');
  const auto frac = static_cast<int>(ms % 1000);
  const char digits[3] = {static_cast<char>('0' + frac / 100),
                          static_cast<char>('0' + frac / 10 % 10),
                          static_cast<char>('0' + frac % 10)};
  out.append(digits, 3);
}

std::int64_t toMillis(common::Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// $remote_addr / $server_addr: the numeric host without brackets or port,
// as ngx_sock_ntop(..., port = 0) prints it. inet_ntop into a stack buffer
// keeps rendering free of temporary strings.
void appendHost(std::string& out, const common::SocketAddress& addr) {
  char buf[INET6_ADDRSTRLEN];
  const char* text = nullptr;
  if (addr.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(addr.sa());
    text = inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
  } else if (addr.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(addr.sa());
    text = inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
  } else if (addr.family() == AF_UNIX) {
    out.append(addr.hostText());  // "unix:/path", or "unix:" for a client
    return;
  }
  if (text != nullptr) out.append(text);
}

// $remote_port / $server_port: nginx prints the port only when it is in
// 1..65535 and leaves the value empty otherwise.
void appendPort(std::string& out, const common::SocketAddress& addr) {
  std::uint16_t port = 0;
  if (addr.family() == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(addr.sa())->sin_port);
  } else if (addr.family() == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(addr.sa())->sin6_port);
  }
  if (port > 0) appendInt(out, port);
}

// $time_local and $time_iso8601 change once a second, so, like nginx's
// ngx_time_update() slots, each thread formats them once per second and
// copies the text for every line in between. The key also holds the zone
// (tzname[0] and the standard offset that tzset() sets) so that a test, or
// an operator's tzset(), switching TZ never reads the other zone's text.
struct TimeCache {
  std::int64_t second = std::numeric_limits<std::int64_t>::min();
  const char* zone_name = nullptr;
  long zone_offset = 0;
  char local[40] = {};
  std::size_t local_len = 0;
  char iso[40] = {};
  std::size_t iso_len = 0;
};

const TimeCache& timeCacheFor(std::int64_t second) {
  thread_local TimeCache cache;
  if (cache.second == second && cache.zone_name == tzname[0] && cache.zone_offset == timezone) {
    return cache;
  }
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto t = static_cast<std::time_t>(second);
  std::tm tm{};
  localtime_r(&t, &tm);
  // nginx keeps the offset in minutes and prints hours and minutes of its
  // absolute value after the sign: "+0530", "-0330".
  const long off_min = tm.tm_gmtoff / 60;
  const char sign = off_min < 0 ? '-' : '+';
  const long off_abs = off_min < 0 ? -off_min : off_min;
  // ngx_cached_http_log_time: "%02d/%s/%d:%02d:%02d:%02d %c%02i%02i".
  auto r = fmt::format_to_n(cache.local, sizeof cache.local - 1,
                            "{:02}/{}/{}:{:02}:{:02}:{:02} {}{:02}{:02}", tm.tm_mday,
                            kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                            sign, off_abs / 60, off_abs % 60);
  cache.local_len = static_cast<std::size_t>(r.out - cache.local);
  // ngx_cached_http_log_iso8601: "%4d-%02d-%02dT%02d:%02d:%02d%c%02i:%02i".
  r = fmt::format_to_n(cache.iso, sizeof cache.iso - 1,
                       "{:4}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
                       off_abs / 60, off_abs % 60);
  cache.iso_len = static_cast<std::size_t>(r.out - cache.iso);
  cache.second = second;
  cache.zone_name = tzname[0];
  cache.zone_offset = timezone;
  return cache;
}

std::int64_t epochMillis(std::chrono::system_clock::time_point tp) {
  return std::chrono::floor<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

std::int64_t epochSeconds(std::chrono::system_clock::time_point tp) {
  return std::chrono::floor<std::chrono::seconds>(tp.time_since_epoch()).count();
}

// The upstream variables keep one entry per try, joined with ", "
// (ngx_stream_upstream_addr_variable and friends); before any try they are
// "not found".
template <class Each>
void appendPerAttempt(std::string& out, const std::vector<UpstreamAttempt>& tries, Escape escape,
                      Each each) {
  if (tries.empty()) {
    appendNotFound(out, escape);
    return;
  }
  for (std::size_t i = 0; i < tries.size(); ++i) {
    if (i > 0) out.append(", ");
    each(tries[i]);
  }
}

// ngx_stream_upstream_response_time_variable: "-" for a time never reached
// (connect_time of a refused try), else "%T.%03M".
void appendOptionalTime(std::string& out, const std::optional<common::Duration>& d) {
  if (d) {
    appendMillis(out, toMillis(*d));
  } else {
    out.push_back('-');
  }
}

// $binary_remote_addr: the address in network order, 4 or 16 bytes.
std::string_view binaryAddress(const common::SocketAddress& addr) {
  if (addr.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(addr.sa());
    return {reinterpret_cast<const char*>(&sin->sin_addr), sizeof sin->sin_addr};
  }
  if (addr.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(addr.sa());
    return {reinterpret_cast<const char*>(&sin6->sin6_addr), sizeof sin6->sin6_addr};
  }
  return {};
}

// The ssl_preread variables are not found until preread has run.
void appendPreread(std::string& out, Variable v, const PrereadInfo* p, Escape escape) {
  if (p == nullptr) {
    appendNotFound(out, escape);
    return;
  }
  const std::string& value = v == Variable::ssl_preread_protocol      ? p->protocol
                             : v == Variable::ssl_preread_server_name ? p->server_name
                                                                      : p->alpn_protocols;
  appendEscaped(out, value, escape);
}

// $proxy_protocol_*: not found without a header that has addresses
// (ngx_stream_variable_proxy_protocol_addr/_port); a port of 0 is empty.
void appendProxyProtocol(std::string& out, Variable v, const ProxyProtocolInfo* pp, Escape escape);

// $realip_remote_*: the connection's own peer, which realip may have
// replaced in `remote` (ngx_stream_realip_remote_addr_variable).
const common::SocketAddress& realipPeer(const SessionRecord& s) {
  return s.proxy_protocol && s.proxy_protocol->realip_peer ? *s.proxy_protocol->realip_peer
                                                           : s.remote;
}

}  // namespace

// escape=default (ngx_stream_log_escape): bytes below 0x20, '"', '\\', 0x7f
// and above become "\xHH" with upper-case hex.
static bool needsDefaultEscape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x7f;
}

void appendEscaped(std::string& out, std::string_view value, Escape escape) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  switch (escape) {
    case Escape::none:
      out.append(value);
      return;
    case Escape::standard:
      for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (needsDefaultEscape(c)) {
          const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
          out.append(esc, 4);
        } else {
          out.push_back(ch);
        }
      }
      return;
    case Escape::json:
      // ngx_escape_json: '"' and '\\' get a backslash, \n \r \t \b \f their
      // short forms, other control bytes "\u00HH"; bytes >= 0x80 pass as is.
      for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c > 0x1f) {
          if (c == '"' || c == '\\') out.push_back('\\');
          out.push_back(ch);
          continue;
        }
        out.push_back('\\');
        switch (c) {
          case '\n':
            out.push_back('n');
            break;
          case '\r':
            out.push_back('r');
            break;
          case '\t':
            out.push_back('t');
            break;
          case '\b':
            out.push_back('b');
            break;
          case '\f':
            out.push_back('f');
            break;
          default: {
            const char esc[5] = {'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
            out.append(esc, 5);
          }
        }
      }
      return;
  }
}

// A variable nginx reports as "not found" (the upstream variables of a
// session that never chose an upstream) is "-" with escape=default and
// nothing at all with escape=json or escape=none
// (ngx_stream_log_variable / ngx_stream_log_json_variable /
// ngx_stream_log_unescaped_variable).
void appendNotFound(std::string& out, Escape escape) {
  if (escape == Escape::standard) out.push_back('-');
}

namespace {

// ngx_stream_limit_conn_status_variable: not found until a limit_conn
// with a non-empty key has been checked.
void appendLimitConnStatus(std::string& out, LimitConnStatus status, Escape escape) {
  switch (status) {
    case LimitConnStatus::none:
      return appendNotFound(out, escape);
    case LimitConnStatus::passed:
      return (void)out.append("PASSED");
    case LimitConnStatus::rejected:
      return (void)out.append("REJECTED");
    case LimitConnStatus::rejected_dry_run:
      return (void)out.append("REJECTED_DRY_RUN");
  }
}

// The per-try variables: one value per upstream tried.
void appendUpstreamVariable(std::string& out, Variable v, const std::vector<UpstreamAttempt>& tries,
                            Escape escape) {
  switch (v) {
    case Variable::upstream_addr:
      // The ", " separators are plain ASCII, so escaping each address
      // is escaping the joined value.
      appendPerAttempt(out, tries, escape,
                       [&](const UpstreamAttempt& a) { appendEscaped(out, a.addr, escape); });
      return;
    case Variable::upstream_bytes_sent:
      appendPerAttempt(out, tries, escape,
                       [&](const UpstreamAttempt& a) { appendInt(out, a.bytes_sent); });
      return;
    case Variable::upstream_bytes_received:
      appendPerAttempt(out, tries, escape,
                       [&](const UpstreamAttempt& a) { appendInt(out, a.bytes_received); });
      return;
    case Variable::upstream_connect_time:
      appendPerAttempt(out, tries, escape,
                       [&](const UpstreamAttempt& a) { appendOptionalTime(out, a.connect_time); });
      return;
    case Variable::upstream_first_byte_time:
      appendPerAttempt(out, tries, escape, [&](const UpstreamAttempt& a) {
        appendOptionalTime(out, a.first_byte_time);
      });
      return;
    case Variable::upstream_session_time:
      appendPerAttempt(out, tries, escape,
                       [&](const UpstreamAttempt& a) { appendOptionalTime(out, a.session_time); });
      return;
    default:
      return;  // not a per-try variable: appendVariable handles it
  }
}

}  // namespace

// One variable's value, appended to `out` without a temporary string.
// Numbers, addresses and times never hold a byte that any escape mode
// changes, so only free text (hostname, upstream names) goes through
// appendEscaped.
void appendBuiltin(std::string& out, Variable v, const SessionRecord& s, const ProcessInfo& proc,
                   Escape escape) {
  switch (v) {
    case Variable::remote_addr:
      appendHost(out, s.remote);
      return;
    case Variable::remote_port:
      appendPort(out, s.remote);
      return;
    case Variable::server_addr:
      // nginx fails the variable when getsockname() fails; a failed
      // variable logs like a missing one.
      if (s.local.empty()) {
        appendNotFound(out, escape);
      } else {
        appendHost(out, s.local);
      }
      return;
    case Variable::server_port:
      if (s.local.empty()) {
        appendNotFound(out, escape);
      } else {
        appendPort(out, s.local);
      }
      return;
    case Variable::protocol:
      out.append(s.udp ? "UDP" : "TCP");
      return;
    case Variable::status: {
      // "%03ui".
      const int st = s.status < 0 ? 0 : s.status;
      if (st < 100) out.append(st < 10 ? "00" : "0");
      appendInt(out, st);
      return;
    }
    case Variable::bytes_sent:
      appendInt(out, s.bytes_sent);
      return;
    case Variable::bytes_received:
      appendInt(out, s.bytes_received);
      return;
    case Variable::session_time:
      appendMillis(out, toMillis(s.session_time));
      return;
    case Variable::time_local: {
      const TimeCache& c = timeCacheFor(epochSeconds(s.end_time));
      out.append(c.local, c.local_len);
      return;
    }
    case Variable::time_iso8601: {
      const TimeCache& c = timeCacheFor(epochSeconds(s.end_time));
      out.append(c.iso, c.iso_len);
      return;
    }
    case Variable::msec:
      appendMillis(out, epochMillis(s.end_time));
      return;
    case Variable::connection:
      appendInt(out, s.connection);
      return;
    case Variable::hostname:
      appendEscaped(out, proc.hostname, escape);
      return;
    case Variable::pid:
      appendInt(out, static_cast<long>(proc.pid));
      return;
    case Variable::binary_remote_addr:
      if (s.remote.family() == AF_UNIX) {  // nginx gives the address text

        appendEscaped(out, s.remote.hostText(), escape);
      } else {
        appendEscaped(out, binaryAddress(s.remote), escape);
      }
      return;
    case Variable::server_name:
      appendEscaped(out, s.server_name, escape);
      return;
    case Variable::nginx_version:
      out.append(kNginxVersion);
      return;
    case Variable::ssl_preread_protocol:
    case Variable::ssl_preread_server_name:
    case Variable::ssl_preread_alpn_protocols:
      appendPreread(out, v, s.preread.get(), escape);
      return;
    case Variable::proxy_protocol_addr:
    case Variable::proxy_protocol_port:
    case Variable::proxy_protocol_server_addr:
    case Variable::proxy_protocol_server_port:
      appendProxyProtocol(out, v, s.proxy_protocol.get(), escape);
      return;
    case Variable::realip_remote_addr:
      appendHost(out, realipPeer(s));
      return;
    case Variable::realip_remote_port:
      appendPort(out, realipPeer(s));
      return;
    case Variable::ssl_protocol:
    case Variable::ssl_cipher:
    case Variable::ssl_ciphers:
    case Variable::ssl_curve:
    case Variable::ssl_curves:
    case Variable::ssl_server_name:
    case Variable::ssl_session_id:
    case Variable::ssl_session_reused:
    case Variable::ssl_alpn_protocol:
    case Variable::ssl_client_verify:
    case Variable::ssl_client_s_dn:
    case Variable::ssl_client_i_dn:
    case Variable::ssl_client_serial:
    case Variable::ssl_client_fingerprint:
    case Variable::ssl_client_cert:
    case Variable::ssl_client_raw_cert:
    case Variable::ssl_client_v_start:
    case Variable::ssl_client_v_end:
    case Variable::ssl_client_v_remain:
      appendTlsVariable(out, v, s.tls.get(), escape);
      return;
    case Variable::upstream_addr:
    case Variable::upstream_bytes_sent:
    case Variable::upstream_bytes_received:
    case Variable::upstream_connect_time:
    case Variable::upstream_first_byte_time:
    case Variable::upstream_session_time:
      appendUpstreamVariable(out, v, s.upstreams, escape);
      return;
    case Variable::limit_conn_status:
      appendLimitConnStatus(out, s.limit_conn_status, escape);
      return;
  }
}

namespace {

void appendProxyProtocol(std::string& out, Variable v, const ProxyProtocolInfo* pp, Escape escape) {
  if (pp == nullptr || !pp->header) {
    appendNotFound(out, escape);
    return;
  }
  const ProxyProtocolHeader& h = *pp->header;
  switch (v) {
    case Variable::proxy_protocol_addr:
      appendEscaped(out, h.src_addr, escape);
      return;
    case Variable::proxy_protocol_server_addr:
      appendEscaped(out, h.dst_addr, escape);
      return;
    default: {
      const std::uint16_t port = v == Variable::proxy_protocol_port ? h.src_port : h.dst_port;
      if (port > 0) appendInt(out, port);
      return;
    }
  }
}

}  // namespace

void appendProxyProtocolTlv(std::string& out, std::size_t selector, const SessionRecord& s,
                            Escape escape) {
  const ProxyProtocolInfo* pp = s.proxy_protocol.get();
  std::string scratch;
  std::optional<std::string_view> value;
  if (pp != nullptr && pp->header) {
    value =
        findProxyProtocolTlv(pp->header->tlvs, ProxyProtocolTlvSelector::unpack(selector), scratch);
  }
  if (value) {
    appendEscaped(out, *value, escape);
  } else {
    appendNotFound(out, escape);
  }
}

}  // namespace proxyd
