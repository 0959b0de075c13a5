// INI files read through Debian's libinih (ini_parse_stream) with a line
// reader of our own, so that every entry carries its line number and every
// problem can be reported as FILE:LINE.
//
// libinih 55 reads at most 199 characters a line and would silently split a
// longer one; our reader turns such a line into an error instead. Values may
// continue on indented lines (inih's multi-line values); the pieces are joined
// with one space. " ;" starts a comment at the end of a line; ";" or "#" at
// the start of a line.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace common {

enum class Severity { warning, error };

struct Diagnostic {
  Severity severity;
  std::string file;
  int line;  // 0 when the problem is about the file as a whole
  std::string message;
  // "FILE:LINE: error: message" (or "FILE: error: message" when line is 0).
  std::string format() const;
};

class Diagnostics {
 public:
  void error(const std::string& file, int line, std::string message);
  void warning(const std::string& file, int line, std::string message);
  bool hasErrors() const;
  const std::vector<Diagnostic>& items() const { return items_; }
  void print(std::ostream& out) const;  // one formatted line each
  // The formatted lines in the order of the source: by file (in the order
  // the files first show up) and line, whatever order they were found in.
  std::vector<std::string> formattedInSourceOrder() const;

 private:
  std::vector<Diagnostic> items_;
};

struct IniEntry {
  std::string key;
  std::string value;  // continuation lines joined with one space
  int line = 0;       // line of the key
};

struct IniSection {
  std::string header;  // as written between the brackets: "upstream k8s"
  std::string type;    // first word: "upstream"
  std::string label;   // the rest, trimmed: "k8s" (empty if none)
  int line = 0;
  std::vector<IniEntry> entries;

  // Every entry with this key, in file order.
  std::vector<const IniEntry*> all(std::string_view key) const;
};

struct IniDocument {
  std::string path;
  std::vector<IniSection> sections;
};

// Reads and parses a file. A file that cannot be read is an error with line 0.
IniDocument loadIniFile(const std::string& path, Diagnostics& diag);

// Parses text as if it were the file `path` (for tests and for -T).
IniDocument parseIni(std::string_view text, const std::string& path, Diagnostics& diag);

}  // namespace common
