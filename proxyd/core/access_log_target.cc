#include "proxyd/core/access_log_target.h"

#include <fmt/format.h>

#include "common/duration.h"

namespace proxyd {

namespace {

using Parsed = common::Result<std::optional<AccessLogTarget>>;

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// ngx_parse_size: digits with one optional k/K/m/M (no g: nginx 1.22 has none).
std::optional<std::size_t> nginxSize(std::string_view s) {
  if (s.empty() || s.back() == 'g' || s.back() == 'G') return std::nullopt;
  auto n = common::parseSize(s);
  if (!n || *n == 0) return std::nullopt;
  return static_cast<std::size_t>(*n);
}

// ngx_parse_time(s, 0): nginx units, plain numbers are seconds; no
// fractions and no years (is_sec 0 starts at months).
std::optional<std::chrono::milliseconds> nginxTime(std::string_view s) {
  if (s.find_first_of(".y") != std::string_view::npos) return std::nullopt;
  auto t = common::parseDuration(s);
  if (!t || t->count() == 0) return std::nullopt;
  return *t;
}

}  // namespace

common::Result<void> parseAccessLogDestination(std::string_view word, AccessLogTarget& out) {
  if (isSyslogTarget(word)) {
    auto syslog = parseSyslogTarget(word);
    if (!syslog) return common::Result<void>::fail(syslog.error());
    out.path = std::string(word);
    out.syslog = std::move(*syslog);
    return {};
  }
  if (word.find('$') != std::string_view::npos) {
    // nginx would open a file per session named by the variables; proxyd
    // keeps one open file per path.
    return common::Result<void>::fail(
        fmt::format("variables in the access_log path \"{}\" are not supported", word));
  }
  out.path = std::string(word);
  return {};
}

Parsed parseAccessLog(const std::vector<std::string>& words) {
  if (words.empty())
    return Parsed::fail(
        "expected \"PATH FORMAT [buffer=SIZE [flush=TIME]] "
        "[gzip[=LEVEL]] [if=CONDITION]\" or \"off\"");
  if (words[0] == "off") {
    if (words.size() == 1) return std::optional<AccessLogTarget>();
    return Parsed::fail(fmt::format("invalid parameter \"{}\"", words[1]));
  }
  AccessLogTarget t;
  if (auto r = parseAccessLogDestination(words[0], t); !r) return Parsed::fail(r.error());
  if (words.size() < 2) return Parsed::fail("log format is not specified");
  t.format_name = words[1];
  AccessLogBuffering& b = t.buffering;
  for (std::size_t i = 2; i < words.size(); ++i) {
    std::string_view w = words[i];
    if (startsWith(w, "buffer=")) {
      auto size = nginxSize(w.substr(7));
      if (!size) return Parsed::fail(fmt::format("invalid buffer size \"{}\"", w.substr(7)));
      b.size = *size;
    } else if (startsWith(w, "flush=")) {
      auto time = nginxTime(w.substr(6));
      if (!time) return Parsed::fail(fmt::format("invalid flush time \"{}\"", w.substr(6)));
      b.flush = *time;
    } else if (w == "gzip" || startsWith(w, "gzip=")) {
      // As nginx: gzip buffers (64K unless buffer= says, before or after).
      if (b.size == 0) b.size = kGzipDefaultBuffer;
      b.gzip = 1;
      if (w.size() > 4) {
        std::string_view level = w.substr(5);
        auto n = common::parseUnsigned(level, 9);  // ngx_atoi: "05" is 5
        if (!n || *n < 1) {
          return Parsed::fail(fmt::format("invalid compression level \"{}\"", level));
        }
        b.gzip = static_cast<int>(*n);
      }
    } else if (startsWith(w, "if=")) {
      t.condition = std::string(w.substr(3));
    } else {
      return Parsed::fail(fmt::format("invalid parameter \"{}\"", w));
    }
  }
  if (b.flush.count() != 0 && b.size == 0) {
    return Parsed::fail(fmt::format("no buffer is defined for access_log \"{}\"", words[0]));
  }
  // ngx_stream_log_set_log: a syslog line is sent when the session ends.
  if (b.size != 0 && t.syslog) return Parsed::fail("logs to syslog cannot be buffered");
  return std::optional<AccessLogTarget>(std::move(t));
}

}  // namespace proxyd
