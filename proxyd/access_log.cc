#include "proxyd/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace proxyd {

common::Result<bool> AccessLog::open() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return common::Result<bool>::fail(
        fmt::format("open() \"{}\" failed ({}: {})", path_, errno, std::strerror(errno)));
  }
  fd_.reset(fd);
  return true;
}

common::Result<bool> AccessLog::reopen() {
  if (!pending_.empty() && fd_.valid()) {
    [[maybe_unused]] ssize_t n = ::write(fd_.get(), pending_.data(), pending_.size());
    pending_.clear();
  }
  return open();
}

void AccessLog::flush(common::Log& errors) {
  if (pending_.empty()) return;
  size_t done = 0;
  while (done < pending_.size() && fd_.valid()) {
    ssize_t n = ::write(fd_.get(), pending_.data() + done, pending_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!failing_) {
        errors.alert("write() to \"{}\" failed ({}: {})", path_, errno, std::strerror(errno));
      }
      failing_ = true;
      pending_.clear();
      return;
    }
    done += static_cast<size_t>(n);
  }
  failing_ = false;
  pending_.clear();
}

}  // namespace proxyd
