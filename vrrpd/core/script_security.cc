#include "vrrpd/core/script_security.h"

#include <sys/stat.h>
#include <unistd.h>  // X_OK

#include <vector>

#include <fmt/format.h>

namespace vrrpd {

std::optional<std::string> unsafeComponent(const std::string& path, const struct stat& st) {
  if (st.st_uid != 0) return fmt::format("\"{}\" is owned by uid {}, not root", path, st.st_uid);
  // keepalived: a directory with the sticky bit (/tmp) or a symbolic link
  // is judged by its owner alone.
  bool judged = (S_ISDIR(st.st_mode) && !(st.st_mode & S_ISVTX)) || S_ISREG(st.st_mode);
  if (!judged) return std::nullopt;
  if (st.st_gid != 0 && (st.st_mode & S_IWGRP)) {
    return fmt::format("\"{}\" is writable by group {}", path, st.st_gid);
  }
  if (st.st_mode & S_IWOTH) return fmt::format("\"{}\" is writable by everyone", path);
  return std::nullopt;
}

std::optional<std::string> unsafePath(const std::string& path, const StatFn& lstat_fn) {
  if (path.empty() || path[0] != '/') return fmt::format("\"{}\" is not an absolute path", path);
  // "/", "/a", "/a/b", ... down to the file itself.
  std::vector<std::string> prefixes{"/"};
  std::string cur;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) {
      cur += "/" + path.substr(pos, slash - pos);
      prefixes.push_back(cur);
    }
    pos = slash + 1;
  }
  for (size_t i = 0; i < prefixes.size(); ++i) {
    const std::string& part = prefixes[i];
    auto st = lstat_fn(part);
    if (!st) return fmt::format("\"{}\" cannot be looked at", part);
    bool last = i + 1 == prefixes.size();
    // A link on the way (Debian's merged /usr: /bin -> usr/bin) is judged by
    // the directory holding it, already checked, and by the path it
    // resolves to, which refuseInsecure() walks as well.
    if (!last && S_ISLNK(st->st_mode)) continue;
    if (!last && !S_ISDIR(st->st_mode)) return fmt::format("\"{}\" is not a directory", part);
    if (auto why = unsafeComponent(part, *st)) return why;
  }
  return std::nullopt;
}

std::string programOf(const std::string& command, const std::string& search_path,
                      const common::Host& host) {
  std::string word;
  size_t i = 0;
  while (i < command.size() && (command[i] == ' ' || command[i] == '\t')) ++i;
  char quote = 0;
  for (; i < command.size(); ++i) {
    char c = command[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < command.size()) {
      word += command[++i];
    } else if (c == ' ' || c == '\t' || c == ';' || c == '&' || c == '|' || c == '<' || c == '>') {
      break;
    } else {
      word += c;
    }
  }
  if (word.empty() || word.find('/') != std::string::npos) return word;
  size_t pos = 0;
  while (pos <= search_path.size()) {
    size_t colon = search_path.find(':', pos);
    if (colon == std::string::npos) colon = search_path.size();
    std::string dir = search_path.substr(pos, colon - pos);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + word;
      if (host.access(candidate, X_OK)) return candidate;
    }
    pos = colon + 1;
  }
  return "";
}

bool runsAsRoot(unsigned uid, unsigned gid, const std::optional<struct stat>& program) {
  if (uid == 0 || gid == 0) return true;
  if (!program) return false;
  const struct stat& st = *program;
  return (st.st_uid == 0 && (st.st_mode & S_ISUID) && (st.st_mode & S_IXUSR)) ||
         (st.st_gid == 0 && (st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP));
}

std::optional<std::string> refuseInsecure(const std::string& command, unsigned uid, unsigned gid,
                                          const std::string& search_path,
                                          const common::Host& host) {
  std::string program = programOf(command, search_path, host);
  if (program.empty()) return std::string("its program is not found");
  if (!runsAsRoot(uid, gid, host.stat(program))) return std::nullopt;
  if (program[0] != '/') {
    return fmt::format("\"{}\" is a relative path (runs as root)", program);
  }
  StatFn lstat = [&host](const std::string& path) { return host.lstat(path); };
  if (auto why = unsafePath(program, lstat)) return *why;
  auto resolved = host.realPath(program);
  if (!resolved) return fmt::format("\"{}\" cannot be resolved", program);
  if (program != *resolved) {
    if (auto why = unsafePath(*resolved, lstat)) return *why;
  }
  return std::nullopt;
}

}  // namespace vrrpd
