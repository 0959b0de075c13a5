// The pure parts of run-time DNS: `resolver` and `server ... resolve`
// parsing, the load-time lookup through the Host seam, what an answer means
// (dns_answer.h), and an upstream group taking a new answer while keeping
// the state of the addresses that stay.
#include <catch2/catch.hpp>

#include "proxyd/core/config.h"
#include "proxyd/core/dns_answer.h"
#include "proxyd/core/resolver_spec.h"
#include "proxyd/core/upstream_group.h"
#include "proxyd/core/upstream_server.h"
#include "tests/unit/support/fake_host.h"

using namespace std::chrono_literals;
using proxyd::ResolvedPeer;
using proxyd::UpstreamGroup;
using proxyd::UpstreamServer;

namespace {

common::SocketAddress at(const std::string& host, std::uint16_t port) {
  return *common::SocketAddress::fromNumeric(host, port);
}

proxyd::ProxyConfig load(const std::string& text, common::Diagnostics& diag,
                         const common::Host& host) {
  return proxyd::parseProxyConfig(text, "/etc/proxyd/proxyd.ini", "/etc/proxyd", diag, host);
}

std::string messages(const common::Diagnostics& diag) {
  std::string all;
  for (const auto& m : diag.items()) all += m.format() + "\n";
  return all;
}

}  // namespace

TEST_CASE("resolver: nginx's syntax", "[dns]") {
  auto r = proxyd::parseResolverSpec("127.0.0.1:5353 [::1] 192.0.2.53 valid=30s ipv6=off");
  REQUIRE(r.ok());
  REQUIRE(r->servers.size() == 3);
  CHECK(r->servers[0] == at("127.0.0.1", 5353));
  CHECK(r->servers[1] == at("::1", 53));
  CHECK(r->servers[2] == at("192.0.2.53", 53));
  CHECK(r->valid == std::chrono::seconds(30));
  CHECK(r->ipv4);
  CHECK_FALSE(r->ipv6);
  CHECK(proxyd::parseResolverSpec("[::1]:5353")->servers[0] == at("::1", 5353));

  CHECK_THAT(proxyd::parseResolverSpec("127.0.0.1 ipv4=off ipv6=off").error(),
             Catch::Contains("cannot both be \"off\""));
  CHECK_THAT(proxyd::parseResolverSpec("127.0.0.1 ipv4=maybe").error(),
             Catch::Contains("invalid parameter: ipv4=maybe"));
  CHECK_THAT(proxyd::parseResolverSpec("127.0.0.1 valid=soon").error(),
             Catch::Contains("invalid parameter: valid=soon"));
  CHECK_FALSE(proxyd::parseResolverSpec("127.0.0.1:0").ok());
  CHECK_FALSE(proxyd::parseResolverSpec("dns.example").ok());
  CHECK_FALSE(proxyd::parseResolverSpec("valid=10s").ok());  // no address
}

TEST_CASE("server ... resolve and service=: nginx 1.27.3's checks", "[dns]") {
  test_support::FakeHost host;
  auto s = proxyd::parseUpstreamServer("api.test:6443 resolve max_fails=3", host);
  REQUIRE(s.ok());
  CHECK(s->resolve);
  CHECK(s->addrs.empty());  // not looked up at load
  CHECK(s->host == "api.test");
  CHECK(s->port == 6443);

  auto srv = proxyd::parseUpstreamServer("api.test service=https resolve", host);
  REQUIRE(srv.ok());
  CHECK(proxyd::lookupName(*srv) == "_https._tcp.api.test");
  CHECK(proxyd::lookupName(*proxyd::parseUpstreamServer("api.test service=_sip._udp resolve",
                                                        host)) == "_sip._udp.api.test");

  CHECK_THAT(proxyd::parseUpstreamServer("api.test service=https", host).error(),
             Catch::Contains("requires \"resolve\" parameter"));
  CHECK_THAT(proxyd::parseUpstreamServer("api.test:443 service=https resolve", host).error(),
             Catch::Contains("may not have port"));
  CHECK_THAT(proxyd::parseUpstreamServer("192.0.2.1 service=https resolve", host).error(),
             Catch::Contains("requires domain name"));
  CHECK_THAT(proxyd::parseUpstreamServer("api.test service= resolve", host).error(),
             Catch::Contains("service is empty"));
  // An address literal with `resolve` is an ordinary server.
  auto literal = proxyd::parseUpstreamServer("192.0.2.1:80 resolve", host);
  REQUIRE(literal.ok());
  CHECK_FALSE(literal->resolve);
  CHECK(literal->addrs.size() == 1);
}

TEST_CASE("load-time lookups go through the Host", "[dns]") {
  test_support::FakeHost host;
  host.names["db.lab"] = {"192.0.2.21", "192.0.2.22"};
  auto s = proxyd::parseUpstreamServer("db.lab:5432", host);
  REQUIRE(s.ok());
  REQUIRE(s->addrs.size() == 2);
  CHECK(s->addrs[1] == at("192.0.2.22", 5432));
  CHECK_THAT(proxyd::parseUpstreamServer("gone.lab:5432", host).error(),
             Catch::Contains("host not found in upstream \"gone.lab:5432\""));
}

TEST_CASE("resolver keys: [main]'s inherited, [server] and [upstream] override", "[dns]") {
  test_support::FakeHost host;
  host.addFile("/var/log/proxyd/error.log", S_IFREG | 0644);
  common::Diagnostics diag;
  auto cfg = load(R"([main]
resolver = 127.0.0.1:5353 valid=10s
resolver_timeout = 5s

[upstream a]
server = a.test:80 resolve

[upstream b]
resolver = 192.0.2.53
resolver_timeout = 2s
zone = b 64k
server = b.test:80 resolve

[server s]
listen = 10443
proxy_pass = a

[server t]
listen = 10444
resolver = [::1]:53
proxy_pass = b
)",
                  diag, host);
  INFO(messages(diag));
  REQUIRE_FALSE(diag.hasErrors());
  REQUIRE(cfg.upstreams.size() == 2);
  CHECK(cfg.upstreams[0].resolver.resolver->servers[0] == at("127.0.0.1", 5353));
  CHECK(cfg.upstreams[0].resolver.timeout == 5s);
  CHECK(cfg.upstreams[1].resolver.resolver->servers[0] == at("192.0.2.53", 53));
  CHECK_FALSE(cfg.upstreams[1].resolver.resolver->valid);
  CHECK(cfg.upstreams[1].resolver.timeout == 2s);
  CHECK(cfg.upstreams[1].zone == "b 64k");
  CHECK(cfg.servers[0].resolver.resolver->valid == std::chrono::seconds(10));
  CHECK(cfg.servers[1].resolver.resolver->servers[0] == at("::1", 53));
  CHECK(cfg.servers[1].resolver.timeout == 5s);

  common::Diagnostics none;
  load("[upstream a]\nserver = a.test:80 resolve\n[server s]\nlisten = 10443\nproxy_pass = a\n",
       none, host);
  CHECK_THAT(messages(none), Catch::Contains("no resolver defined to resolve names at run time "
                                             "in upstream \"a\""));
  common::Diagnostics bad;
  load("[main]\nresolver_timeout = 0\n", bad, host);
  CHECK(bad.hasErrors());
}

TEST_CASE("dns answers: peers, lifetimes and nginx's texts", "[dns]") {
  test_support::FakeHost host;
  auto sv = *proxyd::parseUpstreamServer("api.test:6443 resolve", host);
  auto peers =
      proxyd::peersFromAddresses(sv, {at("192.0.2.1", 0), at("192.0.2.2", 0), at("192.0.2.1", 0)});
  REQUIRE(peers.size() == 2);  // the repeated address is one peer
  CHECK(peers[0].addr == at("192.0.2.1", 6443));
  CHECK(peers[0].name == "api.test:6443");

  auto srv = *proxyd::parseUpstreamServer("api.test service=api resolve", host);
  std::vector<proxyd::SrvRecord> records = {
      {"a.api.test", 7001, 10, 5, {at("192.0.2.1", 0)}},
      {"b.api.test", 7002, 10, 0, {at("192.0.2.2", 0)}},
      {"c.api.test", 7003, 20, 9, {at("192.0.2.3", 0)}},
      {"d.api.test", 7004, 5, 9, {}},  // no address: does not set the lowest priority
  };
  auto from_srv = proxyd::peersFromSrv(srv, records);
  REQUIRE(from_srv.size() == 3);
  CHECK(from_srv[0].addr == at("192.0.2.1", 7001));
  CHECK(from_srv[0].weight == 5);
  CHECK_FALSE(from_srv[0].backup);
  CHECK(from_srv[1].weight == 1);  // weight 0 counts as 1
  CHECK(from_srv[2].backup);       // priority 20 > 10
  CHECK(from_srv[2].name == "c.api.test");
  auto weighted = *proxyd::parseUpstreamServer("api.test service=api resolve weight=3", host);
  CHECK(proxyd::peersFromSrv(weighted, records)[0].weight == 3);  // the server's wins

  CHECK(proxyd::answerLifetime(30s, std::nullopt) == 31s);
  CHECK(proxyd::answerLifetime(30s, 5s) == 6s);
  CHECK(proxyd::retryDelay(200ms) == 1s);
  CHECK(proxyd::retryDelay(5s) == 5s);
  CHECK(proxyd::notResolvedText("api.test", 3) ==
        "api.test could not be resolved (3: Host not found)");
  CHECK(proxyd::notResolvedText("api.test", 110) ==
        "api.test could not be resolved (110: Operation timed out)");
  CHECK(proxyd::resolveStateText(2) == "Server failure");
  CHECK(proxyd::resolveStateText(5) == "Operation refused");
}

TEST_CASE("upstream group: a new answer keeps the state of addresses that stay", "[dns]") {
  test_support::FakeHost host;
  std::vector<UpstreamServer> servers = {
      *proxyd::parseUpstreamServer("api.test:6443 resolve max_fails=2", host),
      *proxyd::parseUpstreamServer("192.0.2.9:6443", host)};
  UpstreamGroup g("api", proxyd::BalanceMethod::round_robin, servers);
  CHECK(g.resolvesAtRunTime());
  REQUIRE(g.snapshot().size() == 1);  // only the literal until the first answer

  auto now = common::TimePoint{} + 100s;
  ResolvedPeer a{at("192.0.2.1", 6443), "api.test:6443", 1, false};
  ResolvedPeer b{at("192.0.2.2", 6443), "api.test:6443", 1, false};
  ResolvedPeer c{at("192.0.2.3", 6443), "api.test:6443", 1, false};
  CHECK(g.setResolved(0, {a, b}));
  CHECK_FALSE(g.setResolved(0, {a, b}));  // the same answer changes nothing
  CHECK_FALSE(g.setResolved(1, {a}));     // not a `resolve` server
  REQUIRE(g.snapshot().size() == 3);

  // A session on b fails once; another stays open on a, begun before the change.
  auto open = g.begin("");
  const proxyd::Peer* first = nullptr;
  for (int i = 0; i < 3 && (first == nullptr || first->addr != a.addr); ++i) {
    if (first != nullptr) g.release(open, false, now);
    open = g.begin("");
    first = g.choose(open, now);
  }
  REQUIRE(first != nullptr);
  REQUIRE(first->addr == a.addr);
  for (int i = 0; i < 3; ++i) {
    auto s = g.begin("");
    const proxyd::Peer* p = g.choose(s, now);
    REQUIRE(p != nullptr);
    g.release(s, p->addr == b.addr, now);
  }

  // The answer becomes {a, c}: b goes, c comes, a keeps its state.
  CHECK(g.setResolved(0, {a, c}));
  auto snap = g.snapshot();
  REQUIRE(snap.size() == 3);
  CHECK(snap[0].addr == a.addr);
  CHECK(snap[0].conns == 1);  // the open session's
  CHECK(snap[0].total_selected >= 1);
  CHECK(snap[1].addr == c.addr);
  CHECK(snap[1].total_selected == 0);
  // The open session ends on the list it began with; a's count drops.
  g.release(open, false, now);
  CHECK(g.snapshot()[0].conns == 0);

  // NXDOMAIN: the server has no peer; the literal one still serves.
  CHECK(g.setResolved(0, {}));
  REQUIRE(g.snapshot().size() == 1);
  auto s = g.begin("");
  const proxyd::Peer* p = g.choose(s, now);
  REQUIRE(p != nullptr);
  CHECK(p->addr == at("192.0.2.9", 6443));
  g.release(s, false, now);
}

TEST_CASE("upstream group: a failed peer stays failed across an answer", "[dns]") {
  test_support::FakeHost host;
  std::vector<UpstreamServer> servers = {
      *proxyd::parseUpstreamServer("api.test:6443 resolve max_fails=1 fail_timeout=30s", host)};
  UpstreamGroup g("api", proxyd::BalanceMethod::round_robin, servers);
  auto now = common::TimePoint{} + 100s;
  ResolvedPeer a{at("192.0.2.1", 6443), "api.test:6443", 1, false};
  ResolvedPeer b{at("192.0.2.2", 6443), "api.test:6443", 1, false};
  ResolvedPeer c{at("192.0.2.3", 6443), "api.test:6443", 1, false};
  g.setResolved(0, {a, b});
  for (int i = 0; i < 2; ++i) {
    auto s = g.begin("");
    const proxyd::Peer* p = g.choose(s, now);
    REQUIRE(p != nullptr);
    g.release(s, p->addr == a.addr, now);
  }
  g.setResolved(0, {c, a, b});
  // a is still inside its fail_timeout: never chosen.
  for (int i = 0; i < 6; ++i) {
    auto s = g.begin("");
    const proxyd::Peer* p = g.choose(s, now + 1s);
    REQUIRE(p != nullptr);
    CHECK(p->addr != a.addr);
    g.release(s, false, now + 1s);
  }
}

TEST_CASE("upstream group: consistent hash keys stay on their server across answers", "[dns]") {
  test_support::FakeHost host;
  std::vector<UpstreamServer> servers = {
      *proxyd::parseUpstreamServer("one.test:80 resolve", host),
      *proxyd::parseUpstreamServer("two.test:80 resolve", host),
      *proxyd::parseUpstreamServer("three.test:80 resolve", host)};
  UpstreamGroup g("h", proxyd::BalanceMethod::consistent_hash, servers);
  auto now = common::TimePoint{} + 100s;
  g.setResolved(0, {{at("192.0.2.1", 80), "one.test:80", 1, false}});
  g.setResolved(1, {{at("192.0.2.2", 80), "two.test:80", 1, false}});
  g.setResolved(2, {{at("192.0.2.3", 80), "three.test:80", 1, false}});
  auto server_of = [&](const std::string& key) {
    auto s = g.begin(key);
    const proxyd::Peer* p = g.choose(s, now);
    std::string name = p ? p->server_name : "-";
    g.release(s, false, now);
    return name;
  };
  std::vector<std::string> before;
  for (int k = 0; k < 40; ++k) before.push_back(server_of("key" + std::to_string(k)));
  // two.test moves to another address: its place on the ring (its name) stays.
  g.setResolved(1, {{at("192.0.2.20", 80), "two.test:80", 1, false}});
  for (int k = 0; k < 40; ++k) CHECK(server_of("key" + std::to_string(k)) == before[k]);
}
