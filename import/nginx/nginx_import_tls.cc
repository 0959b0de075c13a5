#include "import/nginx/nginx_import_tls.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "common/config_text.h"

namespace importer {

namespace {

struct TlsDirective {
  std::string_view name;
  std::size_t min_args, max_args;  // nginx's argument counts
  bool repeatable;
};

constexpr std::size_t kMany = 64;

constexpr std::array<TlsDirective, 41> kTlsDirectives = {{
    {"ssl_certificate", 1, 1, true},
    {"ssl_certificate_key", 1, 1, true},
    {"ssl_password_file", 1, 1, false},
    {"ssl_protocols", 1, kMany, false},
    {"ssl_ciphers", 1, 1, false},
    {"ssl_prefer_server_ciphers", 1, 1, false},
    {"ssl_ecdh_curve", 1, 1, false},
    {"ssl_dhparam", 1, 1, false},
    {"ssl_handshake_timeout", 1, 1, false},
    {"ssl_session_cache", 1, 2, false},
    {"ssl_session_timeout", 1, 1, false},
    {"ssl_session_tickets", 1, 1, false},
    {"ssl_session_ticket_key", 1, 1, true},
    {"ssl_verify_client", 1, 1, false},
    {"ssl_verify_depth", 1, 1, false},
    {"ssl_client_certificate", 1, 1, false},
    {"ssl_trusted_certificate", 1, 1, false},
    {"ssl_crl", 1, 1, false},
    {"ssl_alpn", 1, kMany, false},
    {"ssl_conf_command", 2, 2, true},
    {"ssl_reject_handshake", 1, 1, false},
    {"proxy_ssl", 1, 1, false},
    {"proxy_ssl_name", 1, 1, false},
    {"proxy_ssl_server_name", 1, 1, false},
    {"proxy_ssl_verify", 1, 1, false},
    {"proxy_ssl_verify_depth", 1, 1, false},
    {"proxy_ssl_trusted_certificate", 1, 1, false},
    {"proxy_ssl_certificate", 1, 1, false},
    {"proxy_ssl_certificate_key", 1, 1, false},
    {"proxy_ssl_password_file", 1, 1, false},
    {"proxy_ssl_protocols", 1, kMany, false},
    {"proxy_ssl_ciphers", 1, 1, false},
    {"proxy_ssl_session_reuse", 1, 1, false},
    {"proxy_ssl_crl", 1, 1, false},
    {"proxy_ssl_conf_command", 2, 2, true},
    // Not in nginx 1.22's stream, so not in proxyd: listed so that the
    // message says which.
    {"ssl_stapling", 0, 0, false},
    {"ssl_stapling_file", 0, 0, false},
    {"ssl_stapling_responder", 0, 0, false},
    {"ssl_stapling_verify", 0, 0, false},
    {"ssl_ocsp", 0, 0, false},
    {"ssl_early_data", 0, 0, false},
}};

const TlsDirective* find(const std::string& name) {
  auto it = std::find_if(kTlsDirectives.begin(), kTlsDirectives.end(),
                         [&](const TlsDirective& t) { return t.name == name; });
  return it == kTlsDirectives.end() || it->max_args == 0 ? nullptr : &*it;
}

}  // namespace

bool isTlsDirective(const std::string& name) {
  return find(name) != nullptr;
}

bool isRepeatableTlsKey(const std::string& name) {
  const TlsDirective* t = find(name);
  return t != nullptr && t->repeatable;
}

std::optional<std::string> tlsValue(const ConfStatement& d, std::string& why) {
  const TlsDirective* t = find(d.name);
  if (t == nullptr) return std::nullopt;
  if (d.block || d.args.size() < t->min_args || d.args.size() > t->max_args) {
    why = "invalid number of arguments";
    return std::nullopt;
  }
  std::string value;
  for (const std::string& arg : d.args) {
    value += (value.empty() ? "" : " ") + common::quoteToken(arg);
  }
  return value;
}

}  // namespace importer
