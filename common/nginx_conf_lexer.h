// nginx.conf's tokens (ngx_conf_read_token in src/core/ngx_conf_file.c):
// words, quoted strings with nginx's escapes, ';', '{', '}', '#' comments,
// each with its line. Shared by --import-nginx and by the map/geo files that
// proxyd.ini's `include` reads in nginx's syntax.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

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

// One "WORD WORD ...;" of a block body.
struct NginxStatement {
  std::vector<std::string> words;
  int line = 0;
};

// The statements of a file that holds a block's body and nothing else (an
// included geo or map body), as ngx_conf_parse reads them for a block
// handler: a "{" or "}" there is an error in nginx's words. On an error,
// `*error_line` gets its line.
Result<std::vector<NginxStatement>> readNginxStatements(std::string_view text, int* error_line);

}  // namespace common
