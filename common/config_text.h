// The small text rules every config loader and importer shares, so that a
// value splits and a relative path resolves the same way everywhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace common {

// The words of a value, split at spaces and tabs ("a  b\tc" -> a, b, c).
std::vector<std::string> splitWords(std::string_view text);

// The directory part of a path: "dir/f" -> "dir", "/f" -> "/", "f" -> ".".
std::string directoryOf(const std::string& path);

}  // namespace common
