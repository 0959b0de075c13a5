// A made-up machine for the loaders (common/host.h): only what a test puts
// in it exists, so a test says exactly which interface, user or file is
// there, whatever the machine running the test has.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/host.h"

namespace test_support {

inline struct stat fakeNode(mode_t type_and_mode, uid_t uid = 0, gid_t gid = 0) {
  struct stat st {};
  st.st_mode = type_and_mode;
  st.st_uid = uid;
  st.st_gid = gid;
  return st;
}

class FakeHost final : public common::Host {
 public:
  std::set<std::string> interfaces;
  std::set<common::IpAddress> addresses;
  std::map<std::string, common::HostUser> users;
  std::map<std::string, unsigned> groups;
  std::map<std::string, struct stat> files;  // path -> lstat (no links followed)
  std::map<std::string, std::string> links;  // path -> where it resolves to
  std::string host_name = "fake-host";
  unsigned cpus = 3;
  // Names the load-time lookup knows (resolveName); others do not resolve.
  std::map<std::string, std::vector<std::string>> names;  // name -> numeric addresses

  // A root-owned 0755 directory for `path` and each of its parents, and the
  // file itself with `mode`.
  void addFile(const std::string& path, mode_t mode, uid_t uid = 0, gid_t gid = 0) {
    for (size_t slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      files.emplace(path.substr(0, slash), fakeNode(S_IFDIR | 0755));
    }
    files.emplace("/", fakeNode(S_IFDIR | 0755));
    files[path] = fakeNode(mode, uid, gid);
  }

  bool hasInterface(const std::string& name) const override { return interfaces.count(name); }
  common::Result<std::vector<common::SocketAddress>> resolveName(
      const std::string& name, std::uint16_t port) const override {
    using R = common::Result<std::vector<common::SocketAddress>>;
    if (auto numeric = common::SocketAddress::fromNumeric(name, port)) {
      return std::vector<common::SocketAddress>{*numeric};
    }
    auto it = names.find(name);
    if (it == names.end()) return R::fail("cannot resolve \"" + name + "\": not in the fake host");
    std::vector<common::SocketAddress> out;
    for (const std::string& a : it->second)
      out.push_back(*common::SocketAddress::fromNumeric(a, port));
    return out;
  }
  std::optional<bool> hasLocalAddress(const common::IpAddress& a) const override {
    return addresses.count(a) != 0;
  }
  common::Result<std::optional<common::HostUser>> user(const std::string& name) const override {
    auto it = users.find(name);
    if (it == users.end()) return std::optional<common::HostUser>{};
    return std::optional<common::HostUser>{it->second};
  }
  common::Result<std::optional<unsigned>> group(const std::string& name) const override {
    auto it = groups.find(name);
    if (it == groups.end()) return std::optional<unsigned>{};
    return std::optional<unsigned>{it->second};
  }
  std::optional<struct stat> stat(const std::string& path) const override {
    auto l = links.find(path);
    return lstat(l == links.end() ? path : l->second);
  }
  std::optional<struct stat> lstat(const std::string& path) const override {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  }
  bool access(const std::string& path, int mode) const override {
    auto st = stat(path);
    if (!st) return false;
    if (mode & X_OK) return (st->st_mode & 0111) != 0;
    if (mode & R_OK) return (st->st_mode & 0444) != 0;
    return true;
  }
  std::optional<std::string> realPath(const std::string& path) const override {
    auto l = links.find(path);
    std::string target = l == links.end() ? path : l->second;
    if (!files.count(target)) return std::nullopt;
    return target;
  }
  std::string hostName() const override { return host_name; }
  unsigned cpuCount() const override { return cpus; }
};

}  // namespace test_support
