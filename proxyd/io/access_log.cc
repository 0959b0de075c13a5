#include "proxyd/io/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/sys_error.h"
#include "proxyd/io/gzip_member.h"

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
  lost = flushAll(errors);
  return open();
}

void AccessLog::endLine() {
  pending_.push_back('\n');
  if (buffering_.size == 0) return;
  if (pending_.size() > buffering_.size) {
    // nginx writes the buffer when the next line would not fit...
    if (line_start_ != 0) {
      lost_ += writeChunk(std::string_view(pending_).substr(0, line_start_));
      pending_.erase(0, line_start_);
      line_start_ = 0;
      deadline_.reset();
    }
    // ...and a line longer than the whole buffer on its own.
    if (pending_.size() > buffering_.size) {
      lost_ += writeChunk(pending_);
      pending_.clear();
      return;
    }
  }
  // The flush= timer runs from the first line in an empty buffer.
  if (line_start_ == 0 && buffering_.flush.count() != 0) {
    deadline_ = clock_.now() + buffering_.flush;
  }
}

std::uint64_t AccessLog::writeChunk(std::string_view data) {
  if (!fd_) {
    last_errno_ = EBADF;
    return wholeLinesWritten(data, 0).lost;
  }
  std::string member;
  std::string_view out = data;
  if (buffering_.gzip != 0) {
    auto z = gzipMember(data, buffering_.gzip);
    if (!z) {
      last_errno_ = ENOMEM;  // zlib only fails for want of memory here
      return wholeLinesWritten(data, 0).lost;
    }
    member = std::move(*z);
    out = member;
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
  while (done < out.size()) {
    ssize_t n = ::write(fd_.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      last_errno_ = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (done == out.size()) return 0;
  // A gzip member is whole or not at all: every line of it is lost.
  WrittenLines w =
      buffering_.gzip != 0 ? wholeLinesWritten(data, 0) : wholeLinesWritten(data, done);
  if (w.keep < done) {
    // O_APPEND: our writes ended at the file offset. Cut the torn part off
    // only if nothing was appended after it (under write_lock_ no sibling
    // worker can; another process might), else end it with a newline later
    // (a torn gzip member cannot be mended: it stays, as nginx leaves it).
    const off_t torn = static_cast<off_t>(done - w.keep);
    off_t end = ::lseek(fd_.get(), 0, SEEK_CUR);
    struct stat st {};
    if (end >= torn && ::fstat(fd_.get(), &st) == 0 && st.st_size == end &&
        ::ftruncate(fd_.get(), end - torn) == 0) {
      // whole lines only again
    } else {
      torn_ = buffering_.gzip == 0;
    }
  }
  return w.lost;
}

void AccessLog::writeAll() {
  if (!pending_.empty()) lost_ += writeChunk(pending_);
  pending_.clear();
  line_start_ = 0;
  deadline_.reset();
}

void AccessLog::setBuffering(const AccessLogBuffering& b) {
  if (b == buffering_) return;
  writeAll();  // its losses go out with the next flush()
  buffering_ = b;
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
  if (buffering_.size == 0 || (deadline_ && clock_.now() >= *deadline_)) writeAll();
  return settle(errors);
}

std::uint64_t AccessLog::flushAll(common::Log& errors) {
  writeAll();
  return settle(errors);
}

std::uint64_t AccessLog::settle(common::Log& errors) {
  std::uint64_t lost = std::exchange(lost_, 0);
  report_.lost(lost);
  // The clock is read only while there is something to say.
  if (report_.pending()) report(errors);
  return lost;
}

}  // namespace proxyd
