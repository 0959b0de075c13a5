#include "common/pid_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "common/safe_file.h"
#include "common/sys_error.h"

namespace common {

namespace {

std::optional<pid_t> parsePid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return std::nullopt;
  long pid = 0;
  auto [end, ec] = std::from_chars(buf, buf + n, pid);
  if (ec != std::errc() || pid <= 0 || (end != buf + n && *end != '\n')) return std::nullopt;
  return static_cast<pid_t>(pid);
}

// A whole-file write lock, POSIX style (F_SETLK, not flock or an OFD lock):
// only that kind tells F_GETLK the holder's pid. It is per process, so the
// daemon must never open and close another descriptor of its own pid file
// (that would drop the lock); nothing in it does.
struct flock wholeFile(short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  return fl;
}

bool sameFile(int fd, const std::string& path) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::lstat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

}  // namespace

Result<pid_t> readPidFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return Result<pid_t>::fail(SysError{fmt::format("open() \"{}\"", path), errno}.message());
  }
  auto pid = parsePid(fd.get());
  if (!pid) return Result<pid_t>::fail(fmt::format("invalid PID number in \"{}\"", path));
  return *pid;
}

Result<pid_t> pidFileHolder(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return Result<pid_t>::fail(SysError{fmt::format("open() \"{}\"", path), errno}.message());
  }
  struct flock fl = wholeFile(F_WRLCK);
  if (::fcntl(fd.get(), F_GETLK, &fl) != 0) {
    return Result<pid_t>::fail(
        SysError{fmt::format("fcntl(F_GETLK) \"{}\"", path), errno}.message());
  }
  if (fl.l_type == F_UNLCK || fl.l_pid <= 0) {
    auto named = parsePid(fd.get());
    return Result<pid_t>::fail(
        named ? fmt::format("\"{}\" names pid {}, but no process holds its lock: not running "
                            "(a stale pid file; nothing signalled)",
                            path, *named)
              : fmt::format("\"{}\": no process holds its lock: not running", path));
  }
  return static_cast<pid_t>(fl.l_pid);
}

Result<PidFile> PidFile::create(const std::string& path) {
  using R = Result<PidFile>;
  // A few tries: a daemon that is exiting unlinks the file we may have just
  // opened, and a lock on an unlinked file proves nothing.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto fd = openOwnFile(path, 0644, ::geteuid());
    if (!fd) return R::fail(fd.error());
    struct flock fl = wholeFile(F_WRLCK);
    if (::fcntl(fd->get(), F_SETLK, &fl) != 0) {
      if (errno != EAGAIN && errno != EACCES) {
        return R::fail(SysError{fmt::format("fcntl(F_SETLK) \"{}\"", path), errno}.message());
      }
      struct flock holder = wholeFile(F_WRLCK);
      pid_t by = ::fcntl(fd->get(), F_GETLK, &holder) == 0 ? holder.l_pid : 0;
      return R::fail(
          fmt::format("\"{}\" is locked by pid {}, which is running: already started?", path, by));
    }
    if (!sameFile(fd->get(), path)) continue;
    std::optional<pid_t> old = parsePid(fd->get());
    std::string text = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd->get(), 0) != 0 ||
        ::pwrite(fd->get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      return R::fail(fmt::format("cannot write \"{}\" ({})", path, SysError::errnoReason(errno)));
    }
    PidFile pf(path, std::move(*fd));
    if (old && *old != ::getpid()) pf.took_over_from_ = old;
    return pf;
  }
  return R::fail(fmt::format("\"{}\" keeps being replaced while we open it", path));
}

PidFile::~PidFile() {
  // Unlink while the lock is still held, and only the file we hold.
  if (fd_ && sameFile(fd_.get(), path_)) ::unlink(path_.c_str());
}

}  // namespace common
