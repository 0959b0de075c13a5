#include "proxyd/core/log_format.h"

namespace proxyd {

common::Result<LogFormat> LogFormat::compile(std::string_view text, Escape escape,
                                             const VariableTable* table) {
  // ngx_stream_log_compile_format takes no captures: "$1" is a variable name.
  auto body = Template::compile(text, table, Template::Options{.captures = false});
  if (!body) return common::Result<LogFormat>::fail(body.error());
  LogFormat format;
  format.body_ = std::move(*body);
  format.escape_ = escape;
  return format;
}

}  // namespace proxyd
