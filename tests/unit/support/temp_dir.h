// A private temporary directory removed with everything in it at the end of
// a test, and a whole-file reader: the file-system fixtures the unit tests
// share.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace test_support {

class TempDir {
 public:
  // mkdtemp's 0700 unless a test needs others in it (a script run as nobody).
  explicit TempDir(std::string_view prefix, mode_t mode = 0700) {
    std::string templ =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "_XXXXXX")).string();
    path = ::mkdtemp(templ.data());
    if (mode != 0700) ::chmod(path.c_str(), mode);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string at(const std::string& rel) const { return (path / rel).string(); }
  // Writes `text` to `rel` (creating its directories) and returns the path.
  std::string write(const std::string& rel, const std::string& text) const {
    std::filesystem::path p = path / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

  std::filesystem::path path;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace test_support
