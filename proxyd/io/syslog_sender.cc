#include "proxyd/io/syslog_sender.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "common/sys_error.h"

namespace proxyd {

SyslogSender::SyslogSender(SyslogTarget target, const std::string& hostname,
                           const common::Clock& clock)
    : target_(std::move(target)), hostname_(syslogHostname(hostname)), clock_(clock) {}

bool SyslogSender::connectSocket() {
  const bool unix_socket = !target_.unix_path.empty();
  int fd = ::socket(unix_socket ? AF_UNIX : target_.server.family(),
                    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    last_errno_ = errno;
    return false;
  }
  common::UniqueFd owned(fd);
  int rc;
  if (unix_socket) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, target_.unix_path.data(), target_.unix_path.size());
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&sun), sizeof sun);
  } else {
    rc = ::connect(fd, target_.server.sa(), target_.server.len());
  }
  if (rc != 0) {
    last_errno_ = errno;
    return false;
  }
  fd_ = std::move(owned);
  return true;
}

bool SyslogSender::send(int severity, std::string_view message) {
  time_t now = ::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  std::string datagram = syslogHeader(target_, severity, local, hostname_);
  datagram.append(message);
  if (!fd_.valid() && !connectSocket()) {
    ++lost_;
    report_.lost(1);
    return false;
  }
  ssize_t n = ::send(fd_.get(), datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(datagram.size())) return true;
  last_errno_ = n < 0 ? errno : EMSGSIZE;
  // As ngx_syslog_send: a failed socket is closed, the next line reconnects
  // (a UDP server that was down may be back; ECONNREFUSED is sticky).
  if (n < 0 && last_errno_ != EAGAIN && last_errno_ != EWOULDBLOCK) fd_.reset();
  ++lost_;
  report_.lost(1);
  return false;
}

std::optional<std::string> SyslogSender::lossReport() {
  if (!report_.pending()) return std::nullopt;
  auto n = report_.due(clock_.now());
  if (!n) return std::nullopt;
  return fmt::format(
      "{} while logging to syslog, server: {}: {} line(s) lost (said at most once "
      "a minute)",
      common::SysError{"send() to syslog", last_errno_}, target_.text, *n);
}

}  // namespace proxyd
