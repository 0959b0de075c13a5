// What a loader or importer said, as the lines `-t` prints.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "common/ini_file.h"

namespace test_support {

// One `FILE:LINE: severity: message` string per diagnostic, in order.
inline std::vector<std::string> diagnosticLines(const common::Diagnostics& diag) {
  std::vector<std::string> out;
  for (const auto& d : diag.items()) out.push_back(d.format());
  return out;
}

// All of them as printed (for INFO in a failing check).
inline std::string diagnosticText(const common::Diagnostics& diag) {
  std::ostringstream out;
  diag.print(out);
  return out.str();
}

}  // namespace test_support
