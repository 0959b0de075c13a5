#include "import/imported_ini.h"

#include <fmt/format.h>

#include <map>
#include <regex>
#include <set>

#include "common/ini_writer.h"

namespace importer {

namespace {

// Where a line of the rendered INI came from.
struct RenderedLine {
  ImportedSection* section = nullptr;
  int entry = -1;  // index in section->entries, -1: the header or a comment
};

// What one round leaves out: entries by index (highest first, so that
// erasing one keeps the others' indexes) and whole sections.
struct Refusals {
  std::map<ImportedSection*, std::set<int, std::greater<int>>> entries;
  std::set<ImportedSection*> sections;
  bool empty() const { return entries.empty() && sections.empty(); }
};

class Round {
 public:
  Round(const DaemonCheck& check, common::Diagnostics& msg) : check_(check), msg_(msg) {}

  // Writes the INI; what the writer cannot write is refused here already.
  std::string render(const std::vector<std::string>& head,
                     const std::vector<ImportedSection*>& sections) {
    for (const std::string& c : head) w_.comment(c);
    for (ImportedSection* s : sections) section(*s);
    return w_.text();
  }

  // Turns the loader's errors about `ini` into refusals.
  void vet(const std::string& ini) {
    common::Diagnostics diag;
    check_.load(ini, diag);
    for (const common::Diagnostic& dg : diag.items()) {
      if (dg.severity != common::Severity::error) continue;
      if (check_.about_host && check_.about_host(dg)) continue;
      if (dg.line <= 0 || static_cast<size_t>(dg.line) > lines_.size()) continue;
      const RenderedLine& at = lines_[dg.line - 1];
      if (at.section == nullptr) continue;
      std::string refused =
          fmt::format("{} ({} -t would refuse it)", translate(dg.message), check_.daemon);
      if (at.entry >= 0) {
        const ImportedEntry& e = at.section->entries[at.entry];
        msg_.warning(e.file.empty() ? at.section->file : e.file, e.line ? e.line : at.section->line,
                     refused + ": dropped");
        refusals_.entries[at.section].insert(at.entry);
      } else if (refusals_.sections.insert(at.section).second) {
        msg_.warning(at.section->file, at.section->line,
                     fmt::format("{}: [{}] is dropped", refused, at.section->header));
      }
    }
  }

  // Leaves out what was refused. False when nothing was.
  bool dropRefused() {
    if (refusals_.empty()) return false;
    for (auto& [section, indexes] : refusals_.entries) {
      for (int i : indexes) section->entries.erase(section->entries.begin() + i);
    }
    for (ImportedSection* section : refusals_.sections) section->dropped = true;
    return true;
  }

 private:
  void section(ImportedSection& s) {
    if (s.dropped) return;
    if (std::string why = common::iniHeaderProblem(s.header); !why.empty()) {
      msg_.warning(s.file, s.line,
                   fmt::format("[{}]: the header cannot be written to {} ({}): the section is "
                               "dropped",
                               s.header, check_.ini_name, why));
      refusals_.sections.insert(&s);
      return;
    }
    mark(nullptr, -1);
    w_.blankLine();
    // Only where it fits the layout's target; the section says enough.
    std::string from = "from " + s.origin;
    if (from.size() + 2 <= common::kIniLineTarget) w_.comment(from);
    (void)w_.section(s.header);
    mark(&s, -1);
    for (size_t i = 0; i < s.entries.size(); ++i) {
      const ImportedEntry& e = s.entries[i];
      if (auto r = w_.entry(e.key, e.value, e.breaks); !r) {
        msg_.warning(e.file.empty() ? s.file : e.file, e.line ? e.line : s.line,
                     fmt::format("{}: the value cannot be written to {} ({}): dropped", e.key,
                                 check_.ini_name, r.error()));
        refusals_.entries[&s].insert(static_cast<int>(i));
        continue;
      }
      mark(&s, static_cast<int>(i));
    }
  }

  // The lines written since the last mark came from `section`'s `entry`.
  void mark(ImportedSection* section, int entry) {
    while (lines_.size() < w_.lines()) lines_.push_back({section, entry});
  }

  // "FILE:LINE" of the source for a line of the rendered INI, or empty.
  std::string origin(int line) const {
    if (line <= 0 || static_cast<size_t>(line) > lines_.size()) return {};
    const RenderedLine& at = lines_[line - 1];
    if (!at.section) return {};
    if (at.entry >= 0 && at.section->entries[at.entry].line) {
      const ImportedEntry& e = at.section->entries[at.entry];
      return fmt::format("{}:{}", e.file, e.line);
    }
    return at.section->origin;
  }

  // "(also on line 13)" names a line of the rendered INI: say the source's.
  std::string translate(std::string message) const {
    static const std::regex kLine("line ([0-9]+)");
    std::smatch m;
    if (std::regex_search(message, m, kLine)) {
      std::string where = origin(std::stoi(m[1].str()));
      if (!where.empty()) message.replace(m.position(0), m.length(0), where);
    }
    return message;
  }

  const DaemonCheck& check_;
  common::Diagnostics& msg_;
  common::IniWriter w_;
  std::vector<RenderedLine> lines_;
  Refusals refusals_;
};

}  // namespace

std::string vetThroughLoader(const std::vector<std::string>& head,
                             const std::function<std::vector<ImportedSection*>()>& sections,
                             const DaemonCheck& check, common::Diagnostics& msg) {
  for (;;) {
    Round round(check, msg);
    std::string ini = round.render(head, sections());
    round.vet(ini);
    if (!round.dropRefused()) return ini;
  }
}

}  // namespace importer
