#include "common/ini_file.h"

#include <algorithm>

#include <fcntl.h>
#include <ini.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <set>

#include "common/sys_error.h"
#include "common/unique_fd.h"

namespace common {

std::string Diagnostic::format() const {
  const char* sev = severity == Severity::error ? "error" : "warning";
  if (line == 0) return fmt::format("{}: {}: {}", file, sev, message);
  return fmt::format("{}:{}: {}: {}", file, line, sev, message);
}

void Diagnostics::error(const std::string& file, int line, std::string message) {
  items_.push_back({Severity::error, file, line, std::move(message)});
}

void Diagnostics::warning(const std::string& file, int line, std::string message) {
  items_.push_back({Severity::warning, file, line, std::move(message)});
}

bool Diagnostics::hasErrors() const {
  for (const auto& d : items_) {
    if (d.severity == Severity::error) return true;
  }
  return false;
}

std::vector<std::string> Diagnostics::formattedInSourceOrder() const {
  std::vector<std::string> files;
  std::vector<std::pair<std::pair<size_t, int>, const Diagnostic*>> order;
  for (const Diagnostic& d : items_) {
    auto it = std::find(files.begin(), files.end(), d.file);
    size_t rank = static_cast<size_t>(it - files.begin());
    if (it == files.end()) files.push_back(d.file);
    order.push_back({{rank, d.line}, &d});
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& [key, d] : order) out.push_back(d->format());
  return out;
}

void Diagnostics::print(std::ostream& out) const {
  for (const auto& d : items_) out << d.format() << '\n';
}

std::vector<const IniEntry*> IniSection::all(std::string_view key) const {
  std::vector<const IniEntry*> out;
  for (const auto& e : entries) {
    if (e.key == key) out.push_back(&e);
  }
  return out;
}

namespace {

constexpr std::string_view kSyntaxError =
    "syntax error (expected \"key = value\" or \"[section]\")";

// inih decides with isspace(); we must classify lines exactly as it does.
bool isSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

std::string_view trimLeft(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view trimRight(std::string_view s) {
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  return trimRight(trimLeft(s));
}

// What the line just handed to inih is, as far as we are concerned. inih's
// handler gets neither a line number nor whether the call is a continuation;
// the reader knows both, because inih handles each line before reading the
// next one.
enum class LineKind {
  ignored,       // blank, comment, a section header, or a line already reported
  key,           // "key = value": inih will call the handler with it
  continuation,  // an indented line that inih will append to the previous key
};

// Our reader and handler share this state through inih's `stream` and `user`.
class Parser {
 public:
  Parser(std::string_view text, IniDocument& doc, Diagnostics& diag)
      : text_(text), doc_(doc), diag_(diag) {}

  void run() {
    int first_error = ini_parse_stream(&Parser::readLine, this, &Parser::handle, this);
    finishLine();
    // Safety net: inih found a problem on a line we let through. Our own
    // classification should catch every case first, so this only fires if
    // inih's rules and ours ever disagree.
    if (first_error > 0 && reported_.count(first_error) == 0) error(first_error, kSyntaxError);
  }

 private:
  static char* readLine(char* str, int num, void* stream) {
    return static_cast<Parser*>(stream)->read(str, num);
  }

  static int handle(void* user, const char* /*section*/, const char* /*name*/, const char* value) {
    static_cast<Parser*>(user)->onValue(value);
    return 1;  // problems are reported by us, with their line, not through inih
  }

  void error(int line, std::string_view message) {
    reported_.insert(line);
    diag_.error(doc_.path, line, std::string(message));
  }

  // A line we expected inih to hand back never reached the handler.
  void finishLine() {
    if (kind_ != LineKind::ignored && !handled_) error(line_no_, kSyntaxError);
    kind_ = LineKind::ignored;
    handled_ = false;
  }

  char* read(char* str, int num) {
    finishLine();
    if (pos_ >= text_.size()) return nullptr;
    std::size_t nl = text_.find('\n', pos_);
    std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
    ++line_no_;

    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);                  // CRLF
    if (line_no_ == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // BOM

    // inih takes at most num - 1 characters and would read the rest of a
    // longer line as a line of its own. Hand it an empty line instead, so the
    // line count stays right and the rest of the file is still checked.
    std::string_view fed = line;
    auto max_len = static_cast<std::size_t>(num > 1 ? num - 1 : 0);
    if (line.size() > max_len) {
      error(line_no_, fmt::format("line is longer than {} characters; continue a long value on "
                                  "indented lines",
                                  max_len));
      fed = {};
    } else if (line.find('\0') != std::string_view::npos) {
      error(line_no_, "line contains a NUL byte");
      fed = {};
    } else {
      fed = classify(line);
    }
    if (!fed.empty()) std::memcpy(str, fed.data(), fed.size());
    str[fed.size()] = '\0';
    return str;
  }

  // Decides what inih will do with the line and reports what it would
  // accept but we do not. Returns the text to hand to inih.
  std::string_view classify(std::string_view line) {
    // An inline comment is ";" after whitespace, inih's own rule. inih 55
    // does not strip it from continuation lines, so we strip it from every
    // line before inih sees it.
    for (std::size_t i = 1; i < line.size(); ++i) {
      if (line[i] == ';' && isSpace(line[i - 1])) {
        line = line.substr(0, i);
        break;
      }
    }
    line = trimRight(line);
    std::string_view start = trimLeft(line);

    if (start.empty() || start.front() == ';' || start.front() == '#') return line;

    // inih: an indented line continues the previous key's value, even across
    // blank and comment lines, until the next section header.
    if (has_prev_name_ && start.size() < line.size()) {
      kind_ = LineKind::continuation;
      return line;
    }

    if (start.front() == '[') {
      auto close = start.find(']');
      if (close == std::string_view::npos) {
        // inih keeps the previous section; dropping the keys that follow
        // avoids a cascade of errors about them.
        error(line_no_, kSyntaxError);
        in_broken_section_ = true;
        can_continue_ = false;
        return line;
      }
      has_prev_name_ = false;
      can_continue_ = false;
      std::string_view header = trim(start.substr(1, close - 1));
      if (header.empty()) {
        error(line_no_, kSyntaxError);
        in_broken_section_ = true;
        return line;
      }
      if (!trim(start.substr(close + 1)).empty()) {
        // inih ignores text after "]"; a typo there should not go unnoticed.
        error(line_no_, fmt::format("syntax error (text after \"[{}]\"; a comment at the end of a "
                                    "line starts with \" ;\")",
                                    header));
      }
      in_broken_section_ = false;
      doc_.sections.push_back(makeSection(header));
      return line;
    }

    // inih splits at the first "=" or ":" (Python configparser allows
    // "key: value"); we accept only "=", as every example and the importers
    // write, so that "a:b = c" is not quietly read as key "a".
    auto sep = start.find_first_of("=:");
    if (sep == std::string_view::npos) {
      error(line_no_, kSyntaxError);
      return line;
    }
    std::string_view name = trimRight(start.substr(0, sep));
    has_prev_name_ = !name.empty();
    can_continue_ = false;
    if (start[sep] != '=' || name.empty()) {
      error(line_no_, kSyntaxError);
      return line;
    }
    if (in_broken_section_) return line;
    if (doc_.sections.empty()) {
      error(line_no_, fmt::format("key \"{}\" outside of any section", name));
      return line;
    }
    kind_ = LineKind::key;
    // Our own copy: inih cuts names at 49 characters.
    key_ = std::string(name);
    return line;
  }

  IniSection makeSection(std::string_view header) const {
    IniSection s;
    s.header = std::string(header);
    s.line = line_no_;
    std::string_view rest = header;
    std::size_t i = 0;
    while (i < rest.size() && !isSpace(rest[i])) ++i;
    s.type = std::string(rest.substr(0, i));
    rest = trimLeft(rest.substr(i));
    // The label with runs of whitespace collapsed to one space.
    bool space = false;
    for (char c : rest) {
      if (isSpace(c)) {
        space = true;
        continue;
      }
      if (space) s.label += ' ';
      space = false;
      s.label += c;
    }
    return s;
  }

  void onValue(const char* value) {
    handled_ = true;
    if (kind_ == LineKind::key) {
      doc_.sections.back().entries.push_back(IniEntry{key_, value, line_no_});
      can_continue_ = true;
    } else if (kind_ == LineKind::continuation && can_continue_) {
      std::string& v = doc_.sections.back().entries.back().value;
      if (!v.empty()) v += ' ';
      v += value;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  IniDocument& doc_;
  Diagnostics& diag_;
  int line_no_ = 0;
  LineKind kind_ = LineKind::ignored;
  bool handled_ = false;  // the handler ran for the current line
  // Mirrors inih's prev_name: whether an indented line is a continuation.
  bool has_prev_name_ = false;
  // Whether the last entry of the last section may take continuation lines
  // (false after a key we refused, so its continuations are dropped too).
  bool can_continue_ = false;
  bool in_broken_section_ = false;
  std::string key_;
  std::set<int> reported_;
};

}  // namespace

IniDocument parseIni(std::string_view text, const std::string& path, Diagnostics& diag) {
  IniDocument doc;
  doc.path = path;
  Parser(text, doc, diag).run();
  return doc;
}

IniDocument loadIniFile(const std::string& path, Diagnostics& diag) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    diag.error(path, 0, SysError{"cannot read", errno}.brief());
    return IniDocument{path, {}};
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // A directory opens fine and fails here with EISDIR.
      diag.error(path, 0, SysError{"cannot read", errno}.brief());
      return IniDocument{path, {}};
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return parseIni(text, path, diag);
}

}  // namespace common
