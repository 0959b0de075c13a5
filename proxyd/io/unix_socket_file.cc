#include "proxyd/io/unix_socket_file.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "common/sys_error.h"

namespace proxyd {

namespace {

// Whether a process accepts on the socket file at `addr`: a connect() that
// is refused means its listener is gone (a crash, a SIGKILL).
bool socketIsLive(const common::SocketAddress& addr) {
  common::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe) return true;  // cannot tell: leave the file alone
  if (::connect(probe.get(), addr.sa(), addr.len()) == 0) return true;
  return errno != ECONNREFUSED;
}

common::Result<void> clearStale(const common::SocketAddress& addr, common::Log* log) {
  const std::string path = addr.unixPath();
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};  // nothing there (or bind() will say)
  const std::string what = "bind() to " + addr.toString();
  if (!S_ISSOCK(st.st_mode) || socketIsLive(addr)) {
    return common::Result<void>::fail(common::SysError{what, EADDRINUSE}.message());
  }
  // unlink() does not follow links, and the file is a socket: nothing else
  // can be removed here.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return common::Result<void>::fail(
        common::SysError{fmt::format("unlink() \"{}\"", path), errno}.message());
  }
  if (log != nullptr) log->notice("removed the stale socket file {}, nothing accepted on it", path);
  return {};
}

}  // namespace

common::Result<common::UniqueFd> UnixSocketFile::open(const common::SocketAddress& addr,
                                                      int backlog, UnixSocketFile& file,
                                                      common::Log* log) {
  using R = common::Result<common::UniqueFd>;
  if (auto r = clearStale(addr, log); !r) return R::fail(r.error());
  common::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return R::fail(common::SysError{"socket()", errno}.message());
  if (::bind(fd.get(), addr.sa(), addr.len()) != 0) {
    return R::fail(common::SysError{"bind() to " + addr.toString(), errno}.message());
  }
  const std::string path = addr.unixPath();
  file.remove();
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    file.path_ = path;
    file.dev_ = st.st_dev;
    file.ino_ = st.st_ino;
  }
  // nginx makes the file read-write for everyone; who may connect is then
  // the directory's business.
  if (::chmod(path.c_str(), 0666) != 0 && log != nullptr) {
    log->emerg("{}", common::SysError{fmt::format("chmod() \"{}\"", path), errno});
  }
  if (::listen(fd.get(), backlog) != 0) {
    return R::fail(
        common::SysError{fmt::format("listen() to {}, backlog {}", addr.toString(), backlog), errno}
            .message());
  }
  return fd;
}

UnixSocketFile& UnixSocketFile::operator=(UnixSocketFile&& o) noexcept {
  if (this != &o) {
    remove();
    path_ = std::move(o.path_);
    dev_ = o.dev_;
    ino_ = o.ino_;
    o.path_.clear();
  }
  return *this;
}

void UnixSocketFile::remove() {
  if (path_.empty()) return;
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
  path_.clear();
}

}  // namespace proxyd
