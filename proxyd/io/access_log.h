// One access-log file as one worker writes it. Lines collect in memory and
// are written by flush(), which the worker calls after every pass of its
// event loop: a busy loop writes many lines with one write(2), an idle one
// writes each line within the pass that ended the session (the contract is
// "in the file within 100 ms", as nginx without `buffer=`).
//
// With nginx's `buffer=SIZE` lines stay in memory (at most SIZE bytes, plus
// the one line being added) and are written when the next line would not
// fit, when `flush=TIME` has passed since the first line went into the empty
// buffer, at reopen and at exit; a line longer than the whole buffer is
// written on its own. With `gzip` each of those writes is one gzip member.
//
// On a full disk a write(2) can stop in the middle of a line; the next
// line would then be glued to the half (nginx leaves it so). Every write
// puts whole lines (or a whole gzip member) in the file or none: a torn tail
// is cut off again (ftruncate to where the last whole line ended), the lines
// that did not fit are counted as lost, and the error log says so at most
// once a minute.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/log.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "proxyd/core/access_log_target.h"

namespace proxyd {

// Of `lines` (whole lines, each ending in '\n') of which write(2) put the
// first `written` bytes in the file: how many bytes of whole lines that is
// (`keep`; the rest of the written part is a torn line) and how many lines
// are not in the file whole (`lost`).
struct WrittenLines {
  std::size_t keep = 0;
  std::uint64_t lost = 0;
};
WrittenLines wholeLinesWritten(std::string_view lines, std::size_t written);

// When the error log hears of lost lines: the first loss at once, then at
// most one line per interval with what was lost since the last one.
class LostLineReport {
 public:
  static constexpr std::chrono::seconds kInterval{60};

  void lost(std::uint64_t lines) { unreported_ += lines; }
  bool pending() const { return unreported_ != 0; }
  // The count to report at `now` (and forget), or nothing yet.
  std::optional<std::uint64_t> due(common::TimePoint now);

 private:
  std::uint64_t unreported_ = 0;
  std::optional<common::TimePoint> last_;
};

// One write lock per access-log path, shared by the workers (the Proxy
// owns it; workers look a path up when they first open it).
class AccessLogLocks {
 public:
  std::shared_ptr<std::mutex> forPath(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& m = locks_[path];
    if (!m) m = std::make_shared<std::mutex>();
    return m;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> locks_;
};

class AccessLog {
 public:
  // `write_lock` is shared by every worker's AccessLog of the same path, so
  // that no sibling's line lands between a torn write and its repair.
  AccessLog(std::string path, const common::Clock& clock,
            std::shared_ptr<std::mutex> write_lock = std::make_shared<std::mutex>(),
            AccessLogBuffering buffering = {})
      : path_(std::move(path)),
        clock_(clock),
        write_lock_(std::move(write_lock)),
        buffering_(buffering) {}

  common::Result<void> open();
  // Reopen under the same name (USR1 after logrotate): pending lines go to
  // the old file first, so none is lost.
  // `lost` counts the pending lines that could not be written.
  common::Result<void> reopen(common::Log& errors, std::uint64_t& lost);

  // The buffer a line is rendered into; finish it with endLine().
  std::string& startLine() {
    line_start_ = pending_.size();
    return pending_;
  }
  void endLine();
  bool hasPending() const { return !pending_.empty(); }
  // Writes what is due: everything without buffer=, the buffer once its
  // flush= time has come. Returns the number of lines lost (not written)
  // since the last call; the error log hears of them through LostLineReport.
  std::uint64_t flush(common::Log& errors);
  // Writes everything pending (reopen, exit, new buffer options).
  std::uint64_t flushAll(common::Log& errors);
  // When flush() will write the buffer (buffer= with flush=, lines pending).
  std::optional<common::TimePoint> deadline() const { return deadline_; }

  const AccessLogBuffering& buffering() const { return buffering_; }
  // A reload changed buffer=/flush=/gzip: what is pending goes out as it was.
  void setBuffering(const AccessLogBuffering& b);

  const std::string& path() const { return path_; }

 private:
  // Writes `data` (whole lines; one gzip member with gzip); returns the
  // lines lost.
  std::uint64_t writeChunk(std::string_view data);
  void writeAll();
  // Hands the lines lost since the last call to the report and returns them.
  std::uint64_t settle(common::Log& errors);
  void report(common::Log& errors);

  std::string path_;
  const common::Clock& clock_;
  std::shared_ptr<std::mutex> write_lock_;
  AccessLogBuffering buffering_;
  common::UniqueFd fd_;
  std::string pending_;
  std::size_t line_start_ = 0;
  std::optional<common::TimePoint> deadline_;
  std::uint64_t lost_ = 0;  // since the last flush()
  // The file ends in a torn line we could not cut off (the file changed
  // under us): the next write starts a new line first.
  bool torn_ = false;
  int last_errno_ = 0;
  LostLineReport report_;
};

}  // namespace proxyd
