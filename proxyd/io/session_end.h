// What every session does when it ends, TCP or UDP: its [server]'s
// counters and its access-log lines (each access_log with its if=).
#pragma once

#include "proxyd/core/server_block.h"
#include "proxyd/core/session_record.h"
#include "proxyd/core/session_variables.h"
#include "proxyd/core/stats.h"

namespace proxyd {

class Worker;

// `record` holds the session's final figures (status, bytes, times).
void recordSessionEnd(Worker& worker, const ServerBlock& block, ServerCounters& counters,
                      SessionRecord& record, SessionVariables& vars, std::uint64_t upstream_sent,
                      std::uint64_t upstream_received);

}  // namespace proxyd
