// The PROXY protocol of a session: reading the client's header on
// `listen ... proxy_protocol` (ngx_stream_proxy_protocol_handler) with
// realip after it, and sending one to the upstream with `proxy_protocol`
// (ngx_stream_proxy_init_upstream / _send_proxy_protocol).
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

#include "common/sys_error.h"
#include "proxyd/core/proxy_protocol_writer.h"
#include "proxyd/io/session.h"
#include "proxyd/io/worker.h"

namespace proxyd {

namespace {

// ngx_connection_error: the errors a peer causes are info, others alert.
common::LogLevel peerErrorLevel(int err) {
  switch (err) {
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case ETIMEDOUT:
    case ECONNREFUSED:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTDOWN:
    case EHOSTUNREACH:
      return common::LogLevel::info;
    default:
      return common::LogLevel::alert;
  }
}

}  // namespace

// The header is read before anything else, within proxy_protocol_timeout of
// the default [server]; the client is not read on until it has come.
void Session::startProxyProtocol() {
  phase_ = Phase::reading_proxy_protocol;
  armTimer(block_->section.proxy_protocol.timeout);
  client_.readable = true;
  readProxyProtocol();
}

// As nginx: one MSG_PEEK of at most 4096 bytes once the client is readable,
// and the header judged on what it gave (a header that has not fully
// arrived is broken); then exactly the header is read off the socket.
void Session::readProxyProtocol() {
  if (!client_.readable) return;
  char* buf = worker_.scratch(kProxyProtocolMaxHeader);
  ssize_t n;
  do {
    n = ::recv(client_.fd.get(), buf, kProxyProtocolMaxHeader, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      client_.readable = false;
      return;
    }
    const int err = errno;
    logError(peerErrorLevel(err),
             common::SysError{"recv()", err}.message() + " while reading PROXY protocol");
    return finish(200);
  }
  const std::string_view data(buf, static_cast<std::size_t>(n));
  ProxyProtocolResult r = parseProxyProtocol(data, /*final=*/true);
  if (r.state != ProxyProtocolResult::State::done) {
    if (!r.error.empty()) {
      logError(common::LogLevel::error, r.error + " while reading PROXY protocol");
    }
    return finish(400);
  }
  acceptProxyProtocol(std::move(r.header), r.consumed);
}

void Session::acceptProxyProtocol(std::optional<ProxyProtocolHeader> header, std::size_t length) {
  char* buf = worker_.scratch(kProxyProtocolMaxHeader);
  ssize_t n;
  do {
    n = ::recv(client_.fd.get(), buf, length, 0);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(length)) return finish(500);  // as nginx
  evtimer_del(timer_.get());
  auto info = std::make_shared<ProxyProtocolInfo>();
  info->header = std::move(header);
  // ngx_stream_realip_module, in the post-accept phase: the default
  // [server]'s set_real_ip_from decides.
  if (auto real = realClientAddress(block_->section.proxy_protocol.real_ip_from, record_.remote,
                                    info->header ? &*info->header : nullptr)) {
    info->realip_peer = record_.remote;
    record_.remote = *real;
  }
  record_.proxy_protocol = std::move(info);
  phase_ = Phase::initializing;
  postAccept();
}

// The header goes out in one send() on the fresh connection, ahead of any
// client byte; a header that does not go at once fails the session, as
// nginx's "could not send PROXY protocol header at once". It is counted in
// $upstream_bytes_sent, as nginx counts it.
bool Session::sendProxyProtocol() {
  const std::string header = block_->section.proxy_protocol.send == ProxyProtocolSend::v2
                                 ? proxyProtocolV2(record_.remote, record_.local)
                                 : proxyProtocolV1(record_.remote, record_.local);
  ssize_t n;
  do {
    n = ::send(upstream_.fd.get(), header.data(), header.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(header.size())) {
    up_.written += header.size();
    return true;
  }
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    const int err = errno;
    logError(peerErrorLevel(err),
             common::SysError{"send()", err}.message() + " while proxying to upstream");
    finish(200);
    return false;
  }
  if (n > 0) up_.written += static_cast<std::uint64_t>(n);
  logError(common::LogLevel::error, "could not send PROXY protocol header at once");
  finish(500);
  return false;
}

}  // namespace proxyd
