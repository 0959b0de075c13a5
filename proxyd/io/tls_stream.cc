#include "proxyd/io/tls_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>

#include <fmt/format.h>

#include "common/sys_error.h"

namespace proxyd {

namespace {

// ngx_ssl_connection_error: the failures a peer causes (a broken
// connection, a client speaking something else or offering nothing we
// share, an alert it sent) are logged at info; the rest at crit.
bool peerCausedSyscall(int err) {
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
      return true;
    default:
      return false;
  }
}

bool peerCausedReason(int reason) {
  // An alert received from the peer: OpenSSL's SSL_R_SSLV3_ALERT_* and
  // SSL_R_TLSV1_ALERT_* reasons are SSL_AD_REASON_OFFSET + the alert code.
  if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) return true;
  switch (reason) {
    case SSL_R_BAD_CHANGE_CIPHER_SPEC:
    case SSL_R_DIGEST_CHECK_FAILED:
    case SSL_R_ERROR_IN_RECEIVED_CIPHER_LIST:
    case SSL_R_EXCESSIVE_MESSAGE_SIZE:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_LENGTH_MISMATCH:
    case SSL_R_NO_CIPHERS_SPECIFIED:
    case SSL_R_NO_COMPRESSION_SPECIFIED:
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_CLIENTHELLO_TLSEXT:
    case SSL_R_PARSE_TLSEXT:
    case SSL_R_UNEXPECTED_MESSAGE:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_UNKNOWN_ALERT_TYPE:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_BAD_KEY_SHARE:
    case SSL_R_BAD_EXTENSION:
    case SSL_R_INAPPROPRIATE_FALLBACK:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
    case SSL_R_CERT_CB_ERROR:
    case SSL_R_CALLBACK_FAILED:
    case SSL_R_NO_APPLICATION_PROTOCOL:
    case SSL_R_MISSING_SIGALGS_EXTENSION:
    case SSL_R_UNSAFE_LEGACY_RENEGOTIATION_DISABLED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return true;
    default:
      return false;
  }
}

std::unique_ptr<TlsStream> make(ssl_ctx_st* ctx, int fd, bool server) {
  common::SslPtr ssl(SSL_new(ctx));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) return nullptr;
  if (server) {
    SSL_set_accept_state(ssl.get());
  } else {
    SSL_set_connect_state(ssl.get());
  }
  return std::make_unique<TlsStream>(std::move(ssl));
}

}  // namespace

std::string takeOpenSslErrors() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    out += ' ';
    out += text;
    if (data != nullptr && *data != '\0' && (flags & ERR_TXT_STRING)) {
      out += ':';
      out += data;
    }
  }
  return out.empty() ? out : " (SSL:" + out + ")";
}

std::unique_ptr<TlsStream> TlsStream::accept(ssl_ctx_st* ctx, int fd) {
  return make(ctx, fd, true);
}

std::unique_ptr<TlsStream> TlsStream::connect(ssl_ctx_st* ctx, int fd) {
  return make(ctx, fd, false);
}

TlsStream::Handshake TlsStream::handshake() {
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_.get());
  if (ret == 1) {
    wait_ = Wait::none;
    return Handshake::done;
  }
  int err = SSL_get_error(ssl_.get(), ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    wait_ = err == SSL_ERROR_WANT_READ ? Wait::read : Wait::write;
    return Handshake::again;
  }
  int sys = errno;
  // ngx_ssl_handshake: a peer that closes without a word is not an SSL error.
  if (err == SSL_ERROR_ZERO_RETURN ||
      (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && (ret == 0 || sys == 0))) {
    error_ = "peer closed connection in SSL handshake";
    error_level_ = common::LogLevel::info;
    ERR_clear_error();
    return Handshake::failed;
  }
  fail("SSL_do_handshake()", ret);
  return Handshake::failed;
}

ssize_t TlsStream::read(char* buf, std::size_t len) {
  ERR_clear_error();
  int n = SSL_read(ssl_.get(), buf, static_cast<int>(std::min<std::size_t>(len, INT32_MAX)));
  if (n > 0) {
    wait_ = Wait::none;
    return n;
  }
  return fail("SSL_read()", n);
}

ssize_t TlsStream::write(const char* buf, std::size_t len) {
  ERR_clear_error();
  int n = SSL_write(ssl_.get(), buf, static_cast<int>(std::min<std::size_t>(len, INT32_MAX)));
  if (n > 0) {
    wait_ = Wait::none;
    return n;
  }
  return fail("SSL_write()", n);
}

void TlsStream::shutdown() {
  if (shut_) return;
  shut_ = true;
  // Only after a finished handshake and without a fatal error, as OpenSSL
  // requires; the peer's close_notify is not waited for.
  if (!SSL_is_init_finished(ssl_.get())) return;
  SSL_set_quiet_shutdown(ssl_.get(), 0);
  ERR_clear_error();
  (void)SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

ssize_t TlsStream::fail(const char* op, int ret) {
  int sys = errno;
  int err = SSL_get_error(ssl_.get(), ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      wait_ = err == SSL_ERROR_WANT_READ ? Wait::read : Wait::write;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      shut_ = true;  // close_notify received: ours may still go out
      return 0;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0 && (ret == 0 || sys == 0)) return 0;  // EOF without close_notify
      break;
    default:
      break;
  }
  shut_ = true;  // no close_notify after a fatal error
  unsigned long first = ERR_peek_error();
  if (err == SSL_ERROR_SYSCALL && first == 0) {
    error_ = fmt::format("{} failed ({})", op, common::SysError::errnoReason(sys));
    error_level_ = peerCausedSyscall(sys) ? common::LogLevel::info : common::LogLevel::crit;
  } else {
    bool peer = ERR_GET_LIB(first) == ERR_LIB_SSL && peerCausedReason(ERR_GET_REASON(first));
    error_level_ = peer ? common::LogLevel::info : common::LogLevel::crit;
    error_ = fmt::format("{} failed{}", op, takeOpenSslErrors());
  }
  errno = EIO;
  return -1;
}

}  // namespace proxyd
