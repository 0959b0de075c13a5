// nginx's limit_conn_zone, limit_conn, limit_conn_log_level and
// limit_conn_dry_run as proxyd.ini values: each argument one INI token,
// checked with proxyd's own parsers (limits_config.h), which give nginx's
// reasons when nginx would refuse the directive.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ini_file.h"
#include "import/conf_statement.h"

namespace importer {

bool isLimitConnDirective(std::string_view name);

// The value to write, or none with a warning at the directive.
std::optional<std::string> limitConnValue(const ConfStatement& d, common::Diagnostics& msg);

}  // namespace importer
