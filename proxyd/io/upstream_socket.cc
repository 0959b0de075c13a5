#include "proxyd/io/upstream_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>

#include <fmt/format.h>

#include "common/sys_error.h"

namespace proxyd {

namespace {

constexpr std::string_view kAction = " while connecting to upstream";

std::string failed(std::string_view call, int err) {
  return fmt::format("{}{}", common::SysError{std::string(call), err}.message(), kAction);
}

// ngx_event_connect_set_transparent: the local address need not be ours.
bool setTransparent(int fd, const common::SocketAddress& local, UpstreamSocketSetup& out) {
  int one = 1;
  const bool v6 = local.family() == AF_INET6;
  int rc = v6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof one)
              : ::setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof one);
  if (rc == 0) return true;
  out.notes.push_back(
      {common::LogLevel::alert,
       failed(v6 ? "setsockopt(IPV6_TRANSPARENT)" : "setsockopt(IP_TRANSPARENT)", errno)});
  return false;
}

void bindLocal(int fd, const common::SocketAddress& local, std::string_view name, bool transparent,
               const common::SocketAddress& peer, UpstreamSocketSetup& out) {
  if (transparent && !setTransparent(fd, local, out)) {
    out.ok = false;
    return;
  }
  if (peer.family() != AF_UNIX && local.port() == 0) {
    // The port is chosen at connect() with the peer known, so one local
    // address can carry more than 64k sessions (as nginx).
    int one = 1;
    if (::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0 &&
        errno != EOPNOTSUPP && errno != ENOPROTOOPT) {
      out.notes.push_back(
          {common::LogLevel::alert,
           fmt::format("{}, ignored{}",
                       common::SysError{"setsockopt(IP_BIND_ADDRESS_NO_PORT)", errno}.message(),
                       kAction)});
    }
  }
  if (::bind(fd, local.sa(), local.len()) != 0) {
    out.notes.push_back({common::LogLevel::crit, failed(fmt::format("bind({})", name), errno)});
    out.ok = false;
  }
}

}  // namespace

UpstreamSocketSetup prepareUpstreamSocket(int fd, const ServerSection& sec,
                                          const common::SocketAddress& peer,
                                          std::string_view bind_text) {
  UpstreamSocketSetup out;
  if (sec.proxy_socket_keepalive) {
    int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0) {
      out.notes.push_back(
          {common::LogLevel::alert,
           fmt::format("{}, ignored{}",
                       common::SysError{"setsockopt(SO_KEEPALIVE)", errno}.message(), kAction)});
    }
  }
  if (!sec.proxy_bind) return out;
  const ProxyBind& bind = *sec.proxy_bind;
  if (bind.address) {
    bindLocal(fd, *bind.address, bind.value, bind.transparent, peer, out);
    return out;
  }
  // ngx_stream_proxy_set_local: an empty value binds nothing; one that is no
  // address is logged and the connection goes out unbound.
  if (bind_text.empty()) return out;
  std::optional<common::SocketAddress> local = parseBindAddress(bind_text);
  if (!local) {
    out.notes.push_back({common::LogLevel::error,
                         fmt::format("invalid local address \"{}\"{}", bind_text, kAction)});
    return out;
  }
  bindLocal(fd, *local, bind_text, bind.transparent, peer, out);
  return out;
}

void clearClientNodelay(int fd, const common::SocketAddress& local) {
  if (local.family() == AF_UNIX) return;
  int zero = 0;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &zero, sizeof zero);
}

}  // namespace proxyd
