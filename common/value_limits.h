// Documented bounds for every number a configuration holds: counts, sizes
// and durations. Each loader keeps one table of them (proxyd/value_limits.cc,
// vrrpd/value_limits.cc) and parses every numeric key through it, so that a
// value out of range is refused at load with FILE:LINE instead of
// overflowing later (a 9000000000000000 s timer aborted libevent; a
// 1000y fail_timeout wrapped the steady clock). The man pages print the same
// table, and tests/unit/common/value_limits_test.cc walks it against the loaders.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace common {

enum class ValueKind {
  count,     // a whole number, signed when min < 0
  size,      // bytes, with nginx's k/m/g suffixes
  duration,  // milliseconds, written with nginx's units or as seconds
};

struct ValueLimit {
  std::string_view section;  // section type: "main", "server", "vrrp_instance", ...
  std::string_view key;      // the INI key
  std::string_view option;   // a NAME=VALUE parameter inside the value ("weight"), or ""
  ValueKind kind;
  std::int64_t min;  // durations in milliseconds, sizes in bytes
  std::int64_t max;
  std::string_view source;  // where the bound comes from, for the man page
};

// A key of a loader that holds no number (a path, an address, a flag...):
// listed beside the limits so that every key is classified once.
struct TextKey {
  std::string_view section;
  std::string_view key;
  std::string_view option = {};
};

// The largest duration of a timer: 2^31 - 1 ms (24d20h31m23s647ms), what an
// nginx on a 32-bit host holds in its ngx_msec_t timers, so every timeout
// that works on any nginx fits; far from libevent's and int64's limits.
inline constexpr std::int64_t kMaxTimerMs = 2147483647;

// "24d20h31m23s647ms", "10s", "0": nginx's syntax, which parseDuration()
// reads back.
std::string formatDuration(std::chrono::milliseconds ms);

// A value of the limit's kind as a configuration writes it: "64m",
// "24d20h31m23s647ms", "-253".
std::string formatLimitValue(const ValueLimit& limit, std::int64_t value);

// The range as the man page and the error messages write it:
// "from 1 to 1024", "from 512 to 64m", "from 0 to 24d20h31m23s647ms".
std::string describeRange(const ValueLimit& limit);

// Parses `text` as the limit's kind and checks the range; the error names
// `what` and the range: invalid value "0" (expected a whole number from 1
// to 255).
Result<std::int64_t> parseLimited(const ValueLimit& limit, std::string_view text,
                                  std::string_view what = "value");

// Where `text` falls against the limit, for the importers, which carry a
// value nginx or keepalived took as the nearest bound: inside the range,
// below or above it (above also when too large for any parser), or not a
// value of that kind at all.
enum class Fit { inside, below, above, malformed };
Fit fitOf(const ValueLimit& limit, std::string_view text);

// The entry for (section, key, option); a loader asking for one its table
// does not have is a programming error (std::logic_error), which the
// walk test turns into a failure.
const ValueLimit& findLimit(std::span<const ValueLimit> table, std::string_view section,
                            std::string_view key, std::string_view option = {});

}  // namespace common
