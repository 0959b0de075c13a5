#include "proxyd/io/error_log_chain.h"

#include "common/host.h"
#include "proxyd/io/syslog_sender.h"

namespace proxyd {

std::vector<common::LogOutput> errorLogOutputs(const std::vector<LogTarget>& chain) {
  std::vector<common::LogOutput> out;
  for (const LogTarget& t : chain) {
    common::LogOutput o;
    o.minimum = t.level;
    if (t.syslog) {
      o.path.clear();
      o.sink = std::make_shared<SyslogLogSink>(*t.syslog, common::realHost().hostName());
    } else {
      o.path = t.path;
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace proxyd
