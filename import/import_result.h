// What an import hands back to `proxyd --import-nginx` and
// `vrrpd --import-keepalived`, and how they print it.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "common/ini_file.h"

namespace importer {

struct ImportResult {
  std::string ini;                    // the daemon's INI text
  std::vector<std::string> warnings;  // "FILE:LINE: warning: ..." (and "error:" lines)
  bool ok = false;                    // false: the source could not be read or parsed
};

// The result of an import that wrote `ini` and said `msg` on the way.
ImportResult importResultOf(std::string ini, const common::Diagnostics& msg);

// The INI on `out`, the warnings (and errors) on `err`, one a line. Returns
// the exit code: 1 if the source could not be read or parsed, else 0.
int printImport(const ImportResult& result, std::ostream& out, std::ostream& err);

}  // namespace importer
