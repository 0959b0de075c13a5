#include "proxyd/core/health_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "common/config_text.h"
#include "common/duration.h"
#include "proxyd/core/value_limits.h"

namespace proxyd {

using common::splitWords;
namespace {

using common::Result;
using Options = HealthCheckOptions;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// A three-digit status code from 100 to 599.
std::optional<int> parseStatusCode(std::string_view s) {
  if (s.size() != 3 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2])) return std::nullopt;
  int code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  if (code < 100 || code > 599) return std::nullopt;
  return code;
}

// expect=200, expect=2xx (any 2xx code) or expect=200-399.
bool parseExpect(std::string_view v, Options& o) {
  if (v.size() == 3 && v[0] >= '1' && v[0] <= '5' && (v[1] == 'x' || v[1] == 'X') &&
      (v[2] == 'x' || v[2] == 'X')) {
    o.expect_min = (v[0] - '0') * 100;
    o.expect_max = o.expect_min + 99;
    return true;
  }
  auto dash = v.find('-');
  if (dash != std::string_view::npos) {
    auto lo = parseStatusCode(v.substr(0, dash));
    auto hi = parseStatusCode(v.substr(dash + 1));
    if (!lo || !hi || *lo > *hi) return false;
    o.expect_min = *lo;
    o.expect_max = *hi;
    return true;
  }
  auto code = parseStatusCode(v);
  if (!code) return false;
  o.expect_min = o.expect_max = *code;
  return true;
}

// interval=, timeout=, fall=, rise=: bounded by the limits table
// (value_limits.cc).
Result<std::int64_t> number(const std::string& name, std::string_view v) {
  return common::parseLimited(limitOf("upstream", "health_check", name), v, name);
}

Result<std::chrono::milliseconds> positiveDuration(const std::string& name, std::string_view v) {
  auto n = number(name, v);
  if (!n) return Result<std::chrono::milliseconds>::fail(n.error());
  return std::chrono::milliseconds(*n);
}

Result<int> count(const std::string& name, std::string_view v) {
  auto n = number(name, v);
  if (!n) return Result<int>::fail(n.error());
  return static_cast<int>(*n);
}

// One NAME=VALUE parameter (`word` is the whole of it, for messages).
Result<void> applyParameter(const std::string& name, std::string_view v, std::string_view word,
                            Options& o) {
  using R = Result<void>;
  if (name == "interval" || name == "timeout") {
    auto d = positiveDuration(name, v);
    if (!d) return R::fail(d.error());
    (name == "interval" ? o.interval : o.timeout) = *d;
  } else if (name == "fall" || name == "fails") {  // fails= is nginx Plus's spelling
    auto n = count(name, v);
    if (!n) return R::fail(n.error());
    o.fall = *n;
  } else if (name == "rise" || name == "passes") {
    auto n = count(name, v);
    if (!n) return R::fail(n.error());
    o.rise = *n;
  } else if (name == "type") {
    if (v == "tcp") {
      o.type = HealthCheckType::tcp;
    } else if (v == "http") {
      o.type = HealthCheckType::http;
    } else if (v == "https") {
      o.type = HealthCheckType::https;
    } else {
      return R::fail(fmt::format("invalid type \"{}\" (expected tcp, http or https)", v));
    }
  } else if (name == "uri") {
    bool printable = std::all_of(v.begin(), v.end(), [](char c) {
      return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
    if (v[0] != '/' || !printable) {
      return R::fail(fmt::format("invalid uri \"{}\" (expected a path such as /readyz)", v));
    }
    o.uri = std::string(v);
  } else if (name == "expect") {
    if (!parseExpect(v, o)) {
      return R::fail(
          fmt::format("invalid expect \"{}\" (expected a status code such as 200, a class "
                      "such as 2xx, or a range such as 200-399)",
                      v));
    }
    o.expect_text = std::string(v);
  } else if (name == "sni") {
    o.sni = std::string(v);
  } else if (name == "verify") {
    auto f = common::parseFlag(v);
    if (!f) return R::fail(fmt::format("invalid verify \"{}\" (expected on or off)", v));
    o.verify = *f;
  } else if (name == "ca") {
    o.ca = std::string(v);
  } else if (name == "cert") {
    o.cert = std::string(v);
  } else if (name == "key") {
    o.key = std::string(v);
  } else {
    return R::fail(
        fmt::format("invalid parameter \"{}\" (expected interval, timeout, fall, rise, type, uri, "
                    "expect, sni, verify, ca, cert, key or mandatory)",
                    word));
  }
  return {};
}

// Parameters that would be silently ignored are errors: they are typos or
// a missing type=.
Result<void> checkCombination(const Options& o, const std::set<std::string>& seen) {
  auto need = [&](const char* param, bool ok, const char* why) -> std::optional<std::string> {
    if (seen.count(param) && !ok) return fmt::format("\"{}\" {}", param, why);
    return std::nullopt;
  };
  bool http_like = o.type != HealthCheckType::tcp;
  bool https = o.type == HealthCheckType::https;
  for (auto problem :
       {need("uri", http_like, "needs type=http or type=https"),
        need("expect", http_like, "needs type=http or type=https"),
        need("sni", https, "needs type=https"), need("verify", https, "needs type=https"),
        need("ca", https, "needs type=https"), need("cert", https, "needs type=https"),
        need("key", https, "needs type=https"),
        need("ca", o.verify, "needs verify=on (without it the CAs are unused)")}) {
    if (problem) return Result<void>::fail(*problem);
  }
  if (o.cert.empty() != o.key.empty()) {
    return Result<void>::fail("a client certificate needs both \"cert\" and \"key\"");
  }
  return {};
}

}  // namespace

Result<HealthCheckOptions> parseHealthCheck(std::string_view text) {
  using R = Result<HealthCheckOptions>;
  Options o;
  std::set<std::string> seen;
  for (std::string_view w : splitWords(text)) {
    auto eq = w.find('=');
    std::string name(w.substr(0, eq));
    std::string_view v = eq == std::string_view::npos ? std::string_view{} : w.substr(eq + 1);
    if (!seen.insert(name).second) return R::fail(fmt::format("\"{}\" is given twice", name));
    if (name == "mandatory") {
      if (eq != std::string_view::npos) return R::fail("\"mandatory\" takes no value");
      o.mandatory = true;
      continue;
    }
    if (eq == std::string_view::npos || v.empty()) {
      return R::fail(fmt::format("invalid parameter \"{}\" (expected NAME=VALUE)", w));
    }
    if (auto r = applyParameter(name, v, w, o); !r) return R::fail(r.error());
  }
  if (auto r = checkCombination(o, seen); !r) return R::fail(r.error());
  return o;
}

HealthState::Change HealthState::record(bool passed) {
  bool first = std::exchange(first_, false);
  if (passed) {
    failures_ = 0;
    ++successes_;
    if (!healthy_ && (successes_ >= rise_ || first)) {
      healthy_ = true;
      return Change::became_healthy;
    }
  } else {
    successes_ = 0;
    ++failures_;
    if (healthy_ && failures_ >= fall_) {
      healthy_ = false;
      return Change::became_unhealthy;
    }
  }
  return Change::none;
}

common::Duration firstCheckDelay(std::size_t index, std::size_t count,
                                 std::chrono::milliseconds interval) {
  if (count == 0) return common::Duration::zero();
  // In 128 bits: the interval in nanoseconds times the index overflows an
  // int64 for a long interval (24 days) and a few thousand peers.
  __int128 ns = std::chrono::duration_cast<common::Duration>(interval).count();
  return common::Duration(static_cast<common::Duration::rep>(ns * static_cast<__int128>(index) /
                                                             static_cast<__int128>(count)));
}

common::Duration nextCheckDelay(common::TimePoint started, common::TimePoint now,
                                std::chrono::milliseconds interval) {
  common::TimePoint due = started + interval;
  return due > now ? due - now : common::Duration::zero();
}

Result<int> parseStatusLine(std::string_view line) {
  // "HTTP/1.1 200 OK": the version, one space, three digits, then a space
  // or the end (RFC 9112 section 4; the reason phrase may be empty).
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.substr(0, 7) != "HTTP/1." || line.size() < 12 || !isDigit(line[7]) || line[8] != ' ') {
    return Result<int>::fail(
        fmt::format("not an HTTP/1.x status line: \"{}\"", line.substr(0, 64)));
  }
  auto code = parseStatusCode(line.substr(9, 3));
  if (!code || (line.size() > 12 && line[12] != ' ')) {
    return Result<int>::fail(fmt::format("bad status code in \"{}\"", line.substr(0, 64)));
  }
  return *code;
}

std::string_view healthCheckTypeName(HealthCheckType type) {
  switch (type) {
    case HealthCheckType::tcp:
      return "tcp";
    case HealthCheckType::http:
      return "http";
    case HealthCheckType::https:
      return "https";
  }
  return "?";
}

}  // namespace proxyd
