#include "common/config_text.h"

#include <fmt/format.h>

namespace common {

std::vector<std::string> splitWords(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

namespace {

bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One quoted token from text[i] (the opening quote); i ends past the
// closing one.
Result<std::string> quoted(std::string_view text, std::size_t& i) {
  const char quote = text[i++];
  std::string out;
  while (i < text.size() && text[i] != quote) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      const char n = text[i + 1];
      if (n == '"' || n == '\'' || n == '\\') {
        out += n;
        i += 2;
        continue;
      }
      if (n == 't' || n == 'r' || n == 'n') {
        out += n == 't' ? '\t' : n == 'r' ? '\r' : '\n';
        i += 2;
        continue;
      }
      if (n == 'x' && i + 3 < text.size() && hexDigit(text[i + 2]) >= 0 &&
          hexDigit(text[i + 3]) >= 0) {
        out += static_cast<char>(hexDigit(text[i + 2]) * 16 + hexDigit(text[i + 3]));
        i += 4;
        continue;
      }
    }
    out += c;
    ++i;
  }
  if (i == text.size()) {
    return Result<std::string>::fail(fmt::format("unbalanced {} in \"{}\"", quote, text));
  }
  ++i;  // the closing quote
  if (i < text.size() && !isBlank(text[i])) {
    return Result<std::string>::fail(
        fmt::format("unexpected \"{}\" after a quoted word in \"{}\"", text[i], text));
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> splitTokens(std::string_view text) {
  std::vector<std::string> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isBlank(text[i])) ++i;
    if (i == text.size()) break;
    if (text[i] == '"' || text[i] == '\'') {
      auto word = quoted(text, i);
      if (!word) return Result<std::vector<std::string>>::fail(word.error());
      tokens.push_back(std::move(*word));
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && !isBlank(text[i])) ++i;
    tokens.emplace_back(text.substr(start, i - start));
  }
  return tokens;
}

Result<std::string> splitOneToken(std::string_view text) {
  auto tokens = splitTokens(text);
  if (!tokens) return Error{tokens.error()};
  if (tokens->size() != 1) {
    return Result<std::string>::fail(fmt::format("expected one value, got {}", tokens->size()));
  }
  return std::move(tokens->front());
}

std::string quoteToken(std::string_view word) {
  bool plain = !word.empty() && word.front() != '"' && word.front() != '\'' &&
               word.front() != '#' && word.front() != ';';
  for (const char ch : word) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || ch == ';' || ch == '\\') plain = false;
  }
  if (plain) return std::string(word);
  std::string out = "\"";
  for (const char ch : word) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f || ch == ';') {
      out += fmt::format("\\x{:02X}", c);
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

std::string asciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = asciiLower(c);
  return out;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

std::string directoryOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace common
