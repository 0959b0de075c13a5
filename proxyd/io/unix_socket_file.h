// The file of a UNIX-domain listening socket: made at bind(), removed when
// the listener stops and at exit (as nginx's ngx_close_listening_sockets and
// its "deleting socket" on reload), but only while it is still the file this
// process bound: a socket file another process put there since is left alone.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace proxyd {

class UnixSocketFile {
 public:
  // socket(), bind() and listen() on `addr` (AF_UNIX). A socket file left
  // behind by a process that is gone (nothing accepts on it: ECONNREFUSED)
  // is replaced; a live one, or a path that is not a socket (a symbolic
  // link included: never followed), is "Address already in use", as nginx
  // fails then. The file is made 0666, as nginx does.
  static common::Result<common::UniqueFd> open(const common::SocketAddress& addr, int backlog,
                                               UnixSocketFile& file, common::Log* log = nullptr);

  UnixSocketFile() = default;
  ~UnixSocketFile() { remove(); }
  UnixSocketFile(UnixSocketFile&& o) noexcept { *this = std::move(o); }
  UnixSocketFile& operator=(UnixSocketFile&& o) noexcept;
  UnixSocketFile(const UnixSocketFile&) = delete;
  UnixSocketFile& operator=(const UnixSocketFile&) = delete;

  const std::string& path() const { return path_; }
  // Unlinks the file if it is still the one bound (then forgets it).
  void remove();

 private:
  std::string path_;  // empty: nothing to remove
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace proxyd
