// Helpers for the lab tests: commands (`ip ...`) run as child processes,
// a second private network namespace for the far end of a veth pair, and
// one veth link between the test's namespace and that peer namespace.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "vrrpd/io/interface_info.h"

namespace lab {

// Runs argv[0] (searched in PATH) with argv; in network namespace `netns`
// (an fd) when >= 0. Returns the exit status; stdout goes to `out` when
// given. Throws when the command cannot be started.
int run(const std::vector<std::string>& argv, std::string* out = nullptr, int netns = -1);
// As run(), but throws (failing the test) unless the exit status is 0.
std::string mustRun(const std::vector<std::string>& argv, int netns = -1);

// A fresh network namespace held by an fd; the calling thread stays where
// it was. It disappears when the fd is closed and nothing else uses it.
class NetNs {
 public:
  NetNs();
  int fd() const { return ns_.get(); }
  // A path `ip ... netns PATH` accepts.
  std::string path() const;

 private:
  common::UniqueFd ns_;
};

// Moves the calling thread into `ns` for its lifetime; sockets opened
// meanwhile belong to `ns` for good.
class InNetNs {
 public:
  explicit InNetNs(const NetNs& ns);
  ~InNetNs();
  InNetNs(const InNetNs&) = delete;
  InNetNs& operator=(const InNetNs&) = delete;

 private:
  common::UniqueFd home_;
};

// A veth pair: `near` in the test's namespace, `far` in its own peer
// namespace, both up, DAD off (so link-local addresses are usable at once),
// with 192.0.2.1/24 + 2001:db8::1/64 near and 192.0.2.2/24 + 2001:db8::2/64
// far. The destructor deletes the pair.
class VethLink {
 public:
  VethLink(std::string near = "v0", std::string far = "p0");
  ~VethLink();
  VethLink(const VethLink&) = delete;
  VethLink& operator=(const VethLink&) = delete;

  NetNs peer;
  std::string near_name, far_name;
  vrrpd::InterfaceInfo near_info, far_info;  // read once everything is up

  // Runs `ip ARGS...` in the peer namespace.
  std::string peerIp(std::vector<std::string> args) const;
};

// Waits until `fd` is readable; false after `timeout`.
bool waitReadable(int fd, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// A packet socket in the current namespace receiving every frame of
// `ethertype` on `ifindex`, to look at what went over the wire.
common::UniqueFd capture(int ifindex, int ethertype);
// The next frame on a capture() socket within `timeout`; empty on timeout.
std::vector<std::uint8_t> nextFrame(
    int fd, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace lab
