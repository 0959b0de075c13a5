// A [server] section made ready to run: its upstream group, compiled hash
// key and access-log format, and its error log. Sessions hold a shared_ptr
// to the block they were accepted by, so a block outlives a reload for as long
// as its sessions run.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/log.h"
#include "proxyd/config.h"
#include "proxyd/log_format.h"
#include "proxyd/upstream_group.h"

namespace proxyd {

struct ServerBlock {
  ServerSection section;
  std::shared_ptr<UpstreamGroup> group;
  std::optional<LogFormat> hash_key;       // for hash and consistent_hash
  std::optional<LogFormat> access_format;  // none: no access log
  std::shared_ptr<common::Log> error_log;  // the server's own, or the main one
  std::string listen_text;                 // "0.0.0.0:10443", for error-log context
};

}  // namespace proxyd
