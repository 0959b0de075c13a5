// The TLS keys of a [server] as loaded: termination (nginx's ssl_* of
// ngx_stream_ssl_module) and TLS to the upstream (proxy_ssl_* of
// ngx_stream_proxy_module). Pure data and parsing; the OpenSSL contexts are
// built from it in proxyd/io/tls_context.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/ini_section_walker.h"
#include "common/result.h"
#include "proxyd/core/config_context.h"
#include "proxyd/core/listen.h"

namespace proxyd {

// ssl_protocols / proxy_ssl_protocols: a set of these bits.
enum TlsProtocol : unsigned {
  kSslv2 = 1,
  kSslv3 = 2,
  kTlsv1 = 4,
  kTlsv1_1 = 8,
  kTlsv1_2 = 16,
  kTlsv1_3 = 32,
};
// nginx's default since 1.23.4 (the release $nginx_version follows).
inline constexpr unsigned kDefaultTlsProtocols = kTlsv1_2 | kTlsv1_3;
common::Result<unsigned> parseTlsProtocols(std::string_view value);

// ssl_conf_command NAME VALUE (SSL_CONF_cmd), in order.
struct TlsConfCommand {
  std::string name, value;
  bool operator==(const TlsConfCommand&) const = default;
};

// ssl_session_cache: off | none | [builtin[:N]] [shared:NAME:SIZE].
struct TlsSessionCache {
  enum class Mode { none, off, on } mode = Mode::none;
  std::uint64_t builtin_size = 0;  // builtin[:N]; 0: not given
  std::string shared_name;         // shared:NAME:SIZE
  std::uint64_t shared_size = 0;
  bool operator==(const TlsSessionCache&) const = default;
};
common::Result<TlsSessionCache> parseSessionCache(std::string_view value);

enum class VerifyClient { off, on, optional, optional_no_ca };

struct TlsServerSettings {
  // Paired in order; a name with a '$' is loaded per handshake (nginx's
  // certificates with variables).
  std::vector<std::string> certificates;
  std::vector<std::string> certificate_keys;
  int certificate_line = 0;  // the first ssl_certificate, for errors
  std::string password_file;
  unsigned protocols = kDefaultTlsProtocols;
  std::string ciphers = "HIGH:!aNULL:!MD5";
  bool prefer_server_ciphers = false;
  std::string ecdh_curve = "auto";
  std::string dhparam;
  std::chrono::milliseconds handshake_timeout{60000};
  TlsSessionCache session_cache;
  std::chrono::milliseconds session_timeout{300000};
  bool session_tickets = true;
  std::vector<std::string> session_ticket_keys;
  VerifyClient verify_client = VerifyClient::off;
  int verify_depth = 1;
  std::string client_certificate;
  std::string trusted_certificate;
  std::string crl;
  std::vector<std::string> alpn;
  std::vector<TlsConfCommand> conf_commands;
  bool reject_handshake = false;
  bool operator==(const TlsServerSettings&) const = default;
};

struct ProxySslSettings {
  bool enabled = false;              // proxy_ssl
  std::string name = "$proxy_host";  // proxy_ssl_name: a template
  bool server_name = false;          // proxy_ssl_server_name: send SNI
  bool verify = false;               // proxy_ssl_verify
  int verify_depth = 1;
  std::string trusted_certificate;
  std::string certificate;
  std::string certificate_key;
  std::string password_file;
  unsigned protocols = kDefaultTlsProtocols;
  std::string ciphers = "DEFAULT";
  bool session_reuse = true;
  std::string crl;
  std::vector<TlsConfCommand> conf_commands;
  int line = 0;  // proxy_ssl, for errors
  bool operator==(const ProxySslSettings&) const = default;
};

// Registers every ssl_* and proxy_ssl_* key of [server] with the walker;
// paths resolve against the prefix; a value nginx refuses is an error at its
// line.
void addTlsKeys(common::SectionWalker& w, const ConfigContext& ctx, TlsServerSettings& tls,
                ProxySslSettings& proxy);

// The line of the first `listen ... ssl`, 0 when none has it.
int firstSslListenLine(const std::vector<ListenDirective>& listens);

// nginx's checks after the section: paired certificates and keys, a
// certificate for a `listen ... ssl` (unless ssl_reject_handshake), the CA
// file ssl_verify_client needs. `ssl_listen_line` is 0 without ssl.
void checkTlsSettings(const ConfigContext& ctx, const TlsServerSettings& tls,
                      const ProxySslSettings& proxy, int section_line, int ssl_listen_line);

}  // namespace proxyd
