#include "common/safe_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "common/sys_error.h"

namespace common {

namespace {

// "CALL() "PATH" failed (...)" with errno as the call left it.
std::string fileError(const char* call, const std::string& path) {
  return SysError{fmt::format("{}() \"{}\"", call, path), errno}.message();
}

// Removes a temporary file unless it was renamed into place.
class TempName {
 public:
  explicit TempName(std::string path) : path_(std::move(path)) {}
  TempName(const TempName&) = delete;
  TempName& operator=(const TempName&) = delete;
  ~TempName() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void commit() { path_.clear(); }

 private:
  std::string path_;
};

bool writeAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<std::string> runDirProblem(const std::string& dir, const struct stat& st,
                                         uid_t euid) {
  if (S_ISLNK(st.st_mode)) {
    return fmt::format("run directory \"{}\" is a symbolic link: give the directory itself", dir);
  }
  if (!S_ISDIR(st.st_mode)) return fmt::format("run directory \"{}\" is not a directory", dir);
  if (st.st_uid != euid) {
    return fmt::format(
        "run directory \"{}\" is owned by uid {}, not by uid {} that runs us: "
        "refusing to keep the pid file there (chown it)",
        dir, st.st_uid, euid);
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return fmt::format(
        "run directory \"{}\" is writable by {} (mode {:04o}): anyone who can "
        "write there can replace our files; refusing (chmod go-w it)",
        dir, (st.st_mode & S_IWOTH) ? "other users" : "its group", st.st_mode & 07777);
  }
  return std::nullopt;
}

Result<void> prepareRunDir(const std::string& path, uid_t euid) {
  using R = Result<void>;
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();  // lstat("link/") follows
  if (dir.empty()) return R::fail("run directory: empty path");
  // mkdir -p, each missing level 0755 whatever the umask (systemd's
  // RuntimeDirectoryMode default and keepalived's /run/keepalived).
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) == 0) {
      if (::chmod(part.c_str(), 0755) != 0) return R::fail(fileError("chmod", part));
    } else if (errno != EEXIST) {
      return R::fail(fileError("mkdir", part));
    }
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return R::fail(fileError("lstat", dir));
  if (auto problem = runDirProblem(dir, st, euid)) return R::fail(*problem);
  return {};
}

Result<void> replaceFile(const std::string& path, std::string_view content, mode_t mode) {
  using R = Result<void>;
  UniqueFd fd;
  std::optional<TempName> tmp;
  // A unique name: pid and time, and a few tries if one is taken (by
  // whatever reason: O_EXCL never opens what exists).
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  for (int attempt = 0; attempt < 8 && !fd; ++attempt) {
    std::string name = fmt::format("{}.tmp.{}.{:x}.{}", path, ::getpid(), stamp, attempt);
    fd.reset(::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (fd) {
      tmp.emplace(std::move(name));
    } else if (errno != EEXIST) {
      return R::fail(fileError("open", name));
    }
  }
  if (!fd) return R::fail(fmt::format("cannot create a temporary file beside \"{}\"", path));
  if (!writeAll(fd.get(), content)) return R::fail(fileError("write", tmp->path()));
  if (::close(fd.release()) != 0) return R::fail(fileError("close", tmp->path()));
  if (::rename(tmp->path().c_str(), path.c_str()) != 0) {
    return R::fail(
        SysError{fmt::format("rename() \"{}\" to \"{}\"", tmp->path(), path), errno}.message());
  }
  tmp->commit();
  return {};
}

Result<UniqueFd> openOwnFile(const std::string& path, mode_t mode, uid_t euid) {
  using R = Result<UniqueFd>;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode));
  if (!fd) {
    if (errno == ELOOP) {
      return R::fail(fmt::format("\"{}\" is a symbolic link: not followed, refusing", path));
    }
    return R::fail(fileError("open", path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return R::fail(fileError("fstat", path));
  if (!S_ISREG(st.st_mode)) return R::fail(fmt::format("\"{}\" is not a regular file", path));
  if (st.st_uid != euid) {
    return R::fail(
        fmt::format("\"{}\" is owned by uid {}, not by uid {}: refusing", path, st.st_uid, euid));
  }
  if (st.st_nlink != 1) {
    return R::fail(
        fmt::format("\"{}\" has {} hard links: refusing to write through them", path, st.st_nlink));
  }
  return fd;
}

}  // namespace common
