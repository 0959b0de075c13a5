#include "import/conf_walk.h"

#include <fmt/format.h>

#include "common/ini_writer.h"

namespace importer {

void ConfWalk::drop(const ConfStatement& s, const std::string& why) {
  msg_.warning(s.file, s.line,
               fmt::format("{} is not supported by {}: dropped{}", s.name, daemon_,
                           why.empty() ? "" : " (" + why + ")"));
}

bool ConfWalk::expect(const ConfStatement& s, size_t min, size_t max, const char* form) {
  if (s.args.size() < min || s.args.size() > max || s.block) {
    msg_.warning(s.file, s.line,
                 fmt::format("{}: expected \"{} {}\": dropped", s.name, s.name, form));
    return false;
  }
  return true;
}

bool ConfWalk::writable(const ConfStatement& s, const std::string& key, const std::string& value) {
  std::string why = common::iniEntryProblem(key, value);
  if (why.empty()) return true;
  msg_.warning(
      s.file, s.line,
      fmt::format("{}: the value cannot be written to {}.ini ({}): dropped", s.name, daemon_, why));
  return false;
}

void ConfWalk::put(ImportedSection& sec, const ConfStatement& s, const std::string& key,
                   const std::string& value) {
  if (writable(s, key, value)) sec.entries.push_back({key, value, s.file, s.line});
}

}  // namespace importer
