#include "proxyd/core/tls_settings.h"

#include <fmt/format.h>

#include <array>

#include "common/config_text.h"
#include "common/duration.h"
#include "common/value_limits.h"
#include "proxyd/core/value_limits.h"

namespace proxyd {

namespace {

using common::IniEntry;

constexpr std::array<std::pair<std::string_view, unsigned>, 6> kProtocolNames = {{
    {"SSLv2", kSslv2},
    {"SSLv3", kSslv3},
    {"TLSv1", kTlsv1},
    {"TLSv1.1", kTlsv1_1},
    {"TLSv1.2", kTlsv1_2},
    {"TLSv1.3", kTlsv1_3},
}};

// Splits "NAME:SIZE" of shared:NAME:SIZE.
common::Result<TlsSessionCache> parseShared(std::string_view spec, TlsSessionCache cache) {
  using R = common::Result<TlsSessionCache>;
  auto colon = spec.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return R::fail("no size");
  auto size = common::parseSize(spec.substr(colon + 1));
  // nginx wants at least 8 pages of the shared zone.
  if (!size || *size < 8 * 4096) return R::fail("invalid size");
  cache.shared_name = std::string(spec.substr(0, colon));
  cache.shared_size = *size;
  return cache;
}

// Which of the shared setters a key feeds: TLS termination and proxy_ssl
// have the same value syntax for these.
struct Common {
  std::string* ciphers;
  unsigned* protocols;
  std::string* crl;
  std::string* password_file;
  int* verify_depth;
  std::vector<TlsConfCommand>* conf_commands;
};

template <class T>
bool take(const ConfigContext& ctx, const IniEntry& e, common::Result<T> r, T& out) {
  if (!r) {
    ctx.error(e.line, fmt::format("{}: {}", e.key, r.error()));
    return false;
  }
  out = std::move(*r);
  return true;
}

// Registers keys with the walker. The handlers capture only what outlives
// the walk: the loader's context and the settings being filled.
struct TlsKeys {
  common::SectionWalker& w;
  const ConfigContext& ctx;

  void flag(const std::string& key, bool& out) {
    w.on(key, [&c = ctx, &out](const IniEntry& e) { take(c, e, common::parseFlag(e.value), out); });
  }
  void text(const std::string& key, std::string& out) {
    w.on(key, [&out](const IniEntry& e) { out = e.value; });
  }
  void file(const std::string& key, std::string& out) {
    w.on(key, [&c = ctx, &out](const IniEntry& e) { out = c.resolvePath(e.value); });
  }
  // A number of the limits table (value_limits.cc) into `out`.
  template <class T>
  void limited(const std::string& key, T& out) {
    w.on(key, [&c = ctx, &out](const IniEntry& e) {
      std::int64_t n = 0;
      if (take(c, e, common::parseLimited(limitOf("server", e.key), e.value), n)) out = T(n);
    });
  }
  void protocols(const std::string& key, unsigned& out) {
    w.on(key, [&c = ctx, &out](const IniEntry& e) { take(c, e, parseTlsProtocols(e.value), out); });
  }
  void confCommand(const std::string& key, std::vector<TlsConfCommand>& out) {
    w.on(
        key,
        [&c = ctx, &out](const IniEntry& e) {
          auto words = common::splitTokens(e.value);
          if (!words || words->size() != 2) {
            c.error(e.line, fmt::format("{}: expected \"NAME VALUE\"", e.key));
            return;
          }
          out.push_back({(*words)[0], (*words)[1]});
        },
        true);
  }
  void shared(const std::string& prefix, const Common& c) {
    text(prefix + "ciphers", *c.ciphers);
    protocols(prefix + "protocols", *c.protocols);
    file(prefix + "crl", *c.crl);
    file(prefix + "password_file", *c.password_file);
    limited(prefix + "verify_depth", *c.verify_depth);
    confCommand(prefix + "conf_command", *c.conf_commands);
  }
};

common::Result<VerifyClient> parseVerifyClient(std::string_view v) {
  if (v == "on") return VerifyClient::on;
  if (v == "off") return VerifyClient::off;
  if (v == "optional") return VerifyClient::optional;
  if (v == "optional_no_ca") return VerifyClient::optional_no_ca;
  return common::Result<VerifyClient>::fail(
      fmt::format("invalid value \"{}\" (expected on, off, optional or optional_no_ca)", v));
}

void addServerKeys(TlsKeys& k, TlsServerSettings& tls) {
  common::SectionWalker& w = k.w;
  const ConfigContext& ctx = k.ctx;
  // A certificate name with variables stays as written (it is a template);
  // others resolve against the prefix now.
  auto certificateFile = [&ctx](const std::string& v) {
    return v.find('$') != std::string::npos && v.front() != '/' ? ctx.prefix + "/" + v
                                                                : ctx.resolvePath(v);
  };
  w.on(
      "ssl_certificate",
      [&tls, certificateFile](const IniEntry& e) {
        if (tls.certificate_line == 0) tls.certificate_line = e.line;
        tls.certificates.push_back(certificateFile(e.value));
      },
      true);
  w.on(
      "ssl_certificate_key",
      [&tls, certificateFile](const IniEntry& e) {
        tls.certificate_keys.push_back(certificateFile(e.value));
      },
      true);
  k.shared("ssl_", {&tls.ciphers, &tls.protocols, &tls.crl, &tls.password_file, &tls.verify_depth,
                    &tls.conf_commands});
  k.flag("ssl_prefer_server_ciphers", tls.prefer_server_ciphers);
  k.text("ssl_ecdh_curve", tls.ecdh_curve);
  k.file("ssl_dhparam", tls.dhparam);
  k.limited("ssl_handshake_timeout", tls.handshake_timeout);
  w.on("ssl_session_cache", [&ctx, &tls](const IniEntry& e) {
    take(ctx, e, parseSessionCache(e.value), tls.session_cache);
  });
  k.limited("ssl_session_timeout", tls.session_timeout);
  k.flag("ssl_session_tickets", tls.session_tickets);
  w.on(
      "ssl_session_ticket_key",
      [&ctx, &tls](const IniEntry& e) {
        tls.session_ticket_keys.push_back(ctx.resolvePath(e.value));
      },
      true);
  w.on("ssl_verify_client", [&ctx, &tls](const IniEntry& e) {
    take(ctx, e, parseVerifyClient(e.value), tls.verify_client);
  });
  k.file("ssl_client_certificate", tls.client_certificate);
  k.file("ssl_trusted_certificate", tls.trusted_certificate);
  w.on("ssl_alpn", [&ctx, &tls](const IniEntry& e) {
    auto words = common::splitTokens(e.value);
    if (!words || words->empty()) return ctx.error(e.line, "ssl_alpn: expected names");
    for (const std::string& p : *words) {
      // Each name is one length-prefixed entry of the ALPN list.
      if (p.empty() || p.size() > 255) {
        return ctx.error(e.line, fmt::format("ssl_alpn: invalid protocol \"{}\"", p));
      }
    }
    tls.alpn = std::move(*words);
  });
  k.flag("ssl_reject_handshake", tls.reject_handshake);
}

void addProxyKeys(TlsKeys& k, ProxySslSettings& p) {
  k.w.on("proxy_ssl", [&c = k.ctx, &p](const IniEntry& e) {
    p.line = e.line;
    take(c, e, common::parseFlag(e.value), p.enabled);
    // The settings and the client context exist; the session does not yet
    // speak TLS to the upstream. Refused, so that no operator believes a
    // plain upstream connection is encrypted.
    if (p.enabled) {
      c.error(e.line,
              "proxy_ssl: TLS to the upstream is not supported yet (the connection would stay "
              "plain)");
    }
  });
  k.text("proxy_ssl_name", p.name);
  k.flag("proxy_ssl_server_name", p.server_name);
  k.flag("proxy_ssl_verify", p.verify);
  k.file("proxy_ssl_trusted_certificate", p.trusted_certificate);
  k.file("proxy_ssl_certificate", p.certificate);
  k.file("proxy_ssl_certificate_key", p.certificate_key);
  k.flag("proxy_ssl_session_reuse", p.session_reuse);
  k.shared("proxy_ssl_",
           {&p.ciphers, &p.protocols, &p.crl, &p.password_file, &p.verify_depth, &p.conf_commands});
}

}  // namespace

common::Result<unsigned> parseTlsProtocols(std::string_view value) {
  using R = common::Result<unsigned>;
  unsigned set = 0;
  for (const std::string& word : common::splitWords(value)) {
    auto it = std::find_if(kProtocolNames.begin(), kProtocolNames.end(),
                           [&](const auto& p) { return p.first == word; });
    if (it == kProtocolNames.end()) return R::fail(fmt::format("invalid value \"{}\"", word));
    set |= it->second;
  }
  if (set == 0) return R::fail("expected protocol names (TLSv1.2 TLSv1.3 ...)");
  return set;
}

// nginx's ngx_stream_ssl_session_cache: "off" and "none" alone; builtin and
// shared may be combined.
common::Result<TlsSessionCache> parseSessionCache(std::string_view value) {
  using R = common::Result<TlsSessionCache>;
  auto words = common::splitWords(value);
  auto invalid = [](std::string_view w) {
    return R::fail(fmt::format("invalid session cache \"{}\"", w));
  };
  TlsSessionCache cache;
  if (words.size() == 1 && (words[0] == "off" || words[0] == "none")) {
    cache.mode = words[0] == "off" ? TlsSessionCache::Mode::off : TlsSessionCache::Mode::none;
    return cache;
  }
  if (words.empty()) return invalid(value);
  cache.mode = TlsSessionCache::Mode::on;
  for (const std::string& w : words) {
    std::string_view v = w;
    if (v == "builtin") continue;
    if (v.starts_with("builtin:")) {
      auto n = common::parseUnsigned(v.substr(8), 1u << 30);
      if (!n || *n == 0) return invalid(w);
      cache.builtin_size = *n;
      continue;
    }
    if (!v.starts_with("shared:")) return invalid(w);
    auto shared = parseShared(v.substr(7), cache);
    if (!shared) return invalid(w);
    cache = *shared;
  }
  return cache;
}

void addTlsKeys(common::SectionWalker& w, const ConfigContext& ctx, TlsServerSettings& tls,
                ProxySslSettings& proxy) {
  TlsKeys keys{w, ctx};
  addServerKeys(keys, tls);
  addProxyKeys(keys, proxy);
}

int firstSslListenLine(const std::vector<ListenDirective>& listens) {
  for (const ListenDirective& l : listens) {
    if (l.ssl) return l.line;
  }
  return 0;
}

void checkTlsSettings(const ConfigContext& ctx, const TlsServerSettings& tls,
                      const ProxySslSettings& proxy, int section_line, int ssl_listen_line) {
  if (tls.certificates.size() != tls.certificate_keys.size()) {
    if (tls.certificates.size() > tls.certificate_keys.size()) {
      ctx.error(tls.certificate_line,
                fmt::format("no \"ssl_certificate_key\" is defined for certificate \"{}\"",
                            tls.certificates[tls.certificate_keys.size()]));
    } else {
      ctx.error(section_line, "\"ssl_certificate_key\" without a \"ssl_certificate\"");
    }
  }
  if (ssl_listen_line != 0 && tls.certificates.empty() && !tls.reject_handshake) {
    ctx.error(section_line,
              fmt::format("no \"ssl_certificate\" is defined for the listen ... ssl directive in "
                          "{}:{}",
                          ctx.path, ssl_listen_line));
  }
  if (ssl_listen_line != 0 && tls.client_certificate.empty() &&
      (tls.verify_client == VerifyClient::on || tls.verify_client == VerifyClient::optional)) {
    ctx.error(section_line, "no ssl_client_certificate for ssl_verify_client");
  }
  if (proxy.certificate.empty() != proxy.certificate_key.empty()) {
    ctx.error(proxy.line != 0 ? proxy.line : section_line,
              fmt::format("no \"proxy_ssl_certificate_key\" is defined for certificate \"{}\"",
                          proxy.certificate));
  }
}

}  // namespace proxyd
