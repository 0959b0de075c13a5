// The pid file, and the proof that the process it names is ours: the
// running daemon holds a POSIX write lock on it for its whole life (the
// kernel drops the lock when the process dies, however it dies). A start
// finds the lock free and takes the file over, whatever pid it names (a
// killed daemon's, even one the kernel gave to another process since); a
// signaller (`proxyd -s`, `vrrpd --status`) asks the kernel who holds the
// lock and signals that pid, or nobody.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace common {

// The pid written in the file (for messages; never trusted to signal).
Result<pid_t> readPidFile(const std::string& path);

// The pid of the process that holds the lock on the pid file at `path`: an
// error (saying why) when the file is missing or no process holds it.
Result<pid_t> pidFileHolder(const std::string& path);

class PidFile {
 public:
  // Opens `path` without following a link (common::openOwnFile), takes its
  // lock, and writes our pid. An error when the lock is held: the daemon is
  // running.
  static Result<PidFile> create(const std::string& path);
  PidFile(PidFile&&) noexcept = default;
  PidFile& operator=(PidFile&&) = delete;
  PidFile(const PidFile&) = delete;
  ~PidFile();

  // The pid a stale file named when we took it over, if it named one.
  std::optional<pid_t> tookOverFrom() const { return took_over_from_; }

 private:
  PidFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;  // holds the lock; closing it releases the lock
  std::optional<pid_t> took_over_from_;
};

}  // namespace common
