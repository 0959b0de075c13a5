// The OpenSSL contexts of a [server], made from its settings when a
// configuration is built (at start and at every reload, so certificates and
// keys are re-read then; a file that does not load fails the build and the
// running configuration goes on). One SSL_CTX serves every worker thread,
// so its session cache is shared by all of them.
#pragma once

#include <memory>
#include <string>

#include "common/c_handles.h"
#include "common/result.h"
#include "proxyd/core/server_block.h"
#include "proxyd/core/tls_info.h"
#include "proxyd/core/tls_settings.h"
#include "proxyd/core/virtual_servers.h"

namespace proxyd {

class TlsServerContext {
 public:
  // `where` is "FILE:LINE" for the messages (nginx's wording after it).
  static common::Result<std::shared_ptr<const TlsServerContext>> build(
      const TlsServerSettings& settings, const std::string& where);

  ssl_ctx_st* ctx() const { return ctx_.get(); }
  const TlsServerSettings& settings() const { return settings_; }

  TlsServerContext(common::SslCtxPtr ctx, TlsServerSettings settings)
      : ctx_(std::move(ctx)), settings_(std::move(settings)) {}

 private:
  common::SslCtxPtr ctx_;
  TlsServerSettings settings_;
};

// proxy_ssl: the client context towards the upstreams of a [server].
class TlsClientContext {
 public:
  static common::Result<std::shared_ptr<const TlsClientContext>> build(
      const ProxySslSettings& settings, const std::string& where);

  ssl_ctx_st* ctx() const { return ctx_.get(); }
  const ProxySslSettings& settings() const { return settings_; }

  TlsClientContext(common::SslCtxPtr ctx, ProxySslSettings settings)
      : ctx_(std::move(ctx)), settings_(std::move(settings)) {}

 private:
  common::SslCtxPtr ctx_;
  ProxySslSettings settings_;
};

// Makes the block's contexts from its section: the server one when it has a
// `listen ... ssl`, the client one with proxy_ssl on. A file that does not
// load is an error naming `path` and the line of the directive.
common::Result<void> buildTlsContexts(const std::string& path, ServerBlock& block);
// Whether some [server] of the address marks that listen `ssl`.
bool servesTls(const ProxyConfig& cfg, const AddressServers& address);

// What a finished server-side handshake negotiated, for the $ssl_* variables.
TlsInfo describeTls(ssl_st* ssl, VerifyClient verify);

// ngx_stream_ssl_handler's check after the handshake: empty when the
// client certificate is acceptable, else nginx's message ("client sent no
// required SSL certificate", "client SSL certificate verify error: ...").
std::string checkClientCertificate(ssl_st* ssl, VerifyClient verify);

}  // namespace proxyd
