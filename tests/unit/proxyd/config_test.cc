#include "proxyd/core/config.h"
#include "tests/unit/support/diagnostics.h"

#include <catch2/catch.hpp>

#include <sstream>

using proxyd::BalanceMethod;
using proxyd::parseProxyConfig;

namespace {

struct Loaded {
  proxyd::ProxyConfig cfg;
  common::Diagnostics diag;
  std::string text() const { return test_support::diagnosticText(diag); }
};

Loaded load(const std::string& text) {
  Loaded l;
  l.cfg = parseProxyConfig(text, "/etc/proxyd/proxyd.ini", "/tmp", l.diag);
  return l;
}

const char* kSeed = R"([main]
worker_processes = 1

[status]
listen = 10088
allow = 127.0.0.0/8
deny = all

[log_format proxy]
format = [$time_local] $protocol status:$status, bytes client:$bytes_sent/$bytes_received $session_time,
    client: $remote_addr, upstream:"$upstream_addr",
    bytes upstream:$upstream_bytes_sent $upstream_bytes_received $upstream_connect_time

[upstream k8sapiserver]
hash = $remote_addr consistent
server = 192.0.2.11:6443 max_fails=3 fail_timeout=30s
server = 192.0.2.12:6443 max_fails=3 fail_timeout=30s
server = 192.0.2.13:6443 max_fails=3 fail_timeout=30s

[server k8s]
listen = 10443
proxy_pass = k8sapiserver
proxy_connect_timeout = 1s
access_log = 10443_access.log proxy
error_log = 10443_error.log
)";

}  // namespace

TEST_CASE("the seed's stream.conf in INI form loads with nginx's defaults") {
  auto l = load(kSeed);
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  REQUIRE(l.cfg.servers.size() == 1);
  const auto& s = l.cfg.servers[0];
  CHECK(s.listen.at(0).toString() == "0.0.0.0:10443");
  CHECK(s.connect_timeout == std::chrono::seconds(1));
  CHECK(s.timeout == std::chrono::minutes(10));  // nginx proxy_timeout default
  CHECK(s.buffer_size == 16384);
  CHECK_FALSE(s.half_close);
  CHECK(s.next_upstream);
  CHECK(s.access_logs.at(0).path == "/tmp/10443_access.log");  // relative to the prefix
  CHECK(s.error_log.front().path == "/tmp/10443_error.log");
  CHECK(s.error_log.front().level == common::LogLevel::error);
  const auto* up = l.cfg.findUpstream("k8sapiserver");
  REQUIRE(up != nullptr);
  CHECK(up->method == BalanceMethod::consistent_hash);
  CHECK(up->hash_key == "$remote_addr");
  REQUIRE(up->servers.size() == 3);
  CHECK(up->servers[1].name == "192.0.2.12:6443");
  CHECK(up->servers[1].max_fails == 3);
  CHECK(up->servers[1].fail_timeout == std::chrono::seconds(30));
  // Continuation lines are joined with one space: the seed's pieces join
  // into nginx's single line.
  CHECK(l.cfg.log_format_text.at("proxy") ==
        "[$time_local] $protocol status:$status, bytes client:$bytes_sent/$bytes_received "
        "$session_time, client: $remote_addr, upstream:\"$upstream_addr\", bytes "
        "upstream:$upstream_bytes_sent $upstream_bytes_received $upstream_connect_time");
  REQUIRE(l.cfg.status);
  CHECK(l.cfg.status->listen.port() == 10088);
  CHECK(l.cfg.status->rules.size() == 2);
}

TEST_CASE("config errors carry FILE:LINE") {
  SECTION("unknown key") {
    auto l = load("[server a]\nlisten = 1\nproxy_pas = x\n");
    CHECK_THAT(l.text(), Catch::Contains("/etc/proxyd/proxyd.ini:3: error: unknown key "
                                         "\"proxy_pas\" in [server a]"));
  }
  SECTION("unknown section") {
    auto l = load("[main]\n\n[upstrem k8s]\nserver = 127.0.0.1:1\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:3: error: unknown section [upstrem k8s]"));
  }
  SECTION("bad duration") {
    auto l = load(
        "[upstream u]\nserver = 127.0.0.1:1\n[server a]\nlisten = 1\nproxy_pass = u\n"
        "proxy_timeout = 10x\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:6: error: proxy_timeout: invalid duration"));
  }
  SECTION("proxy_pass to a missing upstream names the line of proxy_pass") {
    auto l = load("[server a]\nlisten = 1\nproxy_pass = nowhere\n");
    CHECK_THAT(l.text(), Catch::Contains(
                             "proxyd.ini:3: error: proxy_pass: no [upstream nowhere] is defined"));
  }
  SECTION("missing required keys name the section's line") {
    auto l = load("\n[server a]\nproxy_timeout = 1s\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:2: error: [server a] needs \"listen\""));
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:2: error: [server a] needs \"proxy_pass\""));
  }
  SECTION("a bad server parameter") {
    auto l = load("[upstream u]\nserver = 127.0.0.1:1 wieght=2\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:2: error: server: "));
    CHECK_THAT(l.text(), Catch::Contains("wieght=2"));
  }
  SECTION("an unknown log variable") {
    auto l = load("[log_format x]\nformat = $remote_addr $nope\n");
    CHECK_THAT(l.text(),
               Catch::Contains("proxyd.ini:2: error: format: unknown variable \"$nope\""));
  }
  SECTION("access_log naming an undefined format") {
    auto l = load(
        "[upstream u]\nserver = 127.0.0.1:1\n[server a]\nlisten = 1\nproxy_pass = u\n"
        "access_log = /tmp/a.log missing\n");
    CHECK_THAT(l.text(),
               Catch::Contains("proxyd.ini:6: error: access_log: unknown log format \"missing\""));
  }
  SECTION("duplicate single-valued key") {
    auto l = load(
        "[upstream u]\nserver = 127.0.0.1:1\n[server a]\nlisten = 1\nproxy_pass = u\n"
        "proxy_timeout = 1s\nproxy_timeout = 2s\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:7: error: \"proxy_timeout\" is duplicate"));
  }
  SECTION("the same listen address twice in one [server]") {
    auto l = load(
        "[upstream u]\nserver = 127.0.0.1:1\n[server a]\nlisten = 10443\nproxy_pass = u\n"
        "listen = 0.0.0.0:10443\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:6: error: listen: duplicate 0.0.0.0:10443 "
                                         "(also on line 4)"));
  }
  SECTION("two [server]s on one address with the same server_name, as nginx 1.25.5") {
    auto l = load(
        "[upstream u]\nserver = 127.0.0.1:1\n[server a]\nlisten = 10443\nproxy_pass = u\n"
        "[server b]\nlisten = 0.0.0.0:10443\nproxy_pass = u\n");
    CHECK_FALSE(l.diag.hasErrors());
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:6: warning: conflicting server name \"\" on "
                                         "0.0.0.0:10443, ignored"));
  }
  SECTION("backup with hash, as nginx refuses") {
    auto l = load(
        "[upstream u]\nhash = $remote_addr\nserver = 127.0.0.1:1\n"
        "server = 127.0.0.1:2 backup\n");
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:4: error: server: \"backup\""));
  }
  SECTION("an invalid balance") {
    auto l = load("[upstream u]\nbalance = fastest\nserver = 127.0.0.1:1\n");
    CHECK_THAT(l.text(),
               Catch::Contains("proxyd.ini:2: error: balance: invalid value \"fastest\""));
  }
  SECTION("several errors are all reported") {
    auto l = load("[server a]\nfoo = 1\nbar = 2\n");
    CHECK(l.diag.items().size() >= 4);
  }
}

TEST_CASE("balance methods and server options") {
  auto l = load(
      "[upstream a]\nbalance = least_conn\nserver = 127.0.0.1:1\n"
      "[upstream b]\nbalance = random two\nserver = 127.0.0.1:1\n"
      "[upstream c]\nhash = $remote_addr$remote_port\nserver = 127.0.0.1:1\n"
      "[upstream d]\nserver = 127.0.0.1:1\n"
      "[server s]\nlisten = 127.0.0.1:1\nlisten = [::1]:2\nproxy_pass = a\n"
      "proxy_half_close = on\nproxy_next_upstream = off\nproxy_next_upstream_tries = 2\n"
      "proxy_next_upstream_timeout = 5s\nproxy_buffer_size = 4k\nproxy_timeout = 1m30s\n");
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.findUpstream("a")->method == BalanceMethod::least_conn);
  CHECK(l.cfg.findUpstream("b")->method == BalanceMethod::random_two);
  CHECK(l.cfg.findUpstream("c")->method == BalanceMethod::hash);
  CHECK(l.cfg.findUpstream("d")->method == BalanceMethod::round_robin);
  const auto& s = l.cfg.servers[0];
  CHECK(s.listen.size() == 2);
  CHECK(s.listen[1].toString() == "[::1]:2");
  CHECK(s.half_close);
  CHECK_FALSE(s.next_upstream);
  CHECK(s.next_upstream_tries == 2);
  CHECK(s.next_upstream_timeout == std::chrono::seconds(5));
  CHECK(s.buffer_size == 4096);
  CHECK(s.timeout == std::chrono::seconds(90));
}

TEST_CASE("proxy_pass to an address makes a one-server group, as nginx") {
  auto l = load("[server s]\nlisten = 127.0.0.1:1\nproxy_pass = 127.0.0.1:6443\n");
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  const auto* up = l.cfg.findUpstream("127.0.0.1:6443");
  REQUIRE(up != nullptr);
  CHECK(up->servers.size() == 1);
}

TEST_CASE("worker_processes auto and a missing log directory is only a warning") {
  auto l = load("[main]\nworker_processes = auto\nerror_log = /nonexistent-dir/e.log warn\n");
  CHECK_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.main.worker_processes >= 1);
  CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:3: warning: error_log: directory "
                                       "\"/nonexistent-dir\" does not exist"));
  CHECK(l.cfg.main.error_log.front().level == common::LogLevel::warn);
}

TEST_CASE("a status page beyond loopback without allow/deny is a warning at its listen line") {
  const std::string tail =
      "\n[upstream u]\nserver = 127.0.0.1:6443\n"
      "[server s]\nlisten = 10443\nproxy_pass = u\n";
  for (const char* listen : {"10088", "0.0.0.0:10088", "[::]:10088", "192.0.2.1:10088"}) {
    auto l = load(std::string("[status]\n; the page\nlisten = ") + listen + tail);
    INFO(listen);
    CHECK_FALSE(l.diag.hasErrors());
    CHECK_THAT(l.text(), Catch::Contains("proxyd.ini:3: warning: listen: the status page on ") &&
                             Catch::Contains("reachable beyond loopback with no allow/deny"));
  }
  for (const char* section :
       {"[status]\nlisten = 127.0.0.1:10088\n", "[status]\nlisten = [::1]:10088\n",
        "[status]\nlisten = 127.0.0.2:10088\n",
        "[status]\nlisten = 10088\nallow = 192.0.2.0/24\ndeny = all\n",
        "[status]\nlisten = 10088\nallow = all\n"}) {
    auto l = load(std::string(section) + tail);
    INFO(section);
    CHECK_FALSE(l.diag.hasErrors());
    CHECK_THAT(l.text(), !Catch::Contains("warning"));
  }
}

TEST_CASE("user variables are declared before anything compiles against them") {
  // The hash key names a variable of a section further down: nginx checks
  // uses at the end, so order does not matter.
  auto l = load(R"([upstream api]
hash = $backend_key
server = 192.0.2.11:6443

[server s]
listen = 10443
proxy_pass = api

[map $Backend_Key]
)");
  CHECK_THAT(l.text(), !Catch::Contains("unknown variable"));
  REQUIRE(l.cfg.variables.table->find("backend_key"));
  CHECK(l.cfg.variables.text == "[map $Backend_Key]\n");
  auto bad = load("[map backend]\n[geo $remote_addr]\n");
  CHECK_THAT(bad.text(), Catch::Contains("proxyd.ini:1: error: map: expected a variable "
                                         "(\"$NAME\"), not \"backend\""));
  CHECK_THAT(bad.text(), Catch::Contains("proxyd.ini:2: error: geo: the duplicate "
                                         "\"remote_addr\" variable"));
  auto unknown = load("[upstream api]\nhash = $nope\nserver = 192.0.2.11:6443\n");
  CHECK_THAT(unknown.text(), Catch::Contains("unknown variable \"$nope\""));
}

const char* kUpstreams =
    "[upstream blue]\nserver = 127.0.0.1:1\n[upstream green]\nserver = "
    "127.0.0.1:2\n";

TEST_CASE("set, return and proxy_pass with variables load", "[config][routing]") {
  auto l = load(std::string(kUpstreams) +
                "[server a]\nlisten = 1\nset = $Pool blue\nset = $where \"$pool:$server_port\"\n"
                "proxy_pass = $pool\n"
                "[server probe]\nlisten = 2\nreturn = \"ok $remote_addr\\n\"\n");
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  const proxyd::ServerSection& a = l.cfg.servers[0];
  REQUIRE(a.sets.size() == 2);
  CHECK(a.sets[0].name == "pool");  // names are case-insensitive, as nginx's
  CHECK(a.sets[0].value == "blue");
  CHECK(a.sets[1].value == "$pool:$server_port");
  CHECK(a.sets[1].line == 8);
  CHECK(a.passHasVariables());
  CHECK_FALSE(a.return_text);
  const proxyd::ServerSection& probe = l.cfg.servers[1];
  CHECK(probe.proxy_pass.empty());
  REQUIRE(probe.return_text);
  CHECK(*probe.return_text == "ok $remote_addr\n");
  // No group is made for a proxy_pass with variables.
  CHECK(l.cfg.upstreams.size() == 2);
}

TEST_CASE("set, return and proxy_pass errors", "[config][routing]") {
  const std::string ups = kUpstreams;  // 4 lines
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      // A literal proxy_pass naming no [upstream] stays an error.
      {"[server a]\nlisten = 1\nproxy_pass = nowhere\n",
       "proxyd.ini:3: error: proxy_pass: no [upstream nowhere]"},
      {"[server a]\nlisten = 1\nproxy_pass = $nosuch\n",
       "proxyd.ini:3: error: proxy_pass: unknown variable \"$nosuch\""},
      {"[server a]\nlisten = 1\nset = pool blue\nreturn = x\n",
       "proxyd.ini:3: error: set: expected a variable (\"$NAME\"), not \"pool\""},
      {"[server a]\nlisten = 1\nset = $remote_addr x\nreturn = x\n",
       "proxyd.ini:3: error: set: the duplicate \"remote_addr\" variable"},
      {"[server a]\nlisten = 1\nset = $a b c\nreturn = x\n",
       "proxyd.ini:3: error: set: expected \"$NAME VALUE\""},
      {"[server a]\nlisten = 1\nset = $a $nosuch\nreturn = x\n",
       "proxyd.ini:3: error: set: unknown variable \"$nosuch\""},
      {"[server a]\nlisten = 1\nreturn = two words\n",
       "proxyd.ini:3: error: return: expected one value"},
      {ups + "[server a]\nlisten = 1\nproxy_pass = blue\nreturn = x\n",
       "proxyd.ini:8: error: \"return\" and \"proxy_pass\" exclude each other"},
      {"[server a]\nlisten = 1\n",
       "proxyd.ini:1: error: [server a] needs \"proxy_pass\", \"pass\" or \"return\""},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK_THAT(load(c.text).text(), Catch::Contains(c.error));
  }
}

TEST_CASE("proxyd config: several error_log, syslog targets among them", "[config]") {
  auto l = load(
      "[main]\n"
      "error_log = /tmp/e.log\n"
      "error_log = syslog:server=127.0.0.1:5514,tag=lb debug\n"
      "[upstream u]\nserver = 127.0.0.1:1\n"
      "[log_format f]\nformat = $remote_addr\n"
      "[server s]\nlisten = 127.0.0.1:1\nproxy_pass = u\n"
      "access_log = syslog:server=unix:/dev/log,severity=notice f\n"
      "error_log = stderr info\n"
      "error_log = syslog:server=127.0.0.1 warn\n");
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  REQUIRE(l.cfg.main.error_log.size() == 2);
  CHECK(l.cfg.main.error_log[0].level == common::LogLevel::error);
  CHECK_FALSE(l.cfg.main.error_log[0].syslog);
  const auto& sys = l.cfg.main.error_log[1];
  CHECK(sys.level == common::LogLevel::debug);
  REQUIRE(sys.syslog);
  CHECK(sys.syslog->tag == "lb");
  CHECK(sys.syslog->server.port() == 5514);
  const auto& sv = l.cfg.servers.front();
  REQUIRE(sv.error_log.size() == 2);
  CHECK(sv.error_log[1].syslog->server.port() == 514);
  REQUIRE(sv.access_logs.size() == 1);
  REQUIRE(sv.access_logs[0].syslog);
  CHECK(sv.access_logs[0].syslog->unix_path == "/dev/log");
  CHECK(sv.access_logs[0].syslog->severity == 5);
}

TEST_CASE("proxyd config: a bad syslog target is an error on its line", "[config]") {
  auto l = load("[main]\nerror_log = syslog:server=127.0.0.1,facility=local9 info\n");
  CHECK(l.text() ==
        "/etc/proxyd/proxyd.ini:2: error: error_log: unknown syslog facility \"local9\"\n");
  auto a = load(
      "[upstream u]\nserver = 127.0.0.1:1\n[log_format f]\nformat = $remote_addr\n"
      "[server s]\nlisten = 127.0.0.1:1\nproxy_pass = u\naccess_log = syslog:tag=x f\n");
  CHECK_THAT(a.text(), Catch::Contains("proxyd.ini:8: error: access_log: no syslog server "
                                       "specified"));
}
