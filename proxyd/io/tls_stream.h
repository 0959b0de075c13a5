// One end of a session spoken in TLS: an SSL* over a non-blocking socket
// the session owns. read()/write() behave as recv()/send() do for the relay
// (bytes, 0 at EOF, -1 with errno EAGAIN when it must wait), and say which
// socket event the wait is for: TLS may need to write to read (a key
// update) or read to write. OpenSSL may hold decrypted bytes the socket no
// longer shows, so with an edge-triggered event the relay reads until EAGAIN
// rather than stopping at a short read.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "common/c_handles.h"
#include "common/log.h"

namespace proxyd {

class TlsStream {
 public:
  enum class Wait { none, read, write };
  enum class Handshake { done, again, failed };

  // Server side (termination) or client side (proxy_ssl) over `fd`; null
  // when OpenSSL cannot make the SSL object (the reason is in error()).
  static std::unique_ptr<TlsStream> accept(ssl_ctx_st* ctx, int fd);
  static std::unique_ptr<TlsStream> connect(ssl_ctx_st* ctx, int fd);

  // Non-blocking SSL_do_handshake: `again` leaves wait() set.
  Handshake handshake();
  ssize_t read(char* buf, std::size_t len);
  ssize_t write(const char* buf, std::size_t len);
  // Sends close_notify once, without waiting for the peer's (as nginx's
  // ngx_ssl_shutdown on a closing connection).
  void shutdown();

  Wait wait() const { return wait_; }
  // After a failure: nginx's text, "SSL_read() failed (SSL: error:...)",
  // and the level ngx_ssl_connection_error gives it (info for what a
  // client's mistake or a broken connection causes, crit otherwise).
  const std::string& error() const { return error_; }
  common::LogLevel errorLevel() const { return error_level_; }
  ssl_st* ssl() const { return ssl_.get(); }

  explicit TlsStream(common::SslPtr ssl) : ssl_(std::move(ssl)) {}

 private:
  // SSL_get_error's verdict on `ret` of `op`: -1/EAGAIN with wait_ set, 0
  // at a clean or abrupt EOF, -1/EIO with error_ set on failure.
  ssize_t fail(const char* op, int ret);

  common::SslPtr ssl_;
  Wait wait_ = Wait::none;
  bool shut_ = false;
  std::string error_;
  common::LogLevel error_level_ = common::LogLevel::crit;
};

// Every queued OpenSSL error of this thread as nginx prints it after a
// failed call: " (SSL: error:...:reason:detail)" joined, or "" when none.
std::string takeOpenSslErrors();

}  // namespace proxyd
