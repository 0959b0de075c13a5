#include "common/pid_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace common {

Result<pid_t> readPidFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Result<pid_t>::fail(
        fmt::format("open() \"{}\" failed ({}: {})", path, errno, std::strerror(errno)));
  }
  long pid = 0;
  if (!(in >> pid) || pid <= 0) {
    return Result<pid_t>::fail(fmt::format("invalid PID number in \"{}\"", path));
  }
  return static_cast<pid_t>(pid);
}

Result<PidFile> PidFile::create(const std::string& path) {
  if (auto old = readPidFile(path); old && *old != ::getpid()) {
    if (::kill(*old, 0) == 0 || errno == EPERM) {
      return Result<PidFile>::fail(
          fmt::format("\"{}\" names pid {}, which is running: already started?", path, *old));
    }
  }
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Result<PidFile>::fail(
        fmt::format("open() \"{}\" failed ({}: {})", tmp, errno, std::strerror(errno)));
  }
  std::string text = fmt::format("{}\n", ::getpid());
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Result<PidFile>::fail(fmt::format("cannot write \"{}\"", path));
  }
  return PidFile(path);
}

PidFile::~PidFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace common
