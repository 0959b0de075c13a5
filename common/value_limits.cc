#include "common/value_limits.h"

#include <fmt/format.h>

#include <stdexcept>

#include "common/duration.h"

namespace common {
namespace {

std::string formatSize(std::int64_t bytes) {
  struct Unit {
    std::int64_t scale;
    char suffix;
  };
  for (Unit u : {Unit{1LL << 30, 'g'}, Unit{1LL << 20, 'm'}, Unit{1LL << 10, 'k'}}) {
    if (bytes != 0 && bytes % u.scale == 0) return fmt::format("{}{}", bytes / u.scale, u.suffix);
  }
  return fmt::format("{}", bytes);
}

std::string formatValue(const ValueLimit& limit, std::int64_t v) {
  switch (limit.kind) {
    case ValueKind::size:
      return formatSize(v);
    case ValueKind::duration:
      return formatDuration(std::chrono::milliseconds(v));
    case ValueKind::count:
      break;
  }
  return fmt::format("{}", v);
}

std::string_view noun(ValueKind kind) {
  switch (kind) {
    case ValueKind::size:
      return "a size";
    case ValueKind::duration:
      return "a duration";
    case ValueKind::count:
      break;
  }
  return "a whole number";
}

// A whole number, signed when the range allows negatives; false when it is
// not one or does not fit an int64 (checked, never wrapped).
bool parseWhole(std::string_view text, bool allow_sign, std::int64_t& out) {
  bool negative = false;
  if (allow_sign && !text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  auto magnitude = parseUnsigned(text, static_cast<std::uint64_t>(INT64_MAX));
  if (!magnitude) return false;
  out = negative ? -static_cast<std::int64_t>(*magnitude) : static_cast<std::int64_t>(*magnitude);
  return true;
}

}  // namespace

std::string formatDuration(std::chrono::milliseconds ms) {
  std::int64_t left = ms.count();
  if (left == 0) return "0";
  struct Unit {
    std::int64_t ms;
    std::string_view suffix;
  };
  static constexpr Unit kUnits[] = {
      {24LL * 3600 * 1000, "d"}, {3600LL * 1000, "h"}, {60LL * 1000, "m"}, {1000, "s"}, {1, "ms"}};
  std::string out;
  for (const Unit& u : kUnits) {
    if (left >= u.ms) {
      out += fmt::format("{}{}", left / u.ms, u.suffix);
      left %= u.ms;
    }
  }
  return out;
}

std::string formatLimitValue(const ValueLimit& limit, std::int64_t value) {
  return formatValue(limit, value);
}

std::string describeRange(const ValueLimit& limit) {
  return fmt::format("from {} to {}", formatValue(limit, limit.min), formatValue(limit, limit.max));
}

Result<std::int64_t> parseLimited(const ValueLimit& limit, std::string_view text,
                                  std::string_view what) {
  auto outOfRange = [&] {
    return Result<std::int64_t>::fail(fmt::format("invalid {} \"{}\" (expected {} {})", what, text,
                                                  noun(limit.kind), describeRange(limit)));
  };
  // A parser's own message says what is wrong with the form ("at most 3
  // decimals", "largest unit first"); a number too large for it is out of
  // range like any other.
  auto parseError = [&](const std::string& why) {
    if (why.find("too large") != std::string::npos) return outOfRange();
    if (what == "value") return Result<std::int64_t>::fail(why);
    return Result<std::int64_t>::fail(fmt::format("invalid {} \"{}\": {}", what, text, why));
  };
  std::int64_t v = 0;
  switch (limit.kind) {
    case ValueKind::count:
      if (!parseWhole(text, limit.min < 0, v)) return outOfRange();
      break;
    case ValueKind::size: {
      auto r = parseSize(text);
      if (!r) return parseError(r.error());
      if (*r > static_cast<std::uint64_t>(INT64_MAX)) return outOfRange();
      v = static_cast<std::int64_t>(*r);
      break;
    }
    case ValueKind::duration: {
      auto r = parseDuration(text);
      if (!r) return parseError(r.error());
      v = r->count();
      break;
    }
  }
  if (v < limit.min || v > limit.max) return outOfRange();
  return v;
}

Fit fitOf(const ValueLimit& limit, std::string_view text) {
  auto place = [&](std::int64_t v) {
    return v < limit.min ? Fit::below : v > limit.max ? Fit::above : Fit::inside;
  };
  auto tooLarge = [](const std::string& why) { return why.find("too large") != std::string::npos; };
  switch (limit.kind) {
    case ValueKind::count: {
      std::string_view digits = text;
      bool negative = !digits.empty() && digits[0] == '-';
      if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
      auto n = parseUnsigned(digits, UINT64_MAX);
      if (!n) return tooLarge(n.error()) ? (negative ? Fit::below : Fit::above) : Fit::malformed;
      if (negative)
        return *n == 0                                      ? place(0)
               : *n > static_cast<std::uint64_t>(INT64_MAX) ? Fit::below
                                                            : place(-static_cast<std::int64_t>(*n));
      return *n > static_cast<std::uint64_t>(INT64_MAX) ? Fit::above
                                                        : place(static_cast<std::int64_t>(*n));
    }
    case ValueKind::size: {
      auto r = parseSize(text);
      if (!r) return tooLarge(r.error()) ? Fit::above : Fit::malformed;
      return *r > static_cast<std::uint64_t>(INT64_MAX) ? Fit::above
                                                        : place(static_cast<std::int64_t>(*r));
    }
    case ValueKind::duration: {
      auto r = parseDuration(text);
      if (!r) return tooLarge(r.error()) ? Fit::above : Fit::malformed;
      return place(r->count());
    }
  }
  return Fit::malformed;
}

const ValueLimit& findLimit(std::span<const ValueLimit> table, std::string_view section,
                            std::string_view key, std::string_view option) {
  for (const ValueLimit& l : table) {
    if (l.section == section && l.key == key && l.option == option) return l;
  }
  throw std::logic_error(fmt::format("no value limit for [{}] {}{}{}", section, key,
                                     option.empty() ? "" : " ", option));
}

}  // namespace common
