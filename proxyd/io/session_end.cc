#include "proxyd/io/session_end.h"

#include "proxyd/io/worker.h"

namespace proxyd {

void recordSessionEnd(Worker& worker, const ServerBlock& block, ServerCounters& counters,
                      SessionRecord& record, SessionVariables& vars, std::uint64_t upstream_sent,
                      std::uint64_t upstream_received) {
  counters.active.sub();
  counters.by_status[statusIndex(record.status)].add();
  counters.client_received.add(record.bytes_received);
  counters.client_sent.add(record.bytes_sent);
  counters.upstream_sent.add(upstream_sent);
  counters.upstream_received.add(upstream_received);
  if (block.access_logs.empty()) return;
  record.end_time = std::chrono::system_clock::now();
  for (const CompiledAccessLog& compiled : block.access_logs) {
    // nginx's if=: the line is skipped when the condition is "" or "0".
    if (compiled.condition && !conditionPasses(compiled.condition->evaluate(vars))) continue;
    if (compiled.target.syslog) {
      std::string line;
      compiled.format.render(vars, line);
      worker.sendAccessSyslog(*compiled.target.syslog, line, *block.error_log);
      continue;
    }
    AccessLog* log = worker.accessLog(compiled.target);
    if (log == nullptr) continue;
    compiled.format.render(vars, log->startLine());
    log->endLine();
  }
}

}  // namespace proxyd
