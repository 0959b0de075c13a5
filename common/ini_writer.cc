#include "common/ini_writer.h"

#include <fmt/format.h>

#include <cctype>
#include <set>

namespace common {

namespace {

// The reader decides with isspace(), as inih does.
bool isSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

constexpr std::string_view kIndent = "    ";
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// What no line of the file may hold, in a key, a value or a header.
std::string lineProblem(std::string_view text) {
  if (text.find_first_of("\r\n") != std::string_view::npos) return "it contains a line break";
  if (text.find('\0') != std::string_view::npos) return "it contains a NUL byte";
  // The reader drops a byte order mark at the start of the file.
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
    return "it begins with a byte order mark";
  }
  if (isSpace(text.front()) || isSpace(text.back())) return "it begins or ends with white space";
  return {};
}

// " ;" starts a comment, also right after the "= " before a value (`lead`).
bool startsComment(std::string_view text, bool after_space) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ';' && (i == 0 ? after_space : isSpace(text[i - 1]))) return true;
  }
  return false;
}

// The lines of "key = value": as written when it fits kIniLineTarget, else
// cut at single spaces between two other characters (the reader trims each
// piece and joins them with one space), never before a comment character
// (a continuation line may not begin with ";" or "#"). A piece with no such
// space in reach takes the first one after, so a line may exceed the
// target: iniEntryProblem checks the result against kIniMaxLine.
std::vector<std::string> layout(std::string_view key, std::string_view v,
                                const std::vector<std::size_t>& breaks) {
  const std::string first = std::string(key) + " = ";
  if (first.size() + v.size() <= kIniLineTarget) return {first + std::string(v)};
  auto canCut = [&](std::size_t i) {
    return i > 0 && i + 1 < v.size() && v[i] == ' ' && !isSpace(v[i - 1]) && !isSpace(v[i + 1]) &&
           v[i + 1] != ';' && v[i + 1] != '#';
  };
  std::set<std::size_t> preferred;
  for (std::size_t b : breaks) {
    if (b > 0 && canCut(b - 1)) preferred.insert(b - 1);
    if (canCut(b)) preferred.insert(b);
  }
  std::vector<std::string> lines;
  std::size_t start = 0;
  std::string lead = first;
  while (start < v.size()) {
    std::size_t room = lead.size() < kIniLineTarget ? kIniLineTarget - lead.size() : 0;
    // One source piece a line where the pieces allow it, else as much as fits.
    std::size_t cut = std::string::npos;
    std::size_t any = std::string::npos;
    for (std::size_t i = start + 1; i < v.size() && i - start <= room; ++i) {
      if (!canCut(i)) continue;
      any = i;
      if (preferred.count(i) && cut == std::string::npos) cut = i;
    }
    if (cut == std::string::npos && v.size() - start <= room) break;
    if (cut == std::string::npos) cut = any;
    for (std::size_t i = start + room; cut == std::string::npos && i < v.size(); ++i) {
      if (canCut(i)) cut = i;
    }
    if (cut == std::string::npos) break;
    lines.push_back(lead + std::string(v.substr(start, cut - start)));
    start = cut + 1;
    lead = kIndent;
  }
  lines.push_back(lead + std::string(v.substr(start)));
  return lines;
}

std::string tooLong(std::size_t length) {
  return fmt::format(
      "it needs a line of {} characters, and the INI reader takes at most {} (a value "
      "continues on the next line only at a single space)",
      length, kIniMaxLine);
}

}  // namespace

std::string iniHeaderProblem(std::string_view header) {
  if (header.empty()) return "it is empty";
  if (std::string why = lineProblem(header); !why.empty()) return why;
  if (header.find(']') != std::string_view::npos) return "\"]\" would end the header";
  if (startsComment(header, false)) return "\" ;\" would start an INI comment";
  if (header.size() + 2 > kIniMaxLine) return tooLong(header.size() + 2);
  return {};
}

std::string iniEntryProblem(std::string_view key, std::string_view value,
                            const std::vector<std::size_t>& breaks) {
  if (key.empty()) return "the key is empty";
  if (std::string why = lineProblem(key); !why.empty()) return "the key: " + why;
  if (key.find_first_of("=:") != std::string_view::npos) {
    return "the key: \"=\" or \":\" would end it";
  }
  if (key.front() == ';' || key.front() == '#' || key.front() == '[') {
    return "the key: its first character would make the line a comment or a header";
  }
  if (startsComment(key, false)) return "the key: \" ;\" would start an INI comment";
  if (value.empty()) return "it is empty";
  if (std::string why = lineProblem(value); !why.empty()) return why;
  if (startsComment(value, true)) return "\" ;\" would start an INI comment";
  for (const std::string& line : layout(key, value, breaks)) {
    if (line.size() > kIniMaxLine) return tooLong(line.size());
  }
  return {};
}

void IniWriter::line(std::string_view text) {
  out_ += text;
  out_ += '\n';
  ++lines_;
}

void IniWriter::comment(std::string_view text) {
  std::string written = "; " + std::string(text);
  if (written.size() > kIniMaxLine) return;
  if (written.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return;
  line(written);
}

void IniWriter::blankLine() {
  line({});
}

Result<std::size_t> IniWriter::section(std::string_view header) {
  if (std::string why = iniHeaderProblem(header); !why.empty()) {
    return Result<std::size_t>::fail(std::move(why));
  }
  line("[" + std::string(header) + "]");
  in_section_ = true;
  return lines_;
}

Result<std::size_t> IniWriter::entry(std::string_view key, std::string_view value,
                                     const std::vector<std::size_t>& breaks) {
  if (!in_section_) return Result<std::size_t>::fail("the reader takes no key before a section");
  if (std::string why = iniEntryProblem(key, value, breaks); !why.empty()) {
    return Result<std::size_t>::fail(std::move(why));
  }
  std::size_t first = lines_ + 1;
  for (const std::string& l : layout(key, value, breaks)) line(l);
  return first;
}

}  // namespace common
