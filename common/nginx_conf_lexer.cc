#include "common/nginx_conf_lexer.h"

#include <fmt/format.h>

namespace common {

namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// nginx unescapes \" \' \\ and turns \t \r \n into the characters; any other
// backslash stays as written (ngx_conf_read_token's copy loop).
std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      char n = raw[i + 1];
      if (n == '"' || n == '\'' || n == '\\') {
        out += n;
        ++i;
        continue;
      }
      if (n == 't' || n == 'r' || n == 'n') {
        out += n == 't' ? '\t' : n == 'r' ? '\r' : '\n';
        ++i;
        continue;
      }
    }
    out += raw[i];
  }
  return out;
}

}  // namespace

NginxLexer::Lexeme NginxLexer::next() {
  for (;;) {
    while (pos_ < t_.size() && isSpace(t_[pos_])) advance();
    if (pos_ >= t_.size()) return {Kind::end, {}, line_, {}};
    char c = t_[pos_];
    if (c == '#') {  // a comment starts only where a token would
      while (pos_ < t_.size() && t_[pos_] != '\n') ++pos_;
      continue;
    }
    if (c == ';' || c == '{' || c == '}') {
      ++pos_;
      return {c == ';' ? Kind::semicolon : c == '{' ? Kind::open : Kind::close, {}, line_, {}};
    }
    int start_line = line_;
    if (c == '"' || c == '\'') return quoted(c, start_line);
    return word(start_line);
  }
}

void NginxLexer::advance() {
  if (t_[pos_] == '\n') ++line_;
  ++pos_;
}

NginxLexer::Lexeme NginxLexer::quoted(char q, int start_line) {
  ++pos_;
  size_t begin = pos_;
  while (pos_ < t_.size() && t_[pos_] != q) {
    if (t_[pos_] == '\\' && pos_ + 1 < t_.size()) advance();
    advance();
  }
  if (pos_ >= t_.size()) {
    return {Kind::error,
            {},
            start_line,
            fmt::format("unexpected end of file: the string opened here has no closing {}",
                        q == '"' ? "'\"'" : "\"'\"")};
  }
  std::string_view raw = t_.substr(begin, pos_ - begin);
  ++pos_;
  // nginx wants a separator after a closing quote.
  if (pos_ < t_.size()) {
    char n = t_[pos_];
    if (n == ')') {
      ++pos_;
    } else if (!isSpace(n) && n != ';' && n != '{') {
      return {Kind::error, {}, line_, fmt::format("unexpected \"{}\" after a quoted string", n)};
    }
  }
  return {Kind::word, NginxToken{unescape(raw), start_line}, start_line, {}};
}

NginxLexer::Lexeme NginxLexer::word(int start_line) {
  size_t begin = pos_;
  bool variable = false;
  while (pos_ < t_.size()) {
    char ch = t_[pos_];
    if (ch == '{' && variable) {  // "${name}" is a variable, not a block
      ++pos_;
      variable = false;
      continue;
    }
    variable = false;
    if (ch == '\\' && pos_ + 1 < t_.size()) {
      ++pos_;
      advance();
      continue;
    }
    if (ch == '$') variable = true;
    if (isSpace(ch) || ch == ';' || ch == '{') break;
    ++pos_;
  }
  return {
      Kind::word, NginxToken{unescape(t_.substr(begin, pos_ - begin)), start_line}, start_line, {}};
}

Result<std::vector<NginxStatement>> readNginxStatements(std::string_view text, int* error_line) {
  using R = Result<std::vector<NginxStatement>>;
  std::vector<NginxStatement> out;
  NginxStatement current;
  NginxLexer lexer(text);
  for (;;) {
    NginxLexer::Lexeme lx = lexer.next();
    switch (lx.kind) {
      case NginxLexer::Kind::word:
        if (current.words.empty()) current.line = lx.line;
        current.words.push_back(std::move(lx.token.text));
        break;
      case NginxLexer::Kind::semicolon:
        if (current.words.empty()) {
          *error_line = lx.line;
          return R::fail("unexpected \";\"");
        }
        out.push_back(std::move(current));
        current = {};
        break;
      case NginxLexer::Kind::open:
      case NginxLexer::Kind::close:
        *error_line = lx.line;
        return R::fail(lx.kind == NginxLexer::Kind::open ? "unexpected \"{\"" : "unexpected \"}\"");
      case NginxLexer::Kind::end:
        if (!current.words.empty()) {
          *error_line = current.line;
          return R::fail("unexpected end of file, expecting \";\" or \"}\"");
        }
        return out;
      case NginxLexer::Kind::error:
        *error_line = lx.line;
        return R::fail(lx.error);
    }
  }
}

}  // namespace common
