#include "common/log.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
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

Log::Log(LogLevel minimum) : minimum_(minimum) {
  outputs_.push_back(Output{LogOutput{"stderr", nullptr, minimum}, UniqueFd()});
}

Result<Log::Output> Log::open(LogOutput spec) {
  Output out{std::move(spec), UniqueFd()};
  if (out.spec.sink || out.spec.path == "stderr") return out;
  int fd = ::open(out.spec.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Result<Output>::fail(
        SysError{fmt::format("open() \"{}\"", out.spec.path), errno}.message());
  }
  out.fd.reset(fd);
  return out;
}

void Log::install(std::vector<Output> outputs) {
  LogLevel lowest = LogLevel::emerg;
  for (const auto& o : outputs) lowest = std::min(lowest, o.spec.minimum);
  outputs_ = std::move(outputs);
  minimum_.store(lowest, std::memory_order_relaxed);
}

Result<void> Log::openFile(const std::string& path) {
  auto out = open(LogOutput{path, nullptr, minimum()});
  if (!out) return Result<void>::fail(out.error());
  std::vector<Output> one;
  one.push_back(std::move(*out));
  std::lock_guard lock(mu_);
  install(std::move(one));
  return {};
}

Result<void> Log::setOutputs(std::vector<LogOutput> outputs) {
  std::vector<Output> opened;
  for (auto& spec : outputs) {
    auto out = open(std::move(spec));
    if (!out) return Result<void>::fail(out.error());
    opened.push_back(std::move(*out));
  }
  std::lock_guard lock(mu_);
  install(std::move(opened));
  return {};
}

std::string Log::path() const {
  std::lock_guard lock(mu_);
  if (outputs_.empty() || outputs_.front().spec.sink) return "";
  return outputs_.front().spec.path;
}

void Log::setMinimum(LogLevel level) {
  std::lock_guard lock(mu_);
  for (auto& o : outputs_) o.spec.minimum = level;
  minimum_.store(level, std::memory_order_relaxed);
}

Result<void> Log::reopen() {
  std::vector<LogOutput> specs;
  {
    std::lock_guard lock(mu_);
    for (const auto& o : outputs_) specs.push_back(o.spec);
  }
  return setOutputs(std::move(specs));
}

void Log::write(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  std::string line = formatLogPrefix(level);
  line.append(message);
  line.push_back('\n');
  std::vector<std::string> complaints;
  std::lock_guard lock(mu_);
  for (auto& o : outputs_) {
    if (level < o.spec.minimum) continue;
    if (o.spec.sink) {
      o.spec.sink->write(level, std::string_view(line).substr(0, line.size() - 1));
      if (auto c = o.spec.sink->complaint()) complaints.push_back(std::move(*c));
      continue;
    }
    int fd = o.fd.valid() ? o.fd.get() : STDERR_FILENO;
    // One write per line; a short write on a log is not worth a retry loop
    // that could block the event loop.
    [[maybe_unused]] ssize_t n = ::write(fd, line.data(), line.size());
  }
  // A sink's trouble goes to the files only: never back into a sink, which
  // could be the one in trouble (nginx's syslog peer is "busy" then).
  for (const auto& c : complaints) {
    std::string said = formatLogPrefix(LogLevel::alert) + c + "\n";
    for (auto& o : outputs_) {
      if (o.spec.sink || LogLevel::alert < o.spec.minimum) continue;
      int fd = o.fd.valid() ? o.fd.get() : STDERR_FILENO;
      [[maybe_unused]] ssize_t n = ::write(fd, said.data(), said.size());
    }
  }
}

}  // namespace common
