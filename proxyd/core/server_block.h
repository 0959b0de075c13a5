// A [server] section made ready to run: its upstream group, compiled hash
// key and access-log format, and its error log. Sessions hold a shared_ptr
// to the block they were accepted by, so a block outlives a reload for as long
// as its sessions run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "proxyd/core/compiled_access_log.h"
#include "proxyd/core/config.h"
#include "proxyd/core/limit_conn_check.h"
#include "proxyd/core/log_format.h"
#include "proxyd/core/proxy_pass_target.h"
#include "proxyd/core/stats.h"
#include "proxyd/core/template.h"
#include "proxyd/core/upstream_group.h"
#include "proxyd/core/variable_table.h"

namespace proxyd {

class TlsServerContext;  // proxyd/io/tls_context.h
class TlsClientContext;

// One `set` of the block, compiled: the variable's index and its value.
struct SetCommand {
  std::size_t index = 0;
  Template value;
};

struct ServerBlock {
  ServerSection section;
  std::shared_ptr<UpstreamGroup> group;  // none with `return` or proxy_pass with variables
  std::shared_ptr<const VariableTable> variables;  // the configuration's user variables
  std::optional<Template> hash_key;                // for hash and consistent_hash
  std::vector<CompiledAccessLog> access_logs;      // none: no access log
  std::shared_ptr<common::Log> error_log;          // the server's own, or the main one
  std::string listen_text;                         // "0.0.0.0:10443", for error-log context
  std::string server_name;                         // $server_name: the first, as nginx shows it
  // Counters of this [server] (kept by name across reloads) and the last
  // connect error of each peer of its group (shared by the group's blocks).
  std::shared_ptr<ServerStats> stats;
  std::shared_ptr<PeerErrors> peer_errors;
  // set, return and proxy_pass with variables (compileScripts).
  std::vector<SetCommand> sets;
  std::optional<Template> return_text;
  std::optional<Template> pass_value;
  std::optional<Template> pass_target;              // `pass`: the address of another listener
  std::shared_ptr<const RouteGroups> route_groups;  // what pass_value may name
  // limit_conn (none: the session never looks at a zone) and the rates
  // (none: no limit); compileScripts makes the rates.
  std::shared_ptr<const LimitConnPolicy> limit_conn;
  std::optional<Template> upload_rate;
  std::optional<Template> download_rate;
  std::optional<Template> bind_value;  // proxy_bind with variables
  // Made (and the files read) with the block: listen ... ssl, proxy_ssl.
  std::shared_ptr<const TlsServerContext> tls;
  std::shared_ptr<const TlsClientContext> proxy_tls;

  // Whether some access log (its format or its condition) needs `v`.
  bool logsUse(Variable v) const {
    for (const CompiledAccessLog& log : access_logs) {
      if (log.format.uses(v) || (log.condition && log.condition->uses(v))) return true;
    }
    return false;
  }

  // allow/deny (ngx_stream_access_module): first match wins, none: allowed.
  bool allows(const common::SocketAddress& client) const {
    for (const AccessRule& rule : section.access_rules) {
      if (rule.cidr.contains(client)) return rule.allow;
    }
    return true;
  }

  // The groups sessions of this block may use (health checks run for them).
  std::vector<std::shared_ptr<UpstreamGroup>> reachableGroups() const;
};

// Compiles the section's set, return and (when they have variables)
// proxy_pass and proxy_bind against `block.variables`; `groups` is every group of the generation.
common::Result<void> compileScripts(ServerBlock& block, std::shared_ptr<const RouteGroups> groups);

}  // namespace proxyd
