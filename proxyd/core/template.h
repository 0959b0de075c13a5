// A text with variables in it, compiled once at load: nginx's "complex value"
// (proxy_pass $backend, return "...", a map source, a hash key) and the body
// of a log_format. Rendering walks the compiled pieces; a template with no
// variable is its literal text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "proxyd/core/session_variables.h"
#include "proxyd/core/variable_table.h"
#include "proxyd/core/variables.h"

namespace proxyd {

class Template {
 public:
  struct Options {
    // $1..$9 are the captures of the last regex match (complex values);
    // a log_format has none, there "$1" is an unknown variable as in nginx.
    bool captures = true;
  };

  // Compiles "$remote_addr:${server_port}x". A name that is neither built in
  // nor declared in `table` is an error naming it ("unknown variable
  // \"$foo\""); so are a lone '$' and an unclosed "${".
  static common::Result<Template> compile(std::string_view text,
                                          const VariableTable* table = nullptr);
  static common::Result<Template> compile(std::string_view text, const VariableTable* table,
                                          Options options);

  // Appends the value; escape=none outside the access log.
  void render(SessionVariables& vars, std::string& out, Escape escape = Escape::none) const;
  std::string evaluate(SessionVariables& vars) const {
    std::string out;
    render(vars, out);
    return out;
  }

  bool uses(Variable v) const;
  bool usesUserVariables() const;
  // No variable at all: the value is literal().
  bool isLiteral() const {
    return pieces_.empty() || (pieces_.size() == 1 && !pieces_[0].isVariable());
  }
  std::string_view literal() const {
    return pieces_.empty() ? std::string_view() : std::string_view(pieces_[0].literal);
  }

 private:
  enum class Kind : std::uint8_t { literal, builtin, user, capture, proxy_protocol_tlv };
  struct Piece {
    Kind kind = Kind::literal;
    std::string literal;
    Variable builtin{};
    std::size_t index = 0;  // user variable index, capture number, or TLV selector
    bool isVariable() const { return kind != Kind::literal; }
  };
  std::vector<Piece> pieces_;
};

}  // namespace proxyd
