// ngx_stream_limit_conn_handler as a pure step of the preaccess phase: the
// [server]'s limit_conn rules, compiled against the generation's variables
// and bound to the running zones, checked for one session. What it decides
// comes back as a value (status, whether to close with 503, the lines to
// log) for the session to carry out.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "proxyd/core/limit_conn_zone.h"
#include "proxyd/core/limits_config.h"
#include "proxyd/core/session_record.h"
#include "proxyd/core/template.h"

namespace proxyd {

class SessionVariables;
class VariableTable;
struct ServerSection;

struct LimitConnRule {
  std::shared_ptr<LimitConnZone> zone;
  Template key;  // the zone's key, compiled for this generation
  unsigned conn = 0;
};

struct LimitConnPolicy {
  std::vector<LimitConnRule> rules;  // in the order written
  common::LogLevel level = common::LogLevel::error;
  bool dry_run = false;
};

// The counts one session holds, given back when it ends (nginx's pool
// cleanups), whatever path ends it.
class LimitConnHold {
 public:
  LimitConnHold() = default;
  ~LimitConnHold() { releaseAll(); }
  LimitConnHold(const LimitConnHold&) = delete;
  LimitConnHold& operator=(const LimitConnHold&) = delete;

  void add(std::shared_ptr<LimitConnZone> zone, LimitConnZone::Node* node) {
    held_.emplace_back(std::move(zone), node);
  }
  void releaseAll();
  bool empty() const { return held_.empty(); }

 private:
  std::vector<std::pair<std::shared_ptr<LimitConnZone>, LimitConnZone::Node*>> held_;
};

struct LimitConnVerdict {
  struct Line {
    common::LogLevel level;
    std::string text;
    bool main_log = false;  // nginx's slab writes to the cycle's log, without session context
  };
  LimitConnStatus status = LimitConnStatus::none;
  bool reject = false;  // close with 503
  std::vector<Line> lines;
};

// The zones of a new configuration: one the running configuration has with
// the same name and size is taken over with its counts (nginx reuses a
// shared zone of the same name and size across a reload); with another key
// that is nginx's reload error; a new size starts a fresh zone (sessions
// of the old one give their counts back to it).
common::Result<std::vector<std::shared_ptr<LimitConnZone>>> adoptZones(
    const std::vector<LimitConnZoneSpec>& specs,
    const std::vector<std::shared_ptr<LimitConnZone>>& running);

// The server's limit_conn bound to `zones` (adoptZones' result, in the
// order of `specs`); none when it has no limit_conn.
common::Result<std::shared_ptr<const LimitConnPolicy>> compileLimitConn(
    const ServerSection& sv, const std::vector<LimitConnZoneSpec>& specs,
    const std::vector<std::shared_ptr<LimitConnZone>>& zones, const VariableTable* table);

LimitConnVerdict checkLimitConn(const LimitConnPolicy& policy, SessionVariables& vars,
                                LimitConnHold& hold);

}  // namespace proxyd
