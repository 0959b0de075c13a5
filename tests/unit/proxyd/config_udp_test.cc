// proxyd.ini's UDP keys: `listen ... udp`, proxy_responses, proxy_requests.
#include <catch2/catch.hpp>

#include "proxyd/core/config.h"
#include "tests/unit/support/diagnostics.h"

namespace {

proxyd::ProxyConfig load(const std::string& server_keys, common::Diagnostics& diag) {
  return proxyd::parseProxyConfig(
      "[server dns]\nlisten = 127.0.0.1:5353 udp\nproxy_pass = 192.0.2.53:53\n" + server_keys,
      "/etc/proxyd/proxyd.ini", "/tmp", diag);
}

}  // namespace

TEST_CASE("config udp: proxy_responses and proxy_requests default to no limit") {
  common::Diagnostics diag;
  auto cfg = load("", diag);
  INFO(test_support::diagnosticText(diag));
  REQUIRE_FALSE(diag.hasErrors());
  CHECK_FALSE(cfg.servers[0].proxy_responses.has_value());
  CHECK(cfg.servers[0].proxy_requests == 0);
  REQUIRE(cfg.servers[0].listen.size() == 1);
  CHECK(cfg.servers[0].listen[0].udp);
}

TEST_CASE("config udp: TCP and UDP listeners on one port are two sockets") {
  common::Diagnostics diag;
  auto cfg = load("listen = 127.0.0.1:5353\n", diag);
  INFO(test_support::diagnosticText(diag));
  REQUIRE_FALSE(diag.hasErrors());
  REQUIRE(cfg.servers[0].listen.size() == 2);
  CHECK_FALSE(cfg.servers[0].listen[0].sameSocket(cfg.servers[0].listen[1]));
}

TEST_CASE("config udp: proxy_responses 0 is a value, not the default") {
  common::Diagnostics diag;
  auto cfg = load("proxy_responses = 0\nproxy_requests = 3\n", diag);
  INFO(test_support::diagnosticText(diag));
  REQUIRE_FALSE(diag.hasErrors());
  REQUIRE(cfg.servers[0].proxy_responses.has_value());
  CHECK(*cfg.servers[0].proxy_responses == 0);
  CHECK(cfg.servers[0].proxy_requests == 3);
}

TEST_CASE("config udp: values out of nginx's range are refused at load") {
  for (const char* bad :
       {"proxy_responses = -1\n", "proxy_requests = 2147483648\n", "proxy_responses = many\n"}) {
    common::Diagnostics diag;
    load(bad, diag);
    INFO(bad);
    CHECK(diag.hasErrors());
    CHECK(test_support::diagnosticText(diag).find("/etc/proxyd/proxyd.ini:4: error: proxy_") !=
          std::string::npos);
  }
}
