// One syslog destination as nginx's ngx_syslog_send uses it: a datagram
// socket (UDP, or a unix datagram socket for "server=unix:PATH"),
// non-blocking and connected on first use; after a failed send it is closed
// and the next line opens it again. A line that cannot go at once (no
// server, a full receive queue) is lost and counted: logging never waits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "proxyd/core/syslog_target.h"
#include "proxyd/io/access_log.h"

namespace proxyd {

class SyslogSender {
 public:
  // `hostname` as gethostname() says it (lower-cased here, as nginx).
  SyslogSender(SyslogTarget target, const std::string& hostname, const common::Clock& clock);

  // Sends header + `message` (no newline, as nginx); false: the line is lost.
  bool send(int severity, std::string_view message);

  // nginx's warning, with the lines lost since the last one: the first loss
  // at once, then at most once a minute (LostLineReport).
  std::optional<std::string> lossReport();
  std::uint64_t lost() const { return lost_; }
  const SyslogTarget& target() const { return target_; }

 private:
  bool connectSocket();

  SyslogTarget target_;
  std::string hostname_;
  const common::Clock& clock_;
  common::UniqueFd fd_;
  std::uint64_t lost_ = 0;
  int last_errno_ = 0;
  LostLineReport report_;
};

// An error_log output "syslog:...": every line goes with its own level as
// the severity (nginx's ngx_syslog_writer), the whole error-log line as MSG.
class SyslogLogSink final : public common::LogSink {
 public:
  SyslogLogSink(SyslogTarget target, const std::string& hostname)
      : sender_(std::move(target), hostname, clock_) {}
  void write(common::LogLevel level, std::string_view line) override {
    sender_.send(syslogSeverity(level), line);
  }
  std::optional<std::string> complaint() override { return sender_.lossReport(); }

 private:
  common::MonotonicClock clock_;
  SyslogSender sender_;
};

}  // namespace proxyd
