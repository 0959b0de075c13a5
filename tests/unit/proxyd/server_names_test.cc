#include "proxyd/core/server_names.h"

#include <catch2/catch.hpp>

#include "common/host.h"
#include "proxyd/core/config.h"
#include "proxyd/core/virtual_servers.h"
#include "tests/unit/support/diagnostics.h"

using proxyd::parseServerName;
using proxyd::ServerNames;
using proxyd::validateHost;

namespace {

// One address's names: server i gets names[i] (each a list of words).
ServerNames build(const std::vector<std::vector<std::string>>& servers) {
  ServerNames names;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    for (const auto& w : servers[i]) {
      auto n = parseServerName(w);
      REQUIRE(n);
      names.add(*n, i);
    }
  }
  return names;
}

std::optional<std::size_t> lookup(const ServerNames& names, std::string_view sni) {
  auto host = validateHost(sni);
  if (!host) return std::nullopt;
  return names.find(*host);
}

}  // namespace

TEST_CASE("server_name: nginx's order of precedence", "[server_names]") {
  // 0: exact, 1: leading wildcards, 2: trailing wildcard, 3: regexes.
  auto names = build({{"api.example.com"},
                      {"*.example.com", ".b.example.com"},
                      {"www.example.*"},
                      {"~^www\\d+\\.example\\.net$", "~^(.+)\\.example\\.(com|org)$"}});
  CHECK(lookup(names, "api.example.com") == 0u);
  CHECK(lookup(names, "API.Example.COM.") == 0u);  // lower-cased, trailing dot dropped
  CHECK(lookup(names, "x.example.com") == 1u);
  CHECK(lookup(names, "www.example.com") == 1u);  // a leading wildcard before a trailing one
  CHECK(lookup(names, "b.example.com") == 1u);    // ".b.example.com" takes b.example.com itself
  CHECK(lookup(names, "example.com") == std::nullopt);  // "*.example.com" does not
  CHECK(lookup(names, "www.example.org") == 2u);        // a trailing one before a regex
  CHECK(lookup(names, "www.example") == std::nullopt);
  CHECK(lookup(names, "www7.example.net") == 3u);
  CHECK(lookup(names, "a.example.org") == 3u);
  CHECK(lookup(names, "other.test") == std::nullopt);
}

TEST_CASE("server_name: the longest wildcard wins", "[server_names]") {
  auto names = build({{"*.example.com"}, {"*.b.example.com"}, {"www.*"}, {"www.example.*"}});
  CHECK(lookup(names, "a.example.com") == 0u);
  CHECK(lookup(names, "a.b.example.com") == 1u);
  CHECK(lookup(names, "x.a.b.example.com") == 1u);
  CHECK(lookup(names, "www.test.org") == 2u);
  CHECK(lookup(names, "www.example.org") == 3u);
}

TEST_CASE("server_name: regexes in order, case-insensitive with an upper-case letter",
          "[server_names]") {
  auto names = build({{"~^a"}, {"~b"}, {"~^C"}});
  CHECK(lookup(names, "ab.test") == 0u);
  CHECK(lookup(names, "xb.test") == 1u);
  CHECK(lookup(names, "c.test") == 2u);  // "^C" is caseless; the host is lower case
}

TEST_CASE("server_name: the SNI nginx does not look up", "[server_names]") {
  CHECK(validateHost("") == std::nullopt);
  CHECK(validateHost("a..b") == std::nullopt);
  CHECK(validateHost("a/b") == std::nullopt);
  CHECK(validateHost("a b") == std::nullopt);
  CHECK(validateHost(std::string_view("a\x01", 2)) == std::nullopt);
  CHECK(validateHost(".") == std::nullopt);
  CHECK(validateHost("Host.Example:443") == "host.example");
  CHECK(validateHost("[::1]:443") == "[::1]");
}

TEST_CASE("server_name: the first server keeps a name, as nginx's hash", "[server_names]") {
  ServerNames names;
  auto add = [&](const char* w, std::size_t i) { return names.add(*parseServerName(w), i); };
  CHECK(add("example.com", 0));
  CHECK_FALSE(add("example.com", 1));
  CHECK_FALSE(add(".example.com", 1));  // collides with the exact name
  CHECK(add("*.example.com", 1));
  CHECK_FALSE(add("*.example.com", 2));
  CHECK(add("www.example.*", 2));
  CHECK_FALSE(add("www.example.*", 3));
  CHECK(lookup(names, "example.com") == 0u);
  CHECK(lookup(names, "a.example.com") == 1u);
}

TEST_CASE("server_name: nginx's checks of a name", "[server_names]") {
  CHECK(parseServerName("*").error() == "server name \"*\" is invalid");
  CHECK(parseServerName("*x").error() == "server name \"*x\" is invalid");
  CHECK(parseServerName(".").error() == "server name \".\" is invalid");
  CHECK(parseServerName("~").error() == "empty regex in server name \"~\"");
  CHECK(parseServerName("a.*.b").error() == "invalid server name or wildcard \"a.*.b\"");
  CHECK(parseServerName("a..b").error() == "invalid server name or wildcard \"a..b\"");
  CHECK_THAT(parseServerName("~^(a").error(),
             Catch::StartsWith("pcre2_compile() failed: missing closing parenthesis"));
  CHECK(parseServerName("Example.COM")->text == "example.com");
  CHECK(parseServerName(".example.com")->text == "example.com");  // $server_name drops the dot
  CHECK(parseServerName("~^a")->text == "~^a");
}

namespace {

struct Loaded {
  proxyd::ProxyConfig cfg;
  common::Diagnostics diag;
  std::string text() const { return test_support::diagnosticText(diag); }
};

Loaded load(const std::string& servers) {
  Loaded l;
  l.cfg = proxyd::parseProxyConfig("[upstream u]\nserver = 127.0.0.1:1\n" + servers,
                                   "/etc/proxyd/proxyd.ini", "/tmp", l.diag);
  return l;
}

}  // namespace

TEST_CASE("server_name: the config rules of an address", "[server_names][config]") {
  SECTION("two default_server on one address, as nginx refuses") {
    auto l = load(
        "[server a]\nlisten = 443 default_server\nproxy_pass = u\nserver_name = a.test\n"
        "[server b]\nlisten = 0.0.0.0:443 default_server\nproxy_pass = u\nserver_name = b.test\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:7: error: a duplicate default server for "
                                         "0.0.0.0:443"));
  }
  SECTION("default_server chooses the default, else the first") {
    auto l = load(
        "[server a]\nlisten = 443\nlisten = 444\nproxy_pass = u\nserver_name = a.test\n"
        "[server b]\nlisten = 443 default_server\nlisten = 444\nproxy_pass = u\n"
        "server_name = b.test \"~^c\\x3b\"\n");
    REQUIRE_FALSE(l.diag.hasErrors());
    auto addrs = proxyd::serversByAddress(l.cfg);
    REQUIRE(addrs.size() == 2);
    CHECK(addrs[0].servers == std::vector<std::size_t>{0, 1});
    CHECK(addrs[0].default_pos == 1);
    CHECK(addrs[1].default_pos == 0);
    CHECK(l.cfg.servers[1].server_names == std::vector<std::string>{"b.test", "~^c;"});
  }
  SECTION("a name twice on an address is nginx's warning") {
    auto l = load(
        "[server a]\nlisten = 443\nproxy_pass = u\nserver_name = a.test *.b.test\n"
        "[server b]\nlisten = 443\nproxy_pass = u\nserver_name = .b.test c.test\n"
        "[server c]\nlisten = 8443\nproxy_pass = u\nserver_name = a.test\n");
    CHECK_FALSE(l.diag.hasErrors());
    CHECK(l.text() ==
          "/etc/proxyd/proxyd.ini:7: warning: conflicting server name \".b.test\" on "
          "0.0.0.0:443, ignored\n");
  }
  SECTION("bad names and listen parameters") {
    auto l = load(
        "[server a]\nlisten = 443 zzz\nproxy_pass = u\nserver_name = *x ~(\n"
        "ssl_preread = maybe\npreread_buffer_size = 0\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:4: error: listen: invalid parameter \"zzz\""));
    CHECK_THAT(l.text(),
               Catch::Contains("proxyd.ini:6: error: server_name: server name \"*x\" is invalid"));
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:6: error: server_name: pcre2_compile()"));
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:7: error: ssl_preread:"));
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:8: error: preread_buffer_size:"));
  }
  SECTION("$hostname is this host's name") {
    auto l = load("[server a]\nlisten = 443\nproxy_pass = u\nserver_name = $HOSTNAME x.test\n");
    REQUIRE_FALSE(l.diag.hasErrors());
    CHECK(l.cfg.servers[0].server_names ==
          std::vector<std::string>{common::realHost().hostName(), "x.test"});
  }
  SECTION("the preread defaults are nginx's") {
    auto l = load("[server a]\nlisten = 443\nproxy_pass = u\n");
    REQUIRE_FALSE(l.diag.hasErrors());
    CHECK_FALSE(l.cfg.servers[0].ssl_preread);
    CHECK(l.cfg.servers[0].preread_buffer_size == 16384);
    CHECK(l.cfg.servers[0].preread_timeout == std::chrono::seconds(30));
  }
}
