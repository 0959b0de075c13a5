// Pid files that a killed process cannot leave in the way: at start the
// recorded pid is checked, and a file whose process is gone is taken over.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace common {

Result<pid_t> readPidFile(const std::string& path);

class PidFile {
 public:
  // Writes our pid to `path`; an error if a live process other than us
  // holds it.
  static Result<PidFile> create(const std::string& path);
  PidFile(PidFile&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  PidFile& operator=(PidFile&&) = delete;
  PidFile(const PidFile&) = delete;
  ~PidFile();

 private:
  explicit PidFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace common
