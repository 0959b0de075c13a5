// nginx stream `log_format`: a template (template.h) compiled once at load
// with its escape mode; rendering a session is then a walk over its pieces.
// The output is the line nginx writes for the same session, byte for byte
// apart from the times.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "proxyd/core/session_record.h"
#include "proxyd/core/session_variables.h"
#include "proxyd/core/template.h"
#include "proxyd/core/variables.h"

namespace proxyd {

class LogFormat {
 public:
  // Compiles "$remote_addr [$time_local] ${status}..."; an unknown variable
  // is an error naming it ("unknown variable \"$foo\""). User variables are
  // looked up in `table`.
  static common::Result<LogFormat> compile(std::string_view text, Escape escape = Escape::standard,
                                           const VariableTable* table = nullptr);

  // Appends the rendered line (without the newline) to `out`.
  void render(SessionVariables& vars, std::string& out) const { body_.render(vars, out, escape_); }
  // The same for a format of built-in variables only.
  void render(const SessionRecord& s, const ProcessInfo& proc, std::string& out) const {
    SessionVariables vars(s, proc);
    render(vars, out);
  }

  // Whether the format refers to `v` (lets the session skip work, such as
  // getsockname() for $server_addr, that no line will show).
  bool uses(Variable v) const { return body_.uses(v); }
  Escape escape() const { return escape_; }

 private:
  Template body_;
  Escape escape_ = Escape::standard;
};

}  // namespace proxyd
