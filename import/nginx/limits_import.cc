#include "import/nginx/limits_import.h"

#include <fmt/format.h>

#include "common/config_text.h"
#include "common/duration.h"
#include "proxyd/core/limits_config.h"

namespace importer {

bool isLimitConnDirective(std::string_view name) {
  return name == "limit_conn_zone" || name == "limit_conn" || name == "limit_conn_log_level" ||
         name == "limit_conn_dry_run";
}

std::optional<std::string> limitConnValue(const ConfStatement& d, common::Diagnostics& msg) {
  std::string value;
  for (const std::string& word : d.args) {
    value += (value.empty() ? "" : " ") + common::quoteToken(word);
  }
  std::string error;
  if (d.block) {
    error = "a block is not expected";
  } else if (d.name == "limit_conn_zone") {
    if (auto r = proxyd::parseLimitConnZone(value); !r) error = r.error();
  } else if (d.name == "limit_conn") {
    if (auto r = proxyd::parseLimitConn(value); !r) error = r.error();
  } else if (d.name == "limit_conn_log_level") {
    if (auto r = proxyd::parseLimitConnLogLevel(value); !r) error = r.error();
  } else if (auto r = common::parseFlag(value); !r) {
    error = r.error();
  }
  if (error.empty()) return value;
  msg.warning(d.file, d.line, fmt::format("{}: {}: dropped", d.name, error));
  return std::nullopt;
}

}  // namespace importer
