#include "common/duration.h"

#include "common/config_text.h"

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <string>

namespace common {
namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isDigit(c)) return false;
  }
  return true;
}

// Decimal digits to an unsigned value; false on overflow. `s` holds digits only.
bool digitsToU64(std::string_view s, std::uint64_t& out) {
  std::uint64_t v = 0;
  for (char c : s) {
    if (__builtin_mul_overflow(v, 10u, &v)) return false;
    if (__builtin_add_overflow(v, static_cast<std::uint64_t>(c - '0'), &v)) return false;
  }
  out = v;
  return true;
}

constexpr std::int64_t kMaxMs = std::numeric_limits<std::int64_t>::max();

Result<std::chrono::milliseconds> badDuration(std::string_view text) {
  return Result<std::chrono::milliseconds>::fail(fmt::format(
      "invalid duration \"{}\" (expected a number with a unit: 500ms, 1s, 10m, 1h)", text));
}

Result<std::chrono::milliseconds> tooLargeDuration(std::string_view text) {
  return Result<std::chrono::milliseconds>::fail(fmt::format("duration \"{}\" is too large", text));
}

// A plain number is seconds and may have a fraction ("0.5"), as keepalived
// writes advert_int. Our resolution is the millisecond, so more than three
// decimals would silently lose precision (or turn 0.0001 into 0): refuse them.
Result<std::chrono::milliseconds> parsePlainSeconds(std::string_view text) {
  std::string_view whole = text;
  std::string_view frac;
  if (auto dot = text.find('.'); dot != std::string_view::npos) {
    whole = text.substr(0, dot);
    frac = text.substr(dot + 1);
    if (!allDigits(frac)) return badDuration(text);
  }
  if (!allDigits(whole)) return badDuration(text);
  if (frac.size() > 3) {
    return Result<std::chrono::milliseconds>::fail(fmt::format(
        "invalid duration \"{}\" (at most 3 decimals: the resolution is a millisecond)", text));
  }
  std::uint64_t seconds = 0;
  if (!digitsToU64(whole, seconds)) return tooLargeDuration(text);
  std::uint64_t ms = 0;
  for (std::size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  std::uint64_t total = 0;
  if (__builtin_mul_overflow(seconds, 1000u, &total) || __builtin_add_overflow(total, ms, &total) ||
      total > static_cast<std::uint64_t>(kMaxMs)) {
    return tooLargeDuration(text);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(total));
}

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};

// Largest first, as nginx's ngx_parse_time() requires them to be written;
// "ms" before "m" so that the longer suffix is tried first. M is 30 days and
// y 365 days, as in nginx.
constexpr Unit kUnits[] = {
    {"y", 365LL * 24 * 3600 * 1000},
    {"M", 30LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"ms", 1},
    {"m", 60LL * 1000},
    {"s", 1000},
};

// Rank in largest-to-smallest order (ms ranks below s though listed earlier).
int unitRank(std::string_view suffix) {
  static constexpr std::string_view kOrder[] = {"y", "M", "w", "d", "h", "m", "s", "ms"};
  for (int i = 0; i < 8; ++i) {
    if (kOrder[i] == suffix) return i;
  }
  return -1;
}

}  // namespace

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  if (text.empty()) return badDuration(text);
  bool plain = true;
  for (char c : text) {
    if (!isDigit(c) && c != '.') plain = false;
  }
  if (plain) return parsePlainSeconds(text);

  // nginx syntax: one or more <digits><unit>, largest unit first, each unit
  // at most once; nginx also allows spaces between the parts ("1m 30s").
  std::int64_t total = 0;
  int last_rank = -1;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && isDigit(text[i])) ++i;
    if (i == start) return badDuration(text);  // a unit without a number, "-1s", "1.5s"
    std::uint64_t value = 0;
    if (!digitsToU64(text.substr(start, i - start), value)) return tooLargeDuration(text);

    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(i, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return badDuration(text);  // "5x", or "1m30" with no unit on 30
    i += unit->suffix.size();

    int rank = unitRank(unit->suffix);
    if (rank <= last_rank) {
      return Result<std::chrono::milliseconds>::fail(fmt::format(
          "invalid duration \"{}\" (units go from largest to smallest, each once, as in 1m30s)",
          text));
    }
    last_rank = rank;

    std::int64_t part = 0;
    if (value > static_cast<std::uint64_t>(kMaxMs) ||
        __builtin_mul_overflow(static_cast<std::int64_t>(value), unit->ms, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      return tooLargeDuration(text);
    }
    std::size_t next = i;
    while (next < text.size() && text[next] == ' ') ++next;
    if (next == text.size() && next != i) return badDuration(text);  // trailing space
    i = next;
  }
  return std::chrono::milliseconds(total);
}

Result<std::uint64_t> parseSize(std::string_view text) {
  // nginx's ngx_parse_size(): one optional suffix letter, binary multiples.
  auto bad = [&] {
    return Result<std::uint64_t>::fail(fmt::format(
        "invalid size \"{}\" (expected a byte count, optionally with a unit: 512, 16k, 1m, 1g)",
        text));
  };
  std::string_view digits = text;
  std::uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K':
        scale = 1024;
        break;
      case 'm':
      case 'M':
        scale = 1024 * 1024;
        break;
      case 'g':
      case 'G':
        scale = 1024 * 1024 * 1024;
        break;
      default:
        break;
    }
    if (scale != 1) digits.remove_suffix(1);
  }
  if (!allDigits(digits)) return bad();
  std::uint64_t value = 0;
  if (!digitsToU64(digits, value) || __builtin_mul_overflow(value, scale, &value)) {
    return Result<std::uint64_t>::fail(fmt::format("size \"{}\" is too large", text));
  }
  return value;
}

Result<std::uint64_t> parseUnsigned(std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  if (!allDigits(text)) {
    return Result<std::uint64_t>::fail(
        fmt::format("invalid number \"{}\" (expected a whole number from 0 to {})", text, max));
  }
  if (!digitsToU64(text, value) || value > max) {
    return Result<std::uint64_t>::fail(
        fmt::format("number \"{}\" is too large (expected at most {})", text, max));
  }
  return value;
}

Result<bool> parseFlag(std::string_view text) {
  // nginx compares "on"/"off" case-insensitively; so do we for all spellings.
  const std::string lower = asciiLower(text);
  if (lower == "on" || lower == "yes" || lower == "true" || lower == "1") return true;
  if (lower == "off" || lower == "no" || lower == "false" || lower == "0") return false;
  return Result<bool>::fail(fmt::format(
      "invalid flag \"{}\" (expected on or off; yes/no, true/false, 1/0 also work)", text));
}

}  // namespace common
