// One `access_log` of a [server], parsed as ngx_stream_log_set_log parses
// the directive: PATH FORMAT [buffer=SIZE [flush=TIME]] [gzip[=LEVEL]]
// [if=CONDITION], or `off`. Pure: the loader resolves the path and checks
// the format name and the condition's variables.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "proxyd/core/syslog_target.h"

namespace proxyd {

// How lines reach the file: at once (size 0: within the loop pass that
// ended the session), or kept in memory up to `size` bytes and written when
// the next line would not fit, when `flush` has passed since the first
// buffered line, at reopen and at exit (nginx's buffer=/flush=). With gzip
// every write is one gzip member of that compression level.
struct AccessLogBuffering {
  std::size_t size = 0;
  std::chrono::milliseconds flush{0};  // 0: no timer
  int gzip = 0;                        // 0: plain, else the zlib level 1..9
  bool operator==(const AccessLogBuffering&) const = default;
};

struct AccessLogTarget {
  std::string path;  // absolute once loaded
  std::string format_name;
  AccessLogBuffering buffering;
  // if=: a template; the line is skipped when it is "" or "0". None: every line.
  std::optional<std::string> condition;
  std::optional<SyslogTarget> syslog;  // path is "syslog:...": lines go there, not to a file
  bool operator==(const AccessLogTarget&) const = default;
};

// nginx's gzip without a buffer= gets this one (and level 1, Z_BEST_SPEED).
inline constexpr std::size_t kGzipDefaultBuffer = 64 * 1024;

// The PATH word. A file path today; `syslog:` targets are parsed here too
// (nginx tells them apart by that prefix), so every caller goes through it.
common::Result<void> parseAccessLogDestination(std::string_view word, AccessLogTarget& out);

// The words of one access_log value (after common::splitTokens). Nothing
// (nullopt) for `off`. Errors are nginx's texts ("invalid buffer size
// \"0\"", "no buffer is defined for access_log \"/x\"", ...).
common::Result<std::optional<AccessLogTarget>> parseAccessLog(
    const std::vector<std::string>& words);

// Whether a rendered if= condition lets the line through (nginx: not "" and not "0").
inline bool conditionPasses(std::string_view value) {
  return !value.empty() && value != "0";
}

}  // namespace proxyd
