// Error logs with nginx's levels and nginx's line shape, so that operators'
// greps keep working:
//   2026/11/26 15:34:08 [error] 1234#1234: message
// A log writes to stderr or to a file; files are reopened on USR1 (logrotate).
// Each line is one write(2) on an O_APPEND descriptor, so lines from several
// threads never interleave.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace common {

enum class LogLevel { debug = 0, info, notice, warn, error, crit, alert, emerg };

// "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg".
Result<LogLevel> parseLogLevel(std::string_view text);
std::string_view logLevelName(LogLevel level);

class Log {
 public:
  // A log on stderr at `minimum`.
  explicit Log(LogLevel minimum = LogLevel::info);
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Opens (creating, appending) `path`; "stderr" means stderr.
  Result<void> openFile(const std::string& path);
  const std::string& path() const { return path_; }
  // Reopens the file under the same name (after logrotate moved it).
  Result<void> reopen();

  void setMinimum(LogLevel level) { minimum_.store(level, std::memory_order_relaxed); }
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
  std::atomic<LogLevel> minimum_;
  std::mutex mu_;  // guards fd_ and path_ against reopen
  std::string path_ = "stderr";
  UniqueFd fd_;  // invalid: stderr
};

// Formats the nginx-style prefix "2026/11/26 15:34:08 [error] 1234#1234: ".
std::string formatLogPrefix(LogLevel level);

}  // namespace common
