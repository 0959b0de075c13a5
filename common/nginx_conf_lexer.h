// nginx.conf's tokens (ngx_conf_read_token in src/core/ngx_conf_file.c):
// words, quoted strings with nginx's escapes, ';', '{', '}', '#' comments,
// each with its line. Shared by --import-nginx and by the map/geo files that
// proxyd.ini's `include` reads in nginx's syntax.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace common {

struct NginxToken {
  std::string text;
  int line = 0;
};

class NginxLexer {
 public:
  enum class Kind { word, semicolon, open, close, end, error };
  struct Lexeme {
    Kind kind;
    NginxToken token;
    int line;
    std::string error;
  };

  explicit NginxLexer(std::string_view text) : t_(text) {}

  Lexeme next();

 private:
  void advance();
  Lexeme quoted(char q, int start_line);
  Lexeme word(int start_line);

  std::string_view t_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace common
