#include "proxyd/core/health_check.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event.h"
#include "common/value_limits.h"
#include "proxyd/core/config.h"
#include "proxyd/io/health_checker.h"
#include "tests/unit/support/diagnostics.h"

using namespace std::chrono_literals;
using proxyd::HealthCheckOptions;
using proxyd::HealthCheckType;
using proxyd::HealthState;
using proxyd::parseHealthCheck;
using Change = proxyd::HealthState::Change;

namespace {

HealthCheckOptions parsed(const std::string& text) {
  auto r = parseHealthCheck(text);
  INFO(text << ": " << (r ? "" : r.error()));
  REQUIRE(r.ok());
  return *r;
}

std::string parseError(const std::string& text) {
  auto r = parseHealthCheck(text);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("health_check: defaults are nginx Plus's (tcp every 5s, fall 1, rise 1)",
          "[health_check]") {
  HealthCheckOptions o = parsed("");
  CHECK(o.type == HealthCheckType::tcp);
  CHECK(o.interval == 5s);
  CHECK(o.timeout == 1s);
  CHECK(o.fall == 1);
  CHECK(o.rise == 1);
  CHECK(o.uri == "/");
  CHECK(o.expect_min == 200);
  CHECK(o.expect_max == 200);
  CHECK_FALSE(o.verify);
  CHECK_FALSE(o.mandatory);
  CHECK(parsed("type=http") == parsed("type=http uri=/ expect=200"));
}

TEST_CASE("health_check: every parameter", "[health_check]") {
  HealthCheckOptions o = parsed(
      "interval=2s timeout=500ms fall=3 rise=2 type=https uri=/readyz?verbose expect=2xx "
      "sni=kubernetes verify=on ca=ca.pem cert=client.pem key=client.key mandatory");
  CHECK(o.interval == 2s);
  CHECK(o.timeout == 500ms);
  CHECK(o.fall == 3);
  CHECK(o.rise == 2);
  CHECK(o.type == HealthCheckType::https);
  CHECK(o.uri == "/readyz?verbose");
  CHECK(o.expect_min == 200);
  CHECK(o.expect_max == 299);
  CHECK(o.expect_text == "2xx");
  CHECK(o.sni == "kubernetes");
  CHECK(o.verify);
  CHECK(o.ca == "ca.pem");
  CHECK(o.cert == "client.pem");
  CHECK(o.key == "client.key");
  CHECK(o.mandatory);
  // nginx Plus's names for fall and rise, and keepalived-style plain seconds.
  HealthCheckOptions p = parsed("fails=4 passes=5 interval=0.5");
  CHECK(p.fall == 4);
  CHECK(p.rise == 5);
  CHECK(p.interval == 500ms);
}

TEST_CASE("health_check: expect takes a code, a class or a range", "[health_check]") {
  auto range = [](const std::string& e) {
    HealthCheckOptions o = parsed("type=http expect=" + e);
    return std::pair{o.expect_min, o.expect_max};
  };
  CHECK(range("204") == std::pair{204, 204});
  CHECK(range("2xx") == std::pair{200, 299});
  CHECK(range("3XX") == std::pair{300, 399});
  CHECK(range("200-399") == std::pair{200, 399});
  HealthCheckOptions o = parsed("type=http expect=2xx");
  CHECK(proxyd::expectedStatus(o, 200));
  CHECK(proxyd::expectedStatus(o, 299));
  CHECK_FALSE(proxyd::expectedStatus(o, 300));
  CHECK_FALSE(proxyd::expectedStatus(o, 199));
  for (const char* bad : {"20", "2000", "6xx", "0xx", "x00", "abc", "399-200", "099", "200-"}) {
    CHECK_THAT(parseError(std::string("type=http expect=") + bad),
               Catch::Contains("invalid expect"));
  }
}

TEST_CASE("health_check: bad parameters say what was expected", "[health_check]") {
  CHECK(parseError("interval=0") ==
        "invalid interval \"0\" (expected a duration from 1ms to 24d20h31m23s647ms)");
  CHECK_THAT(parseError("interval=fast"), Catch::StartsWith("invalid interval \"fast\": "));
  CHECK_THAT(parseError("timeout=-1s"), Catch::StartsWith("invalid timeout \"-1s\""));
  CHECK(parseError("fall=0") == "invalid fall \"0\" (expected a whole number from 1 to 1000)");
  CHECK(parseError("rise=1001") ==
        "invalid rise \"1001\" (expected a whole number from 1 to 1000)");
  CHECK(parseError("type=udp") == "invalid type \"udp\" (expected tcp, http or https)");
  CHECK_THAT(parseError("type=http uri=readyz"), Catch::StartsWith("invalid uri \"readyz\""));
  CHECK_THAT(parseError("verify=maybe type=https"), Catch::StartsWith("invalid verify"));
  CHECK_THAT(parseError("intervall=2s"), Catch::StartsWith("invalid parameter \"intervall=2s\""));
  CHECK_THAT(parseError("fall"), Catch::StartsWith("invalid parameter \"fall\""));
  CHECK_THAT(parseError("fall="), Catch::StartsWith("invalid parameter \"fall=\""));
  CHECK(parseError("fall=2 fall=3") == "\"fall\" is given twice");
  CHECK(parseError("mandatory=on") == "\"mandatory\" takes no value");
}

TEST_CASE("health_check: parameters of another type are errors, not ignored", "[health_check]") {
  CHECK(parseError("uri=/readyz") == "\"uri\" needs type=http or type=https");
  CHECK(parseError("type=tcp expect=200") == "\"expect\" needs type=http or type=https");
  CHECK(parseError("type=http sni=api") == "\"sni\" needs type=https");
  CHECK(parseError("type=http verify=on") == "\"verify\" needs type=https");
  CHECK(parseError("type=http cert=a key=b") == "\"cert\" needs type=https");
  CHECK(parseError("type=https ca=ca.pem") ==
        "\"ca\" needs verify=on (without it the CAs are unused)");
  CHECK(parseError("type=https cert=client.pem") ==
        "a client certificate needs both \"cert\" and \"key\"");
  CHECK(parseError("type=https key=client.key") ==
        "a client certificate needs both \"cert\" and \"key\"");
}

TEST_CASE("health_check in [upstream]: FILE:LINE errors, paths resolved, missing files warned",
          "[health_check][config]") {
  auto load = [](const std::string& hc, std::string& messages) {
    common::Diagnostics diag;
    std::string text = "[upstream api]\nserver = 192.0.2.11:6443\nhealth_check = " + hc +
                       "\n\n[server k8s]\nlisten = 127.0.0.1:10443\nproxy_pass = api\n";
    auto cfg = proxyd::parseProxyConfig(text, "/etc/proxyd/proxyd.ini", "/nonexistent", diag);
    messages = test_support::diagnosticText(diag);
    return std::pair{cfg, diag.hasErrors()};
  };
  std::string msg;
  auto [cfg, errors] = load("interval=2s fall=3 rise=2 type=http uri=/readyz", msg);
  CHECK_FALSE(errors);
  CHECK(msg.empty());
  REQUIRE(cfg.findUpstream("api")->health_check.has_value());
  CHECK(cfg.findUpstream("api")->health_check->fall == 3);

  auto [bad, bad_errors] = load("interval=2s fall=zero", msg);
  CHECK(bad_errors);
  CHECK(msg ==
        "/etc/proxyd/proxyd.ini:3: error: health_check: invalid fall \"zero\" (expected a "
        "whole number from 1 to 1000)\n");

  // Files that are not here: warnings (the config may be checked on another
  // host), with the path resolved against the prefix.
  auto [tls, tls_errors] =
      load("type=https verify=on ca=pki/ca.pem cert=/nonexistent/c.pem key=k.pem", msg);
  CHECK_FALSE(tls_errors);
  CHECK_THAT(msg, Catch::Contains("/etc/proxyd/proxyd.ini:3: warning: health_check: cannot read "
                                  "\"/nonexistent/pki/ca.pem\""));
  CHECK_THAT(msg, Catch::Contains("cannot read \"/nonexistent/c.pem\""));
  CHECK_THAT(msg, Catch::Contains("cannot read \"/nonexistent/k.pem\""));
  const auto& hc = *tls.findUpstream("api")->health_check;
  CHECK(hc.ca == "/nonexistent/pki/ca.pem");
  CHECK(hc.key == "/nonexistent/k.pem");

  auto [dup, dup_errors] = load("type=tcp\nhealth_check = type=http", msg);
  CHECK(dup_errors);
  CHECK_THAT(msg, Catch::Contains("proxyd.ini:4: error: \"health_check\" is duplicate"));
}

TEST_CASE("HealthState: fall consecutive failures out, rise consecutive passes back",
          "[health_check]") {
  HealthState s(3, 2);
  CHECK(s.healthy());
  CHECK(s.record(false) == Change::none);
  CHECK(s.record(false) == Change::none);
  CHECK(s.record(true) == Change::none);  // the streak is broken
  CHECK(s.record(false) == Change::none);
  CHECK(s.record(false) == Change::none);
  CHECK(s.record(false) == Change::became_unhealthy);
  CHECK(s.failures() == 3);
  CHECK_FALSE(s.healthy());
  CHECK(s.record(false) == Change::none);  // already out: no second transition
  CHECK(s.record(true) == Change::none);
  CHECK(s.record(false) == Change::none);  // the rise streak is broken
  CHECK(s.record(true) == Change::none);
  CHECK(s.record(true) == Change::became_healthy);
  CHECK(s.successes() == 2);
  CHECK(s.healthy());
  CHECK(s.record(true) == Change::none);

  HealthState once(1, 1);
  CHECK(once.record(false) == Change::became_unhealthy);
  CHECK(once.record(true) == Change::became_healthy);
}

TEST_CASE("HealthState: mandatory starts unhealthy, its first check decides", "[health_check]") {
  HealthState pass(3, 5, true);
  CHECK_FALSE(pass.healthy());
  CHECK(pass.record(true) == Change::became_healthy);  // rise=5 not needed the first time

  HealthState fail(3, 2, true);
  CHECK(fail.record(false) == Change::none);  // it was never healthy
  CHECK(fail.record(true) == Change::none);   // now an ordinary unhealthy peer: rise=2
  CHECK(fail.record(true) == Change::became_healthy);
}

TEST_CASE("checks are spread over the interval and keep a steady cadence", "[health_check]") {
  CHECK(proxyd::firstCheckDelay(0, 3, 3s) == 0s);
  CHECK(proxyd::firstCheckDelay(1, 3, 3s) == 1s);
  CHECK(proxyd::firstCheckDelay(2, 3, 3s) == 2s);
  CHECK(proxyd::firstCheckDelay(0, 0, 3s) == 0s);
  // The longest interval (proxyd/value_limits.cc) over many peers: no wrap.
  const std::chrono::milliseconds longest{common::kMaxTimerMs};
  auto last = proxyd::firstCheckDelay(9999, 10000, longest);
  CHECK(last > longest * 99 / 100);
  CHECK(last < longest);

  // A fake clock drives a peer's checks: each starts one interval after the
  // last one started, whatever the check took, and at once if it took
  // longer than the interval (never two checks of one peer at a time).
  common::FakeClock clock;
  std::vector<common::Duration> waits;
  for (auto took : {100ms, 900ms, 2500ms, 0ms}) {
    common::TimePoint started = clock.now();
    clock.advance(took);
    common::Duration wait = proxyd::nextCheckDelay(started, clock.now(), 2s);
    waits.push_back(wait);
    clock.advance(wait);
  }
  CHECK(waits == std::vector<common::Duration>{1900ms, 1100ms, 0ms, 2s});
}

TEST_CASE("HTTP status lines", "[health_check]") {
  CHECK(*proxyd::parseStatusLine("HTTP/1.1 200 OK") == 200);
  CHECK(*proxyd::parseStatusLine("HTTP/1.0 500 Internal Server Error\r") == 500);
  CHECK(*proxyd::parseStatusLine("HTTP/1.1 204") == 204);  // empty reason phrase
  CHECK(*proxyd::parseStatusLine("HTTP/1.1 503 ") == 503);
  for (const char* bad :
       {"", "HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "SSH-2.0-OpenSSH_9.2",
        "HTTP/1.1 abc OK", "HTTP/1.1  200 OK", "HTTP/1.1 099 X"}) {
    INFO(bad);
    CHECK_FALSE(proxyd::parseStatusLine(bad).ok());
  }
  CHECK(proxyd::parseStatusLine("SSH-2.0-OpenSSH_9.2").error() ==
        "not an HTTP/1.x status line: \"SSH-2.0-OpenSSH_9.2\"");
}

TEST_CASE("HealthChecker: unreadable TLS files fail at start, with the file named",
          "[health_check]") {
  common::EventBasePtr base(event_base_new());
  common::Log log(common::LogLevel::emerg);
  auto addr = common::SocketAddress::fromNumeric("192.0.2.11", 6443);
  REQUIRE(addr.ok());
  proxyd::UpstreamServer server;
  server.name = "192.0.2.11:6443";
  server.addrs.push_back(*addr);
  auto group = std::make_shared<proxyd::UpstreamGroup>("k8s", proxyd::BalanceMethod::round_robin,
                                                       std::vector<proxyd::UpstreamServer>{server});

  auto bad_ca = proxyd::HealthChecker::create(
      base.get(), group, parsed("type=https verify=on ca=/nonexistent/ca.pem"), log);
  REQUIRE_FALSE(bad_ca.ok());
  CHECK_THAT(bad_ca.error(), Catch::StartsWith("health_check of upstream \"k8s\": cannot load "
                                               "the CA file \"/nonexistent/ca.pem\""));
  auto bad_cert = proxyd::HealthChecker::create(
      base.get(), group, parsed("type=https cert=/nonexistent/c.pem key=/nonexistent/k.pem"), log);
  REQUIRE_FALSE(bad_cert.ok());
  CHECK_THAT(bad_cert.error(),
             Catch::Contains("cannot load the certificate \"/nonexistent/c.pem\""));

  auto plain = proxyd::HealthChecker::create(base.get(), group, parsed("type=https"), log);
  REQUIRE(plain.ok());
  CHECK((*plain)->reloadTls().ok());
  auto tcp = proxyd::HealthChecker::create(base.get(), group, parsed("type=tcp"), log);
  REQUIRE(tcp.ok());
  CHECK((*tcp)->reloadTls().ok());
}
