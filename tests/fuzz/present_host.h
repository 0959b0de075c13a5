// The machine the fuzzed loaders see (common/host.h): everything a config
// names is present, so the loaders go past the host checks into what
// follows them, the same on every machine and without asking the real one.
// A path whose last component has a dot is a root-owned executable file,
// any other is a root-owned directory: the input decides which branch of a
// file check it takes.
#pragma once

#include <sys/stat.h>

#include "common/host.h"

namespace fuzz {

class PresentHost final : public common::Host {
 public:
  bool hasInterface(const std::string&) const override { return true; }
  std::optional<bool> hasLocalAddress(const common::IpAddress&) const override { return true; }
  common::Result<std::optional<common::HostUser>> user(const std::string&) const override {
    return std::optional<common::HostUser>{common::HostUser{1000, 1000}};
  }
  common::Result<std::optional<unsigned>> group(const std::string&) const override {
    return std::optional<unsigned>{1000};
  }
  std::optional<struct stat> stat(const std::string& path) const override { return node(path); }
  std::optional<struct stat> lstat(const std::string& path) const override { return node(path); }
  bool access(const std::string&, int) const override { return true; }
  std::optional<std::string> realPath(const std::string& path) const override { return path; }
  std::string hostName() const override { return "fuzz-host"; }
  unsigned cpuCount() const override { return 2; }

 private:
  static struct stat node(const std::string& path) {
    struct stat st {};
    const auto slash = path.rfind('/');
    const bool file = path.find('.', slash == std::string::npos ? 0 : slash) != std::string::npos;
    st.st_mode = file ? (S_IFREG | 0755) : (S_IFDIR | 0755);
    return st;
  }
};

inline const common::Host& presentHost() {
  static const PresentHost host;
  return host;
}

}  // namespace fuzz
