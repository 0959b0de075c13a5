#include "proxyd/io/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/sys_error.h"

namespace proxyd {

WrittenLines wholeLinesWritten(std::string_view lines, std::size_t written) {
  written = std::min(written, lines.size());
  WrittenLines w;
  auto nl = lines.substr(0, written).rfind('\n');
  w.keep = nl == std::string_view::npos ? 0 : nl + 1;
  w.lost = static_cast<std::uint64_t>(std::count(lines.begin() + w.keep, lines.end(), '\n'));
  return w;
}

std::optional<std::uint64_t> LostLineReport::due(common::TimePoint now) {
  if (unreported_ == 0) return std::nullopt;
  if (last_ && now - *last_ < kInterval) return std::nullopt;
  last_ = now;
  return std::exchange(unreported_, 0);
}

common::Result<void> AccessLog::open() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return common::Result<void>::fail(
        common::SysError{fmt::format("open() \"{}\"", path_), errno}.message());
  }
  fd_.reset(fd);
  torn_ = false;
  return {};
}

common::Result<void> AccessLog::reopen(common::Log& errors, std::uint64_t& lost) {
  lost = flush(errors);
  return open();
}

std::uint64_t AccessLog::writePending() {
  std::string_view data = pending_;
  if (!fd_) {
    last_errno_ = EBADF;
    return wholeLinesWritten(data, 0).lost;
  }
  std::lock_guard<std::mutex> lock(*write_lock_);
  if (torn_) {
    // One byte ends the torn line; if even that does not fit, nothing else would.
    if (::write(fd_.get(), "\n", 1) != 1) {
      last_errno_ = errno;
      return wholeLinesWritten(data, 0).lost;
    }
    torn_ = false;
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      last_errno_ = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (done == data.size()) return 0;
  WrittenLines w = wholeLinesWritten(data, done);
  if (w.keep < done) {
    // O_APPEND: our writes ended at the file offset. Cut the torn part off
    // only if nothing was appended after it (under write_lock_ no sibling
    // worker can; another process might), else end it with a newline later.
    const off_t torn = static_cast<off_t>(done - w.keep);
    off_t end = ::lseek(fd_.get(), 0, SEEK_CUR);
    struct stat st {};
    if (end >= torn && ::fstat(fd_.get(), &st) == 0 && st.st_size == end &&
        ::ftruncate(fd_.get(), end - torn) == 0) {
      // whole lines only again
    } else {
      torn_ = true;
    }
  }
  return w.lost;
}

void AccessLog::report(common::Log& errors) {
  if (auto n = report_.due(clock_.now())) {
    errors.alert(
        "{}: {} access log line(s) lost (whole lines are written or none; said at most once a "
        "minute)",
        common::SysError{fmt::format("write() to \"{}\"", path_), last_errno_}, *n);
  }
}

std::uint64_t AccessLog::flush(common::Log& errors) {
  std::uint64_t lost = 0;
  if (!pending_.empty()) {
    lost = writePending();
    pending_.clear();
    report_.lost(lost);
  }
  // The clock is read only while there is something to say.
  if (report_.pending()) report(errors);
  return lost;
}

}  // namespace proxyd
