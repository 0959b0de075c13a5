// enable_script_security, as keepalived's check_script_secure(): a script
// that runs as root (uid or gid 0) must not be modifiable or replaceable by
// anyone but root. Every component of its path, from "/" down to the file,
// and of the path it resolves to, is looked at without following links:
// unsafe if its owner is not root, or if it is group-writable by a group
// other than root, or world-writable (a directory with the sticky bit, like
// /tmp, is safe from those two).
#pragma once

#include <sys/stat.h>

#include <functional>
#include <optional>
#include <string>

#include "common/host.h"

namespace vrrpd {

// lstat() as seen by the check; tests pass their own.
using StatFn = std::function<std::optional<struct stat>(const std::string& path)>;

// Why `st` (the path's component `path`) makes a root script unsafe, or
// nothing. Pure.
std::optional<std::string> unsafeComponent(const std::string& path, const struct stat& st);

// Walks every component of the absolute `path`: the first reason it is
// unsafe, or nothing. A component that cannot be looked at is a reason.
std::optional<std::string> unsafePath(const std::string& path, const StatFn& lstat_fn);

// The program a command line runs: its first shell word (quotes removed);
// a bare name is searched in `search_path` (colon-separated) on `host`.
// Empty when there is none or it is not found.
std::string programOf(const std::string& command, const std::string& search_path,
                      const common::Host& host = common::realHost());

// Whether a script run as (uid, gid) needs the check: keepalived's rule is
// uid 0, gid 0, or a set-uid/set-gid root program.
bool runsAsRoot(unsigned uid, unsigned gid, const std::optional<struct stat>& program);

// The whole check for `command` run as (uid, gid): a reason to refuse it,
// or nothing.
std::optional<std::string> refuseInsecure(const std::string& command, unsigned uid, unsigned gid,
                                          const std::string& search_path,
                                          const common::Host& host = common::realHost());

}  // namespace vrrpd
