// One access-log file as one worker writes it. Lines collect in memory and
// are written by flush(), which the worker calls after every pass of its
// event loop: a busy loop writes many lines with one write(2), an idle one
// writes each line within the pass that ended the session (the contract is
// "in the file within 100 ms", as nginx without `buffer=`).
#pragma once

#include <string>

#include "common/log.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace proxyd {

class AccessLog {
 public:
  explicit AccessLog(std::string path) : path_(std::move(path)) {}

  common::Result<bool> open();
  // Reopen under the same name (USR1 after logrotate): pending lines go to
  // the old file first, so none is lost.
  common::Result<bool> reopen();

  // The buffer a line is rendered into; finish it with endLine().
  std::string& buffer() { return pending_; }
  void endLine() { pending_.push_back('\n'); }
  bool hasPending() const { return !pending_.empty(); }
  // Writes what is pending; on failure the lines are dropped and the error
  // is logged once per failure streak to `errors`.
  void flush(common::Log& errors);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  common::UniqueFd fd_;
  std::string pending_;
  bool failing_ = false;
};

}  // namespace proxyd
