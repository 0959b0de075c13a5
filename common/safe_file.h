// Files the daemons create in their run directory (pid file, state.json),
// created so that nothing planted there can redirect a write: a symbolic
// link is never followed, a name that exists is never reused, and the
// directory itself must be one nobody else can write to (else anyone could
// plant the link, or replace our file between two calls).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace common {

// What makes `st` (the lstat() of `dir`) unfit to hold a daemon's files
// running as `euid`: not a directory (a symbolic link included), owned by
// another user, or writable by its group or by others. Nothing when fit.
std::optional<std::string> runDirProblem(const std::string& dir, const struct stat& st, uid_t euid);

// Creates `dir` (and its missing parents) 0755 when missing, then refuses
// it with runDirProblem()'s reason.
Result<void> prepareRunDir(const std::string& dir, uid_t euid);

// Replaces `path` with a file holding `content` (mode `mode`, less the
// umask), so that a reader sees the old or the new file, never a part: the
// text goes to a new file under a unique name in the same directory,
// created with O_CREAT | O_EXCL | O_NOFOLLOW (a planted name or link makes
// that fail, it is never followed or truncated), then renamed over `path`
// (rename(2) replaces a link at `path`; it does not write through it).
Result<void> replaceFile(const std::string& path, std::string_view content, mode_t mode = 0644);

// Opens `path` read-write, creating it (mode `mode`) when missing, without
// following a symbolic link; refuses anything but a regular file with one
// link owned by `euid` (a hard link planted to another file included).
Result<UniqueFd> openOwnFile(const std::string& path, mode_t mode, uid_t euid);

}  // namespace common
