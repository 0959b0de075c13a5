// nginx's "syslog:" log destination (src/core/ngx_syslog.c): what the
// directive says, and the RFC 3164 lines nginx sends there, byte for byte:
//   <PRI>Mmm dd HH:MM:SS HOSTNAME TAG: MSG      (nohostname: no HOSTNAME)
// Pure: the time comes in as a broken-down local time, the host name as text.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "common/address.h"
#include "common/log.h"
#include "common/result.h"

namespace proxyd {

struct SyslogTarget {
  std::string text;              // the whole "syslog:..." word, as written
  common::SocketAddress server;  // UDP; empty when unix_path is set
  std::string unix_path;         // "server=unix:PATH": a datagram socket
  int facility = 23;             // local7, nginx's default
  int severity = 6;              // info: what access-log lines carry
  std::string tag = "nginx";     // nginx's default, kept so syslog filters keep matching
  bool nohostname = false;
  bool operator==(const SyslogTarget&) const = default;
};

// Whether a log destination is a syslog target ("syslog:" prefix, as nginx).
bool isSyslogTarget(std::string_view text);

// Parses "syslog:server=ADDR[:PORT]|unix:PATH,facility=F,severity=S,tag=T,
// nohostname" with nginx's rules and error texts ("unknown syslog facility
// \"x\"", "no syslog server specified", ...). A host name resolves now, to
// its first address (ngx_parse_url), port 514 unless given.
common::Result<SyslogTarget> parseSyslogTarget(std::string_view text);

// RFC 3164 severity of an error-log line: nginx's level minus one
// (emerg 0 ... debug 7); error_log's syslog lines carry their own level.
int syslogSeverity(common::LogLevel level);

// nginx's ngx_cached_syslog_time: "Dec  2 13:28:45" (day padded with a blank).
std::string syslogTime(const std::tm& local);

// "<PRI>TIME HOSTNAME TAG: " (without HOSTNAME under nohostname), PRI being
// facility * 8 + severity.
std::string syslogHeader(const SyslogTarget& target, int severity, const std::tm& local,
                         std::string_view hostname);

// nginx's host name in syslog lines: gethostname(), lower-cased (ngx_init_cycle).
std::string syslogHostname(std::string_view hostname);

}  // namespace proxyd
