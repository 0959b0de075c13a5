// proxyd.ini's socket keys: tcp_nodelay, proxy_socket_keepalive,
// proxy_bind, and UNIX addresses in listen, proxy_pass and [upstream].
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "proxyd/core/config.h"
#include "tests/unit/support/diagnostics.h"

namespace {

struct Loaded {
  proxyd::ProxyConfig cfg;
  common::Diagnostics diag;
  std::string text() const { return test_support::diagnosticText(diag); }
};

Loaded load(const std::string& server_keys, const std::string& more = "") {
  Loaded l;
  l.cfg = proxyd::parseProxyConfig(
      more + "[server s]\nlisten = 127.0.0.1:1\nproxy_pass = 127.0.0.1:6443\n" + server_keys,
      "/etc/proxyd/proxyd.ini", "/tmp", l.diag);
  return l;
}

}  // namespace

TEST_CASE("socket keys take nginx's defaults", "[config_sockets]") {
  auto l = load("");
  REQUIRE_FALSE(l.diag.hasErrors());
  const auto& sv = l.cfg.servers.front();
  CHECK(sv.tcp_nodelay);
  CHECK_FALSE(sv.proxy_socket_keepalive);
  CHECK_FALSE(sv.proxy_bind);
}

TEST_CASE("tcp_nodelay, proxy_socket_keepalive and proxy_bind load", "[config_sockets]") {
  auto l =
      load("tcp_nodelay = off\nproxy_socket_keepalive = on\nproxy_bind = 127.0.0.2 transparent\n");
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  const auto& sv = l.cfg.servers.front();
  CHECK_FALSE(sv.tcp_nodelay);
  CHECK(sv.proxy_socket_keepalive);
  REQUIRE(sv.proxy_bind);
  CHECK(sv.proxy_bind->address->toString() == "127.0.0.2:0");
  CHECK(sv.proxy_bind->transparent);
  CHECK_FALSE(load("proxy_bind = off\n").cfg.servers.front().proxy_bind);
  CHECK(load("proxy_bind = $remote_addr\n").cfg.servers.front().proxy_bind->hasVariables());
}

TEST_CASE("socket keys: errors with FILE:LINE and nginx's words", "[config_sockets]") {
  CHECK(load("proxy_bind = 127.0.0.1 opaque\n").text() ==
        "/etc/proxyd/proxyd.ini:4: error: proxy_bind: invalid parameter \"opaque\"\n");
  CHECK(load("proxy_bind = example.com\n").text() ==
        "/etc/proxyd/proxyd.ini:4: error: proxy_bind: invalid address \"example.com\"\n");
  CHECK(load("proxy_bind = $nosuch\n").text().find("unknown variable") != std::string::npos);
  CHECK(load("tcp_nodelay = maybe\n").diag.hasErrors());
  CHECK(load("proxy_socket_keepalive = sometimes\n").diag.hasErrors());
}

TEST_CASE("UNIX sockets as proxy_pass and [upstream] servers", "[config_sockets]") {
  Loaded l;
  l.cfg = proxyd::parseProxyConfig(
      "[upstream b]\nserver = unix:/run/b.sock\n"
      "[server s]\nlisten = 127.0.0.1:1\nproxy_pass = b\n"
      "[server t]\nlisten = 127.0.0.1:2\nproxy_pass = unix:/run/t.sock\n",
      "/etc/proxyd/proxyd.ini", "/tmp", l.diag);
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.findUpstream("b")->servers.front().addrs.front().family() == AF_UNIX);
  const auto* t = l.cfg.findUpstream("unix:/run/t.sock");
  REQUIRE(t != nullptr);
  CHECK(t->servers.front().addrs.front().toString() == "unix:/run/t.sock");
}
