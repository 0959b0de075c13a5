#include "proxyd/core/compiled_access_log.h"

#include <fmt/format.h>

namespace proxyd {

common::Result<CompiledAccessLog> compileAccessLog(const ProxyConfig& cfg,
                                                   const AccessLogTarget& target,
                                                   const VariableTable* variables) {
  using R = common::Result<CompiledAccessLog>;
  auto text = cfg.log_format_text.find(target.format_name);
  if (text == cfg.log_format_text.end()) {
    return R::fail(fmt::format("unknown log format \"{}\"", target.format_name));
  }
  auto escape = cfg.log_format_escape.find(target.format_name);
  auto format = LogFormat::compile(
      text->second, escape == cfg.log_format_escape.end() ? Escape::standard : escape->second,
      variables);
  if (!format) return R::fail(format.error());
  CompiledAccessLog compiled{target, std::move(*format), std::nullopt};
  if (target.condition) {
    auto condition = Template::compile(*target.condition, variables);
    if (!condition) return R::fail(fmt::format("if={}: {}", *target.condition, condition.error()));
    compiled.condition = std::move(*condition);
  }
  return compiled;
}

}  // namespace proxyd
