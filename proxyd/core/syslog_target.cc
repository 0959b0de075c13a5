#include "proxyd/core/syslog_target.h"

#include "common/config_text.h"

#include <sys/un.h>

#include <array>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "common/duration.h"

namespace proxyd {

namespace {

using R = common::Result<SyslogTarget>;

// ngx_syslog.c's tables: the index is the RFC 3164 code. Severities are
// spelled as in nginx.conf ("error", "warn"), not "err"/"warning".
constexpr std::array<std::string_view, 24> kFacilities = {
    "kern",   "user",   "mail",     "daemon", "auth",   "intern", "lpr",    "news",
    "uucp",   "clock",  "authpriv", "ftp",    "ntp",    "audit",  "alert",  "cron",
    "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};
constexpr std::array<std::string_view, 8> kSeverities = {"emerg", "alert",  "crit", "error",
                                                         "warn",  "notice", "info", "debug"};

template <std::size_t N>
std::optional<int> indexOf(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

// ngx_parse_url with default_port 514, as ngx_syslog_parse_args calls it;
// the error is nginx's "ERR in syslog server \"URL\"".
common::Result<void> parseServer(std::string_view url, SyslogTarget& t) {
  auto fail = [&](std::string_view err) {
    return common::Result<void>::fail(fmt::format("{} in syslog server \"{}\"", err, url));
  };
  if (url.substr(0, 5) == "unix:") {
    std::string_view path = url.substr(5);
    if (path.empty()) return fail("no path in the unix domain socket");
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      return fail("too long path in the unix domain socket");
    }
    t.unix_path = std::string(path);
    return {};
  }
  auto hp = common::splitHostPort(url, /*port_required=*/false);
  if (!hp) return fail("invalid port");
  if (hp->host.empty()) return fail("no host");
  std::uint64_t port = 514;
  if (!hp->port.empty()) {
    auto p = common::parseUnsigned(hp->port, 65535);
    if (!p || *p == 0) return fail("invalid port");
    port = *p;
  }
  auto addrs = common::resolve(hp->host, static_cast<std::uint16_t>(port));
  if (!addrs || addrs->empty()) return fail("host not found");
  t.server = addrs->front();
  return {};
}

}  // namespace

bool isSyslogTarget(std::string_view text) {
  return text.substr(0, 7) == "syslog:";
}

R parseSyslogTarget(std::string_view text) {
  SyslogTarget t;
  t.text = std::string(text);
  bool have_server = false, have_facility = false, have_severity = false, have_tag = false;
  std::string_view rest = text.substr(std::string_view("syslog:").size());
  // ngx_syslog_parse_args: comma-separated, each parameter checked for a
  // repeat before its value; an empty parameter is an unknown one.
  for (;;) {
    auto comma = rest.find(',');
    std::string_view p = rest.substr(0, comma);
    auto duplicate = [](std::string_view what) {
      return R::fail(fmt::format("duplicate syslog \"{}\"", what));
    };
    if (p.substr(0, 7) == "server=") {
      if (have_server) return duplicate("server");
      if (auto r = parseServer(p.substr(7), t); !r) return R::fail(r.error());
      have_server = true;
    } else if (p.substr(0, 9) == "facility=") {
      if (have_facility) return duplicate("facility");
      auto i = indexOf(kFacilities, p.substr(9));
      if (!i) return R::fail(fmt::format("unknown syslog facility \"{}\"", p.substr(9)));
      t.facility = *i;
      have_facility = true;
    } else if (p.substr(0, 9) == "severity=") {
      if (have_severity) return duplicate("severity");
      auto i = indexOf(kSeverities, p.substr(9));
      if (!i) return R::fail(fmt::format("unknown syslog severity \"{}\"", p.substr(9)));
      t.severity = *i;
      have_severity = true;
    } else if (p.substr(0, 4) == "tag=") {
      if (have_tag) return duplicate("tag");
      std::string_view tag = p.substr(4);
      // RFC 3164: the TAG is at most 32 alphanumeric characters (nginx
      // also takes '_'; an empty tag passes, as in nginx).
      if (tag.size() > 32) return R::fail("syslog tag length exceeds 32");
      for (char c : tag) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
          return R::fail("syslog \"tag\" only allows alphanumeric characters and underscore");
        }
      }
      t.tag = std::string(tag);
      have_tag = true;
    } else if (p == "nohostname") {
      t.nohostname = true;
    } else {
      return R::fail(fmt::format("unknown syslog parameter \"{}\"", p));
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (!have_server) return R::fail("no syslog server specified");
  return t;
}

int syslogSeverity(common::LogLevel level) {
  return 7 - static_cast<int>(level);
}

std::string syslogTime(const std::tm& local) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{} {:2} {:02}:{:02}:{:02}", kMonths[static_cast<std::size_t>(local.tm_mon)],
                     local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec);
}

std::string syslogHeader(const SyslogTarget& target, int severity, const std::tm& local,
                         std::string_view hostname) {
  const int pri = target.facility * 8 + severity;
  if (target.nohostname) return fmt::format("<{}>{} {}: ", pri, syslogTime(local), target.tag);
  return fmt::format("<{}>{} {} {}: ", pri, syslogTime(local), hostname, target.tag);
}

std::string syslogHostname(std::string_view hostname) {
  return common::asciiLower(hostname);
}

}  // namespace proxyd
