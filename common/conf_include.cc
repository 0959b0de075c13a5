#include "common/conf_include.h"

#include <glob.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace common {

namespace {

// Both nginx and keepalived refuse deeper nesting than this.
constexpr int kMaxIncludeDepth = 16;

}  // namespace

std::optional<std::string> readConfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) return std::nullopt;
  return text.str();
}

std::string includePath(const std::string& name, const std::string& dir) {
  if (!name.empty() && name[0] != '/') return dir + "/" + name;
  return name;
}

std::optional<std::vector<std::string>> matchingFiles(const std::string& pattern, int flags) {
  glob_t g{};
  int rc = ::glob(pattern.c_str(), flags, nullptr, &g);
  std::vector<std::string> files;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) return std::nullopt;
  return files;
}

bool includeDepthAllowed(int depth, const std::string& file, int line, Diagnostics& msg) {
  if (depth < kMaxIncludeDepth) return true;
  msg.error(file, line,
            fmt::format("include: nested more than {} deep (an include loop?)", kMaxIncludeDepth));
  return false;
}

}  // namespace common
