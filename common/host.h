// What configuration checks ask of the machine they run on. The loaders and
// the script checks take a Host instead of calling the system themselves, so
// they stay pure: `-t`'s host warnings (DESIGN.md: a missing interface, user,
// script or log directory is a warning, since a config may be checked on
// another machine) are tested against a made-up host, and the daemons pass
// the real one.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/ip_address.h"
#include "common/result.h"

namespace common {

// A user's ids as the password database gives them.
struct HostUser {
  unsigned uid = 0;
  unsigned gid = 0;
};

class Host {
 public:
  virtual ~Host() = default;

  // if_nametoindex(): whether the interface exists now.
  virtual bool hasInterface(const std::string& name) const = 0;
  // getifaddrs(): whether the address is configured here; nothing when the
  // host cannot tell (then nobody warns).
  virtual std::optional<bool> hasLocalAddress(const IpAddress& addr) const = 0;
  // getpwnam_r() / getgrnam_r(): nothing when there is no such user or
  // group, an error when the lookup itself failed.
  virtual Result<std::optional<HostUser>> user(const std::string& name) const = 0;
  virtual Result<std::optional<unsigned>> group(const std::string& name) const = 0;
  // stat() (following links), lstat(), access(), realpath().
  virtual std::optional<struct stat> stat(const std::string& path) const = 0;
  virtual std::optional<struct stat> lstat(const std::string& path) const = 0;
  virtual bool access(const std::string& path, int mode) const = 0;
  virtual std::optional<std::string> realPath(const std::string& path) const = 0;
  // gethostname() (empty if unknown) and the number of CPUs (at least 1).
  virtual std::string hostName() const = 0;
  virtual unsigned cpuCount() const = 0;
  // getaddrinfo() at load time (common::resolve): every address of `name`
  // with `port`, or why there is none. Tests inject answers instead of
  // asking the machine's resolver; by default the system is asked.
  virtual Result<std::vector<SocketAddress>> resolveName(const std::string& name,
                                                         std::uint16_t port) const;
};

// The machine this process runs on.
const Host& realHost();

}  // namespace common
