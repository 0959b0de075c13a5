// nginx-style time and size values, as operators already write them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace common {

// "500ms", "1s", "30s", "10m", "1h", "1d", "1w", "1M" (30 days), "1y" (365
// days), combinations such as "1m30s" (largest unit first, as nginx), and plain
// numbers meaning seconds, with decimals ("0.5", as keepalived writes
// advert_int). Negative values and trailing garbage are errors; the error
// text says what was expected.
Result<std::chrono::milliseconds> parseDuration(std::string_view text);

// "16k", "16K", "1m", "1M", "1g", "1G" or a plain byte count.
Result<std::uint64_t> parseSize(std::string_view text);

// Non-negative integer that fits in `max`; "abc", "-1", "" are errors.
Result<std::uint64_t> parseUnsigned(std::string_view text, std::uint64_t max = UINT64_MAX);

// "on"/"off" (nginx), also "yes"/"no", "true"/"false", "1"/"0".
Result<bool> parseFlag(std::string_view text);

}  // namespace common
