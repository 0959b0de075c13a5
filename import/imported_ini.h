// The INI an importer writes: sections and entries that remember the source
// statement each came from, rendered through common's INI writer and vetted
// by the daemon's own loader, so that what the loader refuses is a warning
// at the source's FILE:LINE and left out, never an INI that does not start.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/ini_file.h"

namespace importer {

struct ImportedEntry {
  std::string key;
  std::string value;
  std::string file;  // the source statement it came from
  int line = 0;
  // Offsets in `value` where a piece of the source began (nginx's quoted
  // log_format pieces): preferred places to continue on the next line.
  std::vector<size_t> breaks = {};
};

struct ImportedSection {
  std::string header;
  std::string origin;  // "FILE:LINE" (or FILE) of the source, as a comment
  std::vector<ImportedEntry> entries;
  std::string file;  // the statement of `origin`
  int line = 0;
  bool dropped = false;  // refused by the loader as a whole
};

// The daemon that runs the import, for the vetting.
struct DaemonCheck {
  std::string daemon;    // "proxyd", in "(proxyd -t would refuse it)"
  std::string ini_name;  // "proxyd.ini", in "cannot be written to proxyd.ini"
  // Loads `ini` as the daemon would and says what it thinks of it.
  std::function<void(const std::string& ini, common::Diagnostics& diag)> load;
  // Errors to let pass: about the host the import runs on, not the config.
  std::function<bool(const common::Diagnostic&)> about_host = nullptr;
};

// The INI text: `head` as comment lines, then for each section not dropped
// a blank line, "; from ORIGIN", "[HEADER]" and its entries. Renders and
// loads again until the loader accepts, each round dropping (with a warning
// at the source) the entries and sections it refused. `sections` is asked
// each round, in the order they are written.
std::string vetThroughLoader(const std::vector<std::string>& head,
                             const std::function<std::vector<ImportedSection*>()>& sections,
                             const DaemonCheck& check, common::Diagnostics& msg);

}  // namespace importer
