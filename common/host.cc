#include "common/host.h"

#include <grp.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "common/sys_error.h"

namespace common {

Result<std::vector<SocketAddress>> Host::resolveName(const std::string& name,
                                                     std::uint16_t port) const {
  return resolve(name, port);
}

namespace {

class SystemHost final : public Host {
 public:
  bool hasInterface(const std::string& name) const override {
    return ::if_nametoindex(name.c_str()) != 0;
  }

  std::optional<bool> hasLocalAddress(const IpAddress& a) const override {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return std::nullopt;
    bool found = false;
    for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
      if (i->ifa_addr == nullptr) continue;
      if (i->ifa_addr->sa_family == AF_INET && a.isV4()) {
        found = IpAddress::v4(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr) == a;
      } else if (i->ifa_addr->sa_family == AF_INET6 && a.isV6()) {
        found = IpAddress::v6(reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr) == a;
      }
    }
    ::freeifaddrs(list);
    return found;
  }

  Result<std::optional<HostUser>> user(const std::string& name) const override {
    struct passwd pw, *found = nullptr;
    std::vector<char> buf(16384);
    int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0) return Result<std::optional<HostUser>>::fail(std::string(SysError::errnoText(rc)));
    if (found == nullptr) return std::optional<HostUser>{};
    return std::optional<HostUser>{HostUser{pw.pw_uid, pw.pw_gid}};
  }

  Result<std::optional<unsigned>> group(const std::string& name) const override {
    struct group gr, *found = nullptr;
    std::vector<char> buf(16384);
    int rc = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
    if (rc != 0) return Result<std::optional<unsigned>>::fail(std::string(SysError::errnoText(rc)));
    if (found == nullptr) return std::optional<unsigned>{};
    return std::optional<unsigned>{gr.gr_gid};
  }

  std::optional<struct stat> stat(const std::string& path) const override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return st;
  }

  std::optional<struct stat> lstat(const std::string& path) const override {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
    return st;
  }

  bool access(const std::string& path, int mode) const override {
    return ::access(path.c_str(), mode) == 0;
  }

  std::optional<std::string> realPath(const std::string& path) const override {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) return std::nullopt;
    return std::string(resolved);
  }

  std::string hostName() const override {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "";
    return name;
  }

  unsigned cpuCount() const override { return std::max(1u, std::thread::hardware_concurrency()); }
};

}  // namespace

const Host& realHost() {
  static const SystemHost host;
  return host;
}

}  // namespace common
