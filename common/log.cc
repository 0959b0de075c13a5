#include "common/log.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "common/sys_error.h"

namespace common {

namespace {
constexpr std::string_view kLevelNames[] = {"debug", "info", "notice", "warn",
                                            "error", "crit", "alert",  "emerg"};
}

Result<LogLevel> parseLogLevel(std::string_view text) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (text == kLevelNames[i]) return static_cast<LogLevel>(i);
  }
  return Result<LogLevel>::fail(fmt::format(
      "invalid log level \"{}\" (expected debug, info, notice, warn, error, crit, alert or emerg)",
      text));
}

std::string_view logLevelName(LogLevel level) {
  return kLevelNames[static_cast<int>(level)];
}

std::string formatLogPrefix(LogLevel level) {
  time_t now = ::time(nullptr);
  struct tm tm;
  ::localtime_r(&now, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y/%m/%d %H:%M:%S", &tm);
  // nginx prints pid#tid; our threads get their kernel thread id.
  return fmt::format("{} [{}] {}#{}: ", when, logLevelName(level), ::getpid(),
                     static_cast<long>(::syscall(SYS_gettid)));
}

Log::Log(LogLevel minimum) : minimum_(minimum) {}

Result<void> Log::openFile(const std::string& path) {
  if (path == "stderr") {
    std::lock_guard lock(mu_);
    fd_.reset();
    path_ = path;
    return {};
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Result<void>::fail(SysError{fmt::format("open() \"{}\"", path), errno}.message());
  }
  std::lock_guard lock(mu_);
  fd_.reset(fd);
  path_ = path;
  return {};
}

Result<void> Log::reopen() {
  std::string path;
  {
    std::lock_guard lock(mu_);
    path = path_;
  }
  if (path == "stderr") return {};
  return openFile(path);
}

void Log::write(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  std::string line = formatLogPrefix(level);
  line.append(message);
  line.push_back('\n');
  std::lock_guard lock(mu_);
  int fd = fd_.valid() ? fd_.get() : STDERR_FILENO;
  // One write per line; a short write on a log is not worth a retry loop
  // that could block the event loop.
  [[maybe_unused]] ssize_t n = ::write(fd, line.data(), line.size());
}

}  // namespace common
