// The INI writer: text that the INI reader (ini_file.h) gives back exactly as
// written, or a clear refusal. The importers write proxyd.ini and vrrpd.ini
// through it.
//
// The reader's rules it writes for: a line holds at most 199 characters
// (libinih 55); a long value continues on indented lines, whose pieces are
// trimmed and joined with one space; " ;" starts a comment anywhere, ";" or
// "#" at the start of a (continuation) line; "key = value" splits at the
// first "=" or ":"; a header ends at the first "]".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace common {

inline constexpr std::size_t kIniMaxLine = 199;     // what libinih 55 reads
inline constexpr std::size_t kIniLineTarget = 190;  // where a long value is continued

// Why "[header]" cannot be written so that the reader gives `header` back,
// or empty when it can.
std::string iniHeaderProblem(std::string_view header);

// Why "key = value" cannot be written so that the reader gives both back
// byte for byte, or empty when it can. `breaks` as for IniWriter::entry.
std::string iniEntryProblem(std::string_view key, std::string_view value,
                            const std::vector<std::size_t>& breaks = {});

class IniWriter {
 public:
  // "; text" on a line of its own. A comment is for people: one that would
  // not fit kIniMaxLine or holds a line break is left out.
  void comment(std::string_view text);
  void blankLine();

  // Writes "[header]". Returns its line (from 1), or why it cannot be
  // written, having written nothing.
  Result<std::size_t> section(std::string_view header);

  // Writes "key = value", continued on indented lines beyond kIniLineTarget.
  // `breaks`: offsets in `value` where a piece of the source began, the
  // preferred places to continue (one source piece a line where they
  // allow it). Returns the key's line, or why the entry cannot be written
  // (iniEntryProblem, or no section yet), having written nothing.
  Result<std::size_t> entry(std::string_view key, std::string_view value,
                            const std::vector<std::size_t>& breaks = {});

  const std::string& text() const { return out_; }
  std::size_t lines() const { return lines_; }  // lines written so far

 private:
  void line(std::string_view text);

  std::string out_;
  std::size_t lines_ = 0;
  bool in_section_ = false;
};

}  // namespace common
