#include "proxyd/core/reload_plan.h"

#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/support/field_decisions.h"

using common::OnChange;
using common::ReloadStep;
using proxyd::planReload;
using test_support::expectedStep;
using test_support::fieldCount;
using test_support::Mutation;

namespace {

EXPECT_DECIDED(proxyd::ProxyConfig, proxyd::kProxyConfigDecisions);
EXPECT_DECIDED(proxyd::MainSection, proxyd::kMainSectionDecisions);
EXPECT_DECIDED(proxyd::LogTarget, proxyd::kLogTargetDecisions);
EXPECT_DECIDED(proxyd::StatusSection, proxyd::kStatusSectionDecisions);
EXPECT_DECIDED(proxyd::AccessRule, proxyd::kAccessRuleDecisions);
EXPECT_DECIDED(proxyd::UpstreamSection, proxyd::kUpstreamSectionDecisions);
EXPECT_DECIDED(proxyd::UpstreamServer, proxyd::kUpstreamServerDecisions);
EXPECT_DECIDED(proxyd::HealthCheckOptions, proxyd::kHealthCheckOptionsDecisions);
EXPECT_DECIDED(proxyd::ServerSection, proxyd::kServerSectionDecisions);
EXPECT_DECIDED(proxyd::AccessLogTarget, proxyd::kAccessLogTargetDecisions);
EXPECT_DECIDED(proxyd::AccessLogBuffering, proxyd::kAccessLogBufferingDecisions);
EXPECT_DECIDED(proxyd::SetDirective, proxyd::kSetDirectiveDecisions);
EXPECT_DECIDED(proxyd::ListenDirective, proxyd::kListenDirectiveDecisions);
EXPECT_DECIDED(proxyd::SyslogTarget, proxyd::kSyslogTargetDecisions);
EXPECT_DECIDED(proxyd::LimitConnZoneSpec, proxyd::kLimitConnZoneSpecDecisions);
EXPECT_DECIDED(proxyd::LimitConnDirective, proxyd::kLimitConnDirectiveDecisions);
EXPECT_DECIDED(proxyd::ProxyProtocolOptions, proxyd::kProxyProtocolOptionsDecisions);
EXPECT_DECIDED(proxyd::ProxyBind, proxyd::kProxyBindDecisions);

const char* kFile = R"([main]
limit_conn_zone = $binary_remote_addr zone=addr:1m

[status]
listen = 127.0.0.1:10088
allow = 127.0.0.0/8

[log_format proxy]
format = $remote_addr $status

[log_format other]
format = $remote_addr

[upstream api]
hash = $remote_addr consistent
health_check = interval=2s type=http uri=/readyz
server = 192.0.2.11:6443 max_fails=3 fail_timeout=30s
server = 192.0.2.12:6443

[upstream other]
server = 192.0.2.21:80

[server a]
listen = 127.0.0.1:10443
listen = 127.0.0.1:10444
proxy_pass = api
set = $client $remote_addr
limit_conn = addr 10
access_log = /tmp/a.log proxy
error_log = /tmp/a_error.log
error_log = syslog:server=127.0.0.1:5514,tag=a info
allow = 127.0.0.0/8
proxy_bind = 127.0.0.1

[server b]
listen = 127.0.0.1:10445
proxy_pass = other
)";

proxyd::ProxyConfig load(const std::string& text) {
  common::Diagnostics diag;
  auto cfg = proxyd::parseProxyConfig(text, "/etc/proxyd/proxyd.ini", "/tmp", diag);
  INFO(text);
  REQUIRE_FALSE(diag.hasErrors());
  return cfg;
}

common::SocketAddress addr(std::uint16_t port) {
  return *common::SocketAddress::fromNumeric("127.0.0.1", port);
}

proxyd::ListenDirective listenOn(std::uint16_t port) {
  proxyd::ListenDirective l;
  l.address = addr(port);
  return l;
}

ReloadStep listenStep(const proxyd::ReloadPlan& plan, std::uint16_t port) {
  for (const auto& l : plan.listeners) {
    if (l.addr == addr(port)) return l.step;
  }
  FAIL("no listener plan entry for port " << port);
  return ReloadStep::keep;
}

ReloadStep groupStep(const proxyd::ReloadPlan& plan, const std::string& name) {
  for (const auto& g : plan.groups) {
    if (g.name == name) return g.step;
  }
  FAIL("no group plan entry for " << name);
  return ReloadStep::keep;
}

// A value that differs from the one given, whatever the type.
using test_support::change;
void change(common::SocketAddress& v) {
  v.setPort(v.port() + 100);
}
void change(common::Cidr& v) {
  v = *common::Cidr::parse(v.matchesAll() ? "10.0.0.0/8" : "all");
}
void change(common::LogLevel& v) {
  v = v == common::LogLevel::info ? common::LogLevel::error : common::LogLevel::info;
}
void change(proxyd::BalanceMethod& v) {
  v = v == proxyd::BalanceMethod::random ? proxyd::BalanceMethod::least_conn
                                         : proxyd::BalanceMethod::random;
}
void change(proxyd::HealthCheckType& v) {
  v = v == proxyd::HealthCheckType::tcp ? proxyd::HealthCheckType::https
                                        : proxyd::HealthCheckType::tcp;
}
void change(std::map<std::string, std::string>& v) {
  v["added"] = "$status";
}
void change(proxyd::UserVariables& v) {
  v.text += "[map $x]\n";
}
void change(std::map<std::string, proxyd::Escape>& v) {
  v["proxy"] = v["proxy"] == proxyd::Escape::json ? proxyd::Escape::none : proxyd::Escape::json;
}
void change(proxyd::AccessLogBuffering& v) {
  v.size += 4096;
}
void change(std::uint16_t& v) {
  ++v;
}
void change(proxyd::ResolverSettings& v) {
  v.timeout += std::chrono::seconds(1);
}
void change(proxyd::MainSection& v) {
  change(v.worker_connections);
}
void change(proxyd::ProxyProtocolOptions& v) {
  change(v.timeout);
}
template <class T>
void change(std::optional<T>& v) {
  if (v) {
    v.reset();
  } else {
    v.emplace();
  }
}
template <class T>
void change(std::vector<T>& v) {
  if (v.empty()) {
    v.emplace_back();
  } else {
    v.pop_back();
  }
}
void change(std::vector<proxyd::ListenDirective>& v) {
  v.push_back(listenOn(10500));
}
void change(proxyd::ListenSocketOptions& v) {
  v.bind = !v.bind;
}

// Changes each field (of the struct `of` picks in the configuration) and
// hands the plan to `check` with the field's decision.
template <class T, std::size_t N, class Of, class Check>
void eachField(const std::array<common::FieldDecision, N>& table,
               const std::vector<Mutation<T>>& mutations, Of of, Check check) {
  REQUIRE(mutations.size() == N);
  auto base = load(kFile);
  for (std::size_t i = 0; i < N; ++i) {
    INFO("field " << table[i].field);
    REQUIRE(mutations[i].field == table[i].field);
    auto next = base;
    mutations[i].apply(of(next));
    REQUIRE_FALSE(next == base);
    check(planReload(base, next), table[i].on_change);
  }
}

}  // namespace

TEST_CASE("proxyd reload plan: the same file keeps everything", "[reload_plan]") {
  auto a = load(kFile);
  auto plan = planReload(a, load(kFile));
  REQUIRE(plan.listeners.size() == 3);
  for (const auto& l : plan.listeners) CHECK(l.step == ReloadStep::keep);
  REQUIRE(plan.groups.size() == 2);
  for (const auto& g : plan.groups) CHECK(g.step == ReloadStep::keep);
  CHECK(plan.status == ReloadStep::keep);
  CHECK_FALSE(plan.rlimit_changed);
}

TEST_CASE("proxyd reload plan: from nothing everything starts", "[reload_plan]") {
  auto plan = planReload(proxyd::ProxyConfig{}, load(kFile));
  for (const auto& l : plan.listeners) CHECK(l.step == ReloadStep::start);
  for (const auto& g : plan.groups) CHECK(g.step == ReloadStep::start);
  CHECK(plan.status == ReloadStep::start);
  auto none = planReload(load(kFile), proxyd::ProxyConfig{});
  REQUIRE(none.listeners.size() == 3);
  for (const auto& l : none.listeners) CHECK(l.step == ReloadStep::stop);
  for (const auto& g : none.groups) CHECK(g.step == ReloadStep::stop);
  CHECK(none.status == ReloadStep::stop);
  CHECK_FALSE(planReload(proxyd::ProxyConfig{}, proxyd::ProxyConfig{}).status);
}

TEST_CASE("proxyd reload plan: moved lines keep everything", "[reload_plan]") {
  auto a = load(kFile);
  auto plan = planReload(a, load("; moved\n\n\n" + std::string(kFile)));
  for (const auto& l : plan.listeners) CHECK(l.step == ReloadStep::keep);
  for (const auto& g : plan.groups) CHECK(g.step == ReloadStep::keep);
  CHECK(plan.status == ReloadStep::keep);
}

TEST_CASE("proxyd reload plan: a listen address moving to another server keeps its socket",
          "[reload_plan]") {
  auto a = load(kFile);
  auto b = a;
  b.servers[0].listen.pop_back();                  // 10444 leaves [server a]
  b.servers[1].listen.push_back(listenOn(10444));  // for [server b]
  auto plan = planReload(a, b);
  CHECK(listenStep(plan, 10444) == ReloadStep::update);
  CHECK(listenStep(plan, 10443) == ReloadStep::update);  // [server a] changed
  CHECK(listenStep(plan, 10445) == ReloadStep::update);
  for (const auto& l : plan.listeners) {
    if (l.addr == addr(10444)) CHECK(l.server == "b");
  }
}

TEST_CASE("proxyd reload plan: an address shared by several servers keeps its socket",
          "[reload_plan]") {
  auto a = load(kFile);
  auto shared = a;
  shared.servers[1].listen.push_back(listenOn(10443));  // [server b] joins [server a] on 10443
  shared.servers[1].server_names = {"b.example.com"};
  auto plan = planReload(a, shared);
  CHECK(listenStep(plan, 10443) == ReloadStep::update);  // one more [server], same socket
  CHECK(plan.listeners.size() == 3);
  CHECK(listenStep(planReload(shared, shared), 10443) == ReloadStep::keep);
  auto other_default = shared;
  other_default.servers[1].listen.back().default_server = true;
  plan = planReload(shared, other_default);
  CHECK(listenStep(plan, 10443) == ReloadStep::update);
  for (const auto& l : plan.listeners) {
    if (l.addr == addr(10443)) CHECK(l.server == "b");  // the default names it
  }
  CHECK(listenStep(planReload(shared, a), 10443) == ReloadStep::update);  // [server b] leaves
}

TEST_CASE("proxyd reload plan: what a server uses updates its listeners", "[reload_plan]") {
  auto a = load(kFile);
  auto fmt = a;
  fmt.log_format_text["proxy"] += " $bytes_sent";
  auto plan = planReload(a, fmt);
  CHECK(listenStep(plan, 10443) == ReloadStep::update);  // its access log's format
  CHECK(listenStep(plan, 10445) == ReloadStep::keep);
  auto escape = a;
  escape.log_format_escape["proxy"] = proxyd::Escape::json;
  CHECK(listenStep(planReload(a, escape), 10443) == ReloadStep::update);
  CHECK(listenStep(planReload(a, escape), 10445) == ReloadStep::keep);
  auto unused = a;
  unused.log_format_text["other"] += " $status";
  CHECK(listenStep(planReload(a, unused), 10443) == ReloadStep::keep);
  auto vars = a;
  vars.variables.text = "[map $backend]\nsource=$server_port\n";
  plan = planReload(a, vars);
  for (const auto& l : plan.listeners) CHECK(l.step == ReloadStep::update);  // templates' indices
  auto group = a;
  group.upstreams[1].servers[0].weight = 2;
  plan = planReload(a, group);
  CHECK(groupStep(plan, "other") == ReloadStep::restart);
  CHECK(groupStep(plan, "api") == ReloadStep::keep);
  CHECK(listenStep(plan, 10445) == ReloadStep::update);  // its group starts afresh
  CHECK(listenStep(plan, 10443) == ReloadStep::keep);
}

TEST_CASE("proxyd reload plan: proxy_pass with variables depends on every group", "[reload_plan]") {
  auto a = load(kFile);
  a.servers.front().proxy_pass = "$client";
  auto group = a;
  group.upstreams[1].servers[0].weight = 2;  // [upstream other], named by no proxy_pass
  auto plan = planReload(a, group);
  CHECK(groupStep(plan, "other") == ReloadStep::restart);
  CHECK(listenStep(plan, 10443) == ReloadStep::update);  // $client may name "other"
  auto literal = a;
  literal.servers.front().proxy_pass = "api";
  auto literal_group = literal;
  literal_group.upstreams[1].servers[0].weight = 2;
  CHECK(listenStep(planReload(literal, literal_group), 10443) == ReloadStep::keep);
}

TEST_CASE("proxyd reload plan: every field of a [server]", "[reload_plan]") {
  using S = proxyd::ServerSection;
  eachField<S>(
      proxyd::kServerSectionDecisions,
      {MUTATE(S, name),
       MUTATE(S, line),
       MUTATE(S, listen),
       MUTATE(S, proxy_pass),
       MUTATE(S, sets),
       MUTATE(S, return_text),
       MUTATE(S, pass),
       MUTATE(S, connect_timeout),
       MUTATE(S, timeout),
       MUTATE(S, buffer_size),
       MUTATE(S, half_close),
       MUTATE(S, next_upstream),
       MUTATE(S, next_upstream_tries),
       MUTATE(S, next_upstream_timeout),
       MUTATE(S, access_logs),
       MUTATE(S, error_log),
       MUTATE(S, access_rules),
       MUTATE(S, server_names),
       MUTATE(S, ssl_preread),
       MUTATE(S, preread_buffer_size),
       MUTATE(S, preread_timeout),
       MUTATE(S, limit_conn),
       MUTATE(S, limit_conn_log_level),
       MUTATE(S, limit_conn_dry_run),
       MUTATE(S, upload_rate),
       MUTATE(S, download_rate),
       MUTATE(S, proxy_protocol),
       MUTATE(S, tcp_nodelay),
       MUTATE(S, proxy_socket_keepalive),
       MUTATE(S, proxy_bind),
       MUTATE(S, resolver),
       MUTATE(S, proxy_requests),
       MUTATE(S, proxy_responses),
       test_support::Mutation<S>{"ssl", [](S& s) { change(s.ssl.ciphers); }},
       test_support::Mutation<S>{"proxy_ssl", [](S& s) { change(s.proxy_ssl.enabled); }}},
      [](proxyd::ProxyConfig& c) -> S& { return c.servers.front(); },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10445) == ReloadStep::keep);  // [server b]
        for (const auto& g : plan.groups) CHECK(g.step == ReloadStep::keep);
        if (c == OnChange::restart) {  // listen: a new address starts
          CHECK(listenStep(plan, 10500) == ReloadStep::start);
        } else {
          CHECK(plan.listeners.size() == 3);
          CHECK(listenStep(plan, 10443) == expectedStep(c));
          CHECK(listenStep(plan, 10444) == expectedStep(c));
        }
      });
  using LD = proxyd::ListenDirective;
  eachField<LD>(
      proxyd::kListenDirectiveDecisions,
      {MUTATE(LD, address), MUTATE(LD, udp), MUTATE(LD, ssl), MUTATE(LD, proxy_protocol),
       MUTATE(LD, default_server), MUTATE(LD, socket), MUTATE(LD, line)},
      [](proxyd::ProxyConfig& c) -> LD& { return c.servers.front().listen.front(); },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10445) == ReloadStep::keep);  // [server b]
        if (c == OnChange::restart) {                        // another socket starts, 10443's stops
          bool started = false, stopped = false;
          for (const auto& l : plan.listeners) {
            started = started || (l.step == ReloadStep::start && l.server == "a");
            stopped =
                stopped || (l.step == ReloadStep::stop && l.addr == addr(10443) && !l.listen.udp);
          }
          CHECK(started);
          CHECK(stopped);
        } else {
          CHECK(listenStep(plan, 10443) == expectedStep(c));
        }
      });
  using LC = proxyd::LimitConnDirective;
  eachField<LC>(
      proxyd::kLimitConnDirectiveDecisions, {MUTATE(LC, zone), MUTATE(LC, conn), MUTATE(LC, line)},
      [](proxyd::ProxyConfig& c) -> LC& { return c.servers.front().limit_conn.front(); },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10443) == expectedStep(c));
      });
  using D = proxyd::SetDirective;
  eachField<D>(
      proxyd::kSetDirectiveDecisions, {MUTATE(D, name), MUTATE(D, value), MUTATE(D, line)},
      [](proxyd::ProxyConfig& c) -> D& { return c.servers.front().sets.front(); },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10443) == expectedStep(c));
      });
  using L = proxyd::AccessLogTarget;
  eachField<L>(
      proxyd::kAccessLogTargetDecisions,
      {MUTATE(L, path), MUTATE(L, format_name), MUTATE(L, buffering), MUTATE(L, condition),
       MUTATE(L, syslog)},
      [](proxyd::ProxyConfig& c) -> L& { return c.servers.front().access_logs.front(); },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10443) == expectedStep(c));
      });
  using B = proxyd::AccessLogBuffering;
  eachField<B>(
      proxyd::kAccessLogBufferingDecisions, {MUTATE(B, size), MUTATE(B, flush), MUTATE(B, gzip)},
      [](proxyd::ProxyConfig& c) -> B& { return c.servers.front().access_logs.front().buffering; },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10443) == expectedStep(c));
      });
  using T = proxyd::LogTarget;
  eachField<T>(
      proxyd::kLogTargetDecisions, {MUTATE(T, path), MUTATE(T, level), MUTATE(T, syslog)},
      [](proxyd::ProxyConfig& c) -> T& { return c.servers.front().error_log.front(); },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10443) == expectedStep(c));
      });
  using Y = proxyd::SyslogTarget;
  eachField<Y>(
      proxyd::kSyslogTargetDecisions,
      {MUTATE(Y, text), MUTATE(Y, server), MUTATE(Y, unix_path), MUTATE(Y, facility),
       MUTATE(Y, severity), MUTATE(Y, tag), MUTATE(Y, nohostname)},
      [](proxyd::ProxyConfig& c) -> Y& { return *c.servers.front().error_log.back().syslog; },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10443) == expectedStep(c));
      });
  using P = proxyd::ProxyBind;
  eachField<P>(
      proxyd::kProxyBindDecisions, {MUTATE(P, value), MUTATE(P, address), MUTATE(P, transparent)},
      [](proxyd::ProxyConfig& c) -> P& { return *c.servers.front().proxy_bind; },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10443) == expectedStep(c));
      });
  using R = proxyd::AccessRule;
  eachField<R>(
      proxyd::kAccessRuleDecisions, {MUTATE(R, allow), MUTATE(R, cidr)},
      [](proxyd::ProxyConfig& c) -> R& { return c.servers.front().access_rules.front(); },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(listenStep(plan, 10443) == expectedStep(c));
      });
}

TEST_CASE("proxyd reload plan: every field of an [upstream]", "[reload_plan]") {
  auto checkApi = [](const proxyd::ReloadPlan& plan, OnChange c) {
    CHECK(groupStep(plan, "other") == ReloadStep::keep);
    CHECK(listenStep(plan, 10445) == ReloadStep::keep);
    if (c == OnChange::identity) {  // renamed: the old one stops, the new one starts
      CHECK(groupStep(plan, "api") == ReloadStep::stop);
      CHECK(groupStep(plan, "apix") == ReloadStep::start);
      return;
    }
    CHECK(groupStep(plan, "api") == expectedStep(c));
    // [server a]'s listeners keep their sockets and pass to the new group.
    CHECK(listenStep(plan, 10443) ==
          (c == OnChange::restart ? ReloadStep::update : ReloadStep::keep));
  };
  using U = proxyd::UpstreamSection;
  eachField<U>(
      proxyd::kUpstreamSectionDecisions,
      {MUTATE(U, name), MUTATE(U, method), MUTATE(U, hash_key), MUTATE(U, servers), MUTATE(U, line),
       MUTATE(U, health_check), MUTATE(U, source_text), MUTATE(U, resolver), MUTATE(U, zone)},
      [](proxyd::ProxyConfig& c) -> U& { return c.upstreams.front(); }, checkApi);
  using V = proxyd::UpstreamServer;
  eachField<V>(
      proxyd::kUpstreamServerDecisions,
      {MUTATE(V, name), MUTATE(V, addrs), MUTATE(V, weight), MUTATE(V, max_fails),
       MUTATE(V, fail_timeout), MUTATE(V, max_conns), MUTATE(V, backup), MUTATE(V, down),
       MUTATE(V, resolve), MUTATE(V, service), MUTATE(V, host), MUTATE(V, port)},
      [](proxyd::ProxyConfig& c) -> V& { return c.upstreams.front().servers.front(); }, checkApi);
  using H = proxyd::HealthCheckOptions;
  eachField<H>(
      proxyd::kHealthCheckOptionsDecisions,
      {MUTATE(H, interval), MUTATE(H, timeout), MUTATE(H, fall), MUTATE(H, rise), MUTATE(H, type),
       MUTATE(H, uri), MUTATE(H, expect_min), MUTATE(H, expect_max), MUTATE(H, expect_text),
       MUTATE(H, sni), MUTATE(H, verify), MUTATE(H, ca), MUTATE(H, cert), MUTATE(H, key),
       MUTATE(H, mandatory)},
      [](proxyd::ProxyConfig& c) -> H& { return *c.upstreams.front().health_check; }, checkApi);
}

TEST_CASE("proxyd reload plan: every field of [status] and [main]", "[reload_plan]") {
  using S = proxyd::StatusSection;
  eachField<S>(
      proxyd::kStatusSectionDecisions, {MUTATE(S, listen), MUTATE(S, rules), MUTATE(S, line)},
      [](proxyd::ProxyConfig& c) -> S& { return *c.status; },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        CHECK(plan.status == expectedStep(c));
        for (const auto& l : plan.listeners) CHECK(l.step == ReloadStep::keep);
      });
  using M = proxyd::MainSection;
  eachField<M>(
      proxyd::kMainSectionDecisions,
      {MUTATE(M, worker_processes), MUTATE(M, worker_connections), MUTATE(M, error_log),
       MUTATE(M, pid_path), MUTATE(M, worker_rlimit_nofile), MUTATE(M, worker_shutdown_timeout),
       MUTATE(M, limit_conn_zones), MUTATE(M, resolver)},
      [](proxyd::ProxyConfig& c) -> M& { return c.main; },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        // [main] is the process's: no listener, group or page restarts.
        REQUIRE(c != OnChange::restart);
        for (const auto& l : plan.listeners) CHECK(l.step == ReloadStep::keep);
        for (const auto& g : plan.groups) CHECK(g.step == ReloadStep::keep);
        CHECK(plan.status == ReloadStep::keep);
      });
  // Zones: what a reload does with them is adoptZones' (limit_conn_test.cc);
  // the plan leaves every listener and group as it is.
  using Z = proxyd::LimitConnZoneSpec;
  eachField<Z>(
      proxyd::kLimitConnZoneSpecDecisions,
      {MUTATE(Z, name), MUTATE(Z, key), MUTATE(Z, size), MUTATE(Z, line)},
      [](proxyd::ProxyConfig& c) -> Z& { return c.main.limit_conn_zones.front(); },
      [](const proxyd::ReloadPlan& plan, OnChange) {
        for (const auto& l : plan.listeners) CHECK(l.step == ReloadStep::keep);
        for (const auto& g : plan.groups) CHECK(g.step == ReloadStep::keep);
      });
  auto a = load(kFile);
  auto b = a;
  b.main.worker_rlimit_nofile = 4096;
  CHECK(planReload(a, b).rlimit_changed);
}

TEST_CASE("proxyd reload plan: the configuration's own fields", "[reload_plan]") {
  using C = proxyd::ProxyConfig;
  // main, status, upstreams and servers have their own tables above.
  const std::vector<std::string_view> covered = {"main", "status", "upstreams", "servers"};
  eachField<C>(
      proxyd::kProxyConfigDecisions,
      {MUTATE(C, path), MUTATE(C, prefix), MUTATE(C, main), MUTATE(C, status),
       MUTATE(C, log_format_text), MUTATE(C, log_format_escape), MUTATE(C, upstreams),
       MUTATE(C, servers), MUTATE(C, variables)},
      [](C& c) -> C& { return c; },
      [](const proxyd::ReloadPlan& plan, OnChange c) {
        // Whatever changed, the plan has an entry for every listener of
        // the old or new file.
        CHECK(plan.listeners.size() >= (c == OnChange::nothing ? 3u : 1u));
        if (c == OnChange::nothing) {
          for (const auto& l : plan.listeners) CHECK(l.step == ReloadStep::keep);
          for (const auto& g : plan.groups) CHECK(g.step == ReloadStep::keep);
        }
      });
  for (auto f : covered) {
    bool found = false;
    for (const auto& d : proxyd::kProxyConfigDecisions) found |= d.field == f;
    CHECK(found);
  }
}
