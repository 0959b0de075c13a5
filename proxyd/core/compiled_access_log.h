// One access_log of a [server] made ready to run: its format (with the
// format's escape=) and its if= condition, compiled against the
// configuration's variables.
#pragma once

#include <optional>

#include "common/result.h"
#include "proxyd/core/access_log_target.h"
#include "proxyd/core/config.h"
#include "proxyd/core/log_format.h"
#include "proxyd/core/template.h"
#include "proxyd/core/variable_table.h"

namespace proxyd {

struct CompiledAccessLog {
  AccessLogTarget target;
  LogFormat format;
  std::optional<Template> condition;  // none: every session is logged
};

common::Result<CompiledAccessLog> compileAccessLog(const ProxyConfig& cfg,
                                                   const AccessLogTarget& target,
                                                   const VariableTable* variables);

}  // namespace proxyd
