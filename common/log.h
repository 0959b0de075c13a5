// Error logs with nginx's levels and nginx's line shape, so that operators'
// greps keep working:
//   2026/11/26 15:34:08 [error] 1234#1234: message
// A log is nginx's error_log chain: one or more outputs (stderr, a file, a
// sink such as proxyd's syslog sender), each with its own level; a line goes
// to every output whose level admits it. Files are reopened on USR1
// (logrotate). Each line is one write(2) on an O_APPEND descriptor, so lines
// from several threads never interleave.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace common {

enum class LogLevel { debug = 0, info, notice, warn, error, crit, alert, emerg };

// An output that is not a file (proxyd's syslog sender). Called under the
// log's lock: it must not block and must not log itself.
class LogSink {
 public:
  virtual ~LogSink() = default;
  // One whole line, without its newline.
  virtual void write(LogLevel level, std::string_view line) = 0;
  // What went wrong since it was last asked, when it is time to say so; the
  // log writes it (at alert) to its file outputs.
  virtual std::optional<std::string> complaint() { return std::nullopt; }
};

struct LogOutput {
  std::string path = "stderr";    // a file or "stderr"; unused with a sink
  std::shared_ptr<LogSink> sink;  // set: the line goes there instead
  LogLevel minimum = LogLevel::error;
};

// "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg".
Result<LogLevel> parseLogLevel(std::string_view text);
std::string_view logLevelName(LogLevel level);

class Log {
 public:
  // A log on stderr at `minimum`.
  explicit Log(LogLevel minimum = LogLevel::info);
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // One output: opens (creating, appending) `path`; "stderr" means stderr.
  Result<void> openFile(const std::string& path);
  // The whole chain, files opened now; on failure the log is left as it was.
  Result<void> setOutputs(std::vector<LogOutput> outputs);
  // The first output's path ("" when that is a sink).
  std::string path() const;
  // Reopens every file under the same name (after logrotate moved it).
  Result<void> reopen();

  // Every output at `level`.
  void setMinimum(LogLevel level);
  LogLevel minimum() const { return minimum_.load(std::memory_order_relaxed); }
  bool enabled(LogLevel level) const { return level >= minimum(); }

  void write(LogLevel level, std::string_view message);

  template <class... Args>
  void log(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
    if (!enabled(level)) return;
    write(level, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::debug, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void info(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::info, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void notice(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::notice, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void warn(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::warn, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void error(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::error, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void alert(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::alert, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void emerg(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::emerg, f, std::forward<Args>(a)...);
  }
  template <class... Args>
  void crit(fmt::format_string<Args...> f, Args&&... a) {
    log(LogLevel::crit, f, std::forward<Args>(a)...);
  }

 private:
  struct Output {
    LogOutput spec;
    UniqueFd fd;  // invalid: stderr (or a sink)
  };
  static Result<Output> open(LogOutput spec);
  void install(std::vector<Output> outputs);  // under mu_

  std::atomic<LogLevel> minimum_;  // the lowest of the outputs'
  mutable std::mutex mu_;          // guards outputs_ against reopen and reload
  std::vector<Output> outputs_;
};

// Formats the nginx-style prefix "2026/11/26 15:34:08 [error] 1234#1234: ".
std::string formatLogPrefix(LogLevel level);

}  // namespace common
