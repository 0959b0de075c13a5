#include "tests/lab/lab_net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace lab {
namespace {

[[noreturn]] void sysThrow(const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

std::string joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// /proc/sys/net is resolved in the namespace of the thread that opens it.
void writeSysctl(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value;
  if (!f) throw std::runtime_error("cannot write " + path);
}

void disableDad(const std::string& ifname) {
  for (const char* conf : {"all", "default"})
    writeSysctl(fmt::format("/proc/sys/net/ipv6/conf/{}/accept_dad", conf), "0");
  if (!ifname.empty())
    writeSysctl(fmt::format("/proc/sys/net/ipv6/conf/{}/accept_dad", ifname), "0");
}

// Reads an interface until it is up and has a usable link-local address.
vrrpd::InterfaceInfo waitReady(const std::string& name) {
  for (int i = 0; i < 100; ++i) {
    auto info = vrrpd::lookupInterface(name);
    if (info && info->up && info->link_local_v6) return *info;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("interface " + name + " not up with a link-local address after 2 s");
}

}  // namespace

int run(const std::vector<std::string>& argv, std::string* out, int netns) {
  int pipefd[2] = {-1, -1};
  if (out && ::pipe2(pipefd, O_CLOEXEC) < 0) sysThrow("pipe2");
  const pid_t pid = ::fork();
  if (pid < 0) sysThrow("fork");
  if (pid == 0) {
    if (netns >= 0 && ::setns(netns, CLONE_NEWNET) < 0) ::_exit(126);
    if (out) ::dup2(pipefd[1], STDOUT_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (out) {
    ::close(pipefd[1]);
    out->clear();
    char buf[4096];
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) out->append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) sysThrow("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string mustRun(const std::vector<std::string>& argv, int netns) {
  std::string out;
  const int rc = run(argv, &out, netns);
  if (rc != 0) throw std::runtime_error(fmt::format("`{}` exited with {}", joined(argv), rc));
  return out;
}

NetNs::NetNs() {
  common::UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home) sysThrow("open /proc/thread-self/ns/net");
  if (::unshare(CLONE_NEWNET) < 0) sysThrow("unshare(CLONE_NEWNET)");
  ns_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  const int saved = errno;
  if (::setns(home.get(), CLONE_NEWNET) < 0) sysThrow("setns back");
  errno = saved;
  if (!ns_) sysThrow("open the new namespace");
}

std::string NetNs::path() const {
  return fmt::format("/proc/{}/fd/{}", ::getpid(), ns_.get());
}

InNetNs::InNetNs(const NetNs& ns)
    : home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
  if (!home_) sysThrow("open /proc/thread-self/ns/net");
  if (::setns(ns.fd(), CLONE_NEWNET) < 0) sysThrow("setns");
}

InNetNs::~InNetNs() {
  ::setns(home_.get(), CLONE_NEWNET);
}

VethLink::VethLink(std::string near, std::string far)
    : near_name(std::move(near)), far_name(std::move(far)) {
  {
    InNetNs in(peer);
    disableDad("");
  }
  disableDad("");
  mustRun({"ip", "link", "add", near_name, "type", "veth", "peer", "name", far_name, "netns",
           peer.path()});
  try {
    disableDad(near_name);
    {
      InNetNs in(peer);
      disableDad(far_name);
    }
    mustRun({"ip", "addr", "add", "192.0.2.1/24", "dev", near_name});
    mustRun({"ip", "-6", "addr", "add", "2001:db8::1/64", "dev", near_name, "nodad"});
    peerIp({"addr", "add", "192.0.2.2/24", "dev", far_name});
    peerIp({"-6", "addr", "add", "2001:db8::2/64", "dev", far_name, "nodad"});
    mustRun({"ip", "link", "set", near_name, "up"});
    peerIp({"link", "set", far_name, "up"});
    near_info = waitReady(near_name);
    InNetNs in(peer);
    far_info = waitReady(far_name);
  } catch (...) {
    run({"ip", "link", "del", near_name});
    throw;
  }
}

VethLink::~VethLink() {
  // Synchronous, unlike the namespace's own teardown, so the next test can
  // reuse the names at once.
  run({"ip", "link", "del", near_name});
}

std::string VethLink::peerIp(std::vector<std::string> args) const {
  args.insert(args.begin(), "ip");
  return mustRun(args, peer.fd());
}

bool waitReadable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
  }
  return n > 0 && (p.revents & POLLIN);
}

common::UniqueFd capture(int ifindex, int ethertype) {
  common::UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                               htons(static_cast<std::uint16_t>(ethertype))));
  if (!fd) sysThrow("socket(AF_PACKET)");
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(static_cast<std::uint16_t>(ethertype));
  ll.sll_ifindex = ifindex;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ll), sizeof ll) < 0)
    sysThrow("bind(AF_PACKET)");
  return fd;
}

std::vector<std::uint8_t> nextFrame(int fd, std::chrono::milliseconds timeout) {
  if (!waitReadable(fd, timeout)) return {};
  std::vector<std::uint8_t> buf(65536);
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
  if (n <= 0) return {};
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

}  // namespace lab
