#include "proxyd/core/tls_settings.h"

#include <catch2/catch.hpp>

#include "proxyd/core/config.h"
#include "tests/unit/support/diagnostics.h"

using proxyd::TlsSessionCache;

namespace {

struct Loaded {
  proxyd::ProxyConfig cfg;
  common::Diagnostics diag;
  std::string text() const { return test_support::diagnosticText(diag); }
};

Loaded load(const std::string& server) {
  Loaded l;
  l.cfg = proxyd::parseProxyConfig("[server a]\nproxy_pass = 127.0.0.1:1\n" + server,
                                   "/etc/proxyd/proxyd.ini", "/etc/proxyd", l.diag);
  return l;
}

}  // namespace

TEST_CASE("tls settings: protocols and session cache as nginx reads them", "[tls]") {
  CHECK(*proxyd::parseTlsProtocols("TLSv1.2 TLSv1.3") == (proxyd::kTlsv1_2 | proxyd::kTlsv1_3));
  CHECK(*proxyd::parseTlsProtocols("TLSv1") == proxyd::kTlsv1);
  CHECK(proxyd::parseTlsProtocols("TLSv1.4").error() == "invalid value \"TLSv1.4\"");
  CHECK_FALSE(proxyd::parseTlsProtocols(""));

  CHECK(proxyd::parseSessionCache("off")->mode == TlsSessionCache::Mode::off);
  CHECK(proxyd::parseSessionCache("none")->mode == TlsSessionCache::Mode::none);
  auto both = proxyd::parseSessionCache("builtin:1000 shared:SSL:10m");
  REQUIRE(both);
  CHECK(both->mode == TlsSessionCache::Mode::on);
  CHECK(both->builtin_size == 1000);
  CHECK(both->shared_name == "SSL");
  CHECK(both->shared_size == 10u << 20);
  // nginx: "off"/"none" stand alone, a shared zone needs a size of 8 pages.
  CHECK(proxyd::parseSessionCache("off builtin").error() == "invalid session cache \"off\"");
  CHECK_FALSE(proxyd::parseSessionCache("shared:SSL:1k"));
  CHECK_FALSE(proxyd::parseSessionCache("shared:SSL"));
  CHECK_FALSE(proxyd::parseSessionCache("builtin:0"));
}

TEST_CASE("tls settings: the [server] keys", "[tls][config]") {
  auto l = load(
      "listen = 443 ssl\n"
      "ssl_certificate = rsa.pem\nssl_certificate_key = rsa.key\n"
      "ssl_certificate = /c/$ssl_server_name.pem\nssl_certificate_key = /c/$ssl_server_name.key\n"
      "ssl_protocols = TLSv1.3\nssl_ciphers = HIGH\nssl_prefer_server_ciphers = on\n"
      "ssl_session_cache = shared:SSL:1m\nssl_session_timeout = 10m\n"
      "ssl_session_tickets = off\nssl_handshake_timeout = 5s\n"
      "ssl_verify_client = optional_no_ca\nssl_verify_depth = 3\n"
      "ssl_alpn = h2 http/1.1\nssl_conf_command = Options PrioritizeChaCha\n"
      "proxy_ssl_verify = on\nproxy_ssl_trusted_certificate = ca.pem\n"
      "proxy_ssl_protocols = TLSv1.2\nproxy_ssl_name = backend.test\n");
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  const auto& s = l.cfg.servers[0];
  CHECK(s.listen.at(0).ssl);
  CHECK(s.ssl.certificates ==
        std::vector<std::string>{"/etc/proxyd/rsa.pem", "/c/$ssl_server_name.pem"});
  CHECK(s.ssl.certificate_keys.back() == "/c/$ssl_server_name.key");
  CHECK(s.ssl.protocols == proxyd::kTlsv1_3);
  CHECK(s.ssl.prefer_server_ciphers);
  CHECK(s.ssl.session_cache.shared_size == 1u << 20);
  CHECK(s.ssl.session_timeout == std::chrono::minutes(10));
  CHECK_FALSE(s.ssl.session_tickets);
  CHECK(s.ssl.handshake_timeout == std::chrono::seconds(5));
  CHECK(s.ssl.verify_client == proxyd::VerifyClient::optional_no_ca);
  CHECK(s.ssl.verify_depth == 3);
  CHECK(s.ssl.alpn == std::vector<std::string>{"h2", "http/1.1"});
  REQUIRE(s.ssl.conf_commands.size() == 1);
  CHECK(s.ssl.conf_commands[0].value == "PrioritizeChaCha");
  CHECK_FALSE(s.proxy_ssl.enabled);
  CHECK(s.proxy_ssl.verify);
  CHECK(s.proxy_ssl.trusted_certificate == "/etc/proxyd/ca.pem");
  CHECK(s.proxy_ssl.protocols == proxyd::kTlsv1_2);
  CHECK(s.proxy_ssl.name == "backend.test");
}

TEST_CASE("tls settings: nginx's load errors", "[tls][config]") {
  SECTION("listen ... ssl without a certificate") {
    auto l = load("listen = 443 ssl\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:1: error: no \"ssl_certificate\" is defined "
                                         "for the listen ... ssl directive in "
                                         "/etc/proxyd/proxyd.ini:3"));
  }
  SECTION("proxy_ssl on is refused until the session speaks TLS upstream") {
    auto l = load("listen = 443\nproxy_ssl = on\n");
    CHECK_THAT(l.text(), Catch::Contains("error: proxy_ssl: TLS to the upstream is not supported "
                                         "yet"));
    CHECK_FALSE(load("listen = 443\nproxy_ssl = off\n").diag.hasErrors());
  }
  SECTION("ssl_reject_handshake needs none") {
    auto l = load("listen = 443 ssl\nssl_reject_handshake = on\n");
    CHECK_FALSE(l.diag.hasErrors());
  }
  SECTION("a certificate without its key") {
    auto l = load("listen = 443\nssl_certificate = a.pem\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:4: error: no \"ssl_certificate_key\" is "
                                         "defined for certificate \"/etc/proxyd/a.pem\""));
  }
  SECTION("ssl_verify_client on without a CA") {
    auto l = load(
        "listen = 443 ssl\nssl_certificate = a.pem\nssl_certificate_key = a.key\n"
        "ssl_verify_client = on\n");
    CHECK_THAT(l.text(), Catch::Contains("error: no ssl_client_certificate for ssl_verify_client"));
  }
  SECTION("values out of range or malformed") {
    auto l = load(
        "listen = 443\nssl_protocols = TLSv9\nssl_verify_depth = 1000\n"
        "ssl_session_cache = shared:x\nssl_verify_client = maybe\nssl_conf_command = One\n"
        "ssl_handshake_timeout = soon\nproxy_ssl = maybe\n");
    for (int line = 4; line <= 10; ++line) {
      CHECK_THAT(l.text(), Catch::Contains(fmt::format("proxyd.ini:{}: error:", line)));
    }
  }
}
