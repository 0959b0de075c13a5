#include "proxyd/io/listen_options.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

#include "common/sys_error.h"

namespace proxyd {

namespace {

bool setInt(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
}

// nginx's "setsockopt(SO_RCVBUF, 65536) 0.0.0.0:80 failed, ignored" (alert).
std::string ignored(const std::string& call, const common::SocketAddress& addr, int err) {
  return fmt::format("{}, ignored",
                     common::SysError{fmt::format("{} {}", call, addr.toString()), err}.message());
}

bool isIp(const common::SocketAddress& addr) {
  return addr.family() == AF_INET || addr.family() == AF_INET6;
}

}  // namespace

common::Result<std::vector<std::string>> configureBeforeBind(int fd,
                                                             const common::SocketAddress& addr,
                                                             const ListenSocketOptions& o) {
  using R = common::Result<std::vector<std::string>>;
  std::vector<std::string> warnings;
  if (addr.family() == AF_INET6 &&
      !setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, o.ipv6only.value_or(true))) {
    warnings.push_back(ignored("setsockopt(IPV6_V6ONLY)", addr, errno));
  }
  if (isIp(addr) && !addr.isWildcard()) {
    // Binding a VIP before vrrpd adds it: without IP_FREEBIND bind() says
    // EADDRNOTAVAIL until the address is on an interface.
    const bool v6 = addr.family() == AF_INET6;
    if (!(v6 ? setInt(fd, IPPROTO_IPV6, IPV6_FREEBIND, 1)
             : setInt(fd, IPPROTO_IP, IP_FREEBIND, 1))) {
      return R::fail(common::SysError{
          fmt::format("setsockopt({}) {}", v6 ? "IPV6_FREEBIND" : "IP_FREEBIND", addr.toString()),
          errno}
                         .message());
    }
  }
  if (o.rcvbuf && !setInt(fd, SOL_SOCKET, SO_RCVBUF, static_cast<int>(*o.rcvbuf))) {
    warnings.push_back(ignored(fmt::format("setsockopt(SO_RCVBUF, {})", *o.rcvbuf), addr, errno));
  }
  if (o.sndbuf && !setInt(fd, SOL_SOCKET, SO_SNDBUF, static_cast<int>(*o.sndbuf))) {
    warnings.push_back(ignored(fmt::format("setsockopt(SO_SNDBUF, {})", *o.sndbuf), addr, errno));
  }
  return warnings;
}

std::vector<std::string> configureListening(int fd, const common::SocketAddress& addr,
                                            const ListenSocketOptions& o) {
  std::vector<std::string> warnings;
  if (o.so_keepalive) {
    const KeepaliveSpec& k = *o.so_keepalive;
    if (!setInt(fd, SOL_SOCKET, SO_KEEPALIVE, k.on ? 1 : 0)) {
      warnings.push_back(
          ignored(fmt::format("setsockopt(SO_KEEPALIVE, {})", k.on ? 1 : 0), addr, errno));
    }
    auto tunable = [&](const std::optional<int>& v, int name, const char* what) {
      if (v && *v > 0 && !setInt(fd, IPPROTO_TCP, name, *v)) {
        warnings.push_back(ignored(fmt::format("setsockopt({}, {})", what, *v), addr, errno));
      }
    };
    tunable(k.idle, TCP_KEEPIDLE, "TCP_KEEPIDLE");
    tunable(k.interval, TCP_KEEPINTVL, "TCP_KEEPINTVL");
    tunable(k.count, TCP_KEEPCNT, "TCP_KEEPCNT");
  }
  if (!isIp(addr)) return warnings;
  if (o.fastopen && !setInt(fd, IPPROTO_TCP, TCP_FASTOPEN, *o.fastopen)) {
    warnings.push_back(
        ignored(fmt::format("setsockopt(TCP_FASTOPEN, {})", *o.fastopen), addr, errno));
  }
  // nginx: 1 s, since a connection's time in the deferred queue cannot be
  // known (and syncookies bypass it); 0 clears it on a kept socket.
  const int defer = o.deferred ? 1 : 0;
  int now = 0;
  socklen_t len = sizeof now;
  ::getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &now, &len);
  if ((now != 0) != o.deferred && !setInt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, defer)) {
    warnings.push_back(
        ignored(fmt::format("setsockopt(TCP_DEFER_ACCEPT, {})", defer), addr, errno));
  }
  return warnings;
}

}  // namespace proxyd
