// set, return and proxy_pass with variables: what a set list computes and
// where a proxy_pass value sends a session (nginx's ngx_stream_proxy_eval
// and group search). What the loader accepts: config_test.cc.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "proxyd/core/proxy_pass_target.h"
#include "proxyd/core/server_block.h"
#include "tests/unit/support/addresses.h"

namespace proxyd {
namespace {

struct Session {
  SessionRecord record;
  ProcessInfo proc{"node1", 42};
  std::shared_ptr<VariableTable> table = std::make_shared<VariableTable>();
  Session() {
    record.remote = test_support::socketAddress("192.0.2.7", 40000);
    record.local = test_support::socketAddress("127.0.0.1", 8443);
  }
};

TEST_CASE("a block's sets run in order and feed return and proxy_pass", "[routing]") {
  Session s;
  ServerBlock block;
  block.section.sets = {{"pool", "blue", 1}, {"pool", "${pool}-$server_port", 2}};
  block.section.return_text = "$pool $remote_addr\n";
  block.section.proxy_pass = "$pool";
  REQUIRE(s.table->declare("pool"));
  block.variables = s.table;
  auto groups = std::make_shared<RouteGroups>();
  REQUIRE(compileScripts(block, groups));
  REQUIRE(block.sets.size() == 2);
  REQUIRE(block.return_text);
  REQUIRE(block.pass_value);
  CHECK(block.route_groups == groups);
  SessionVariables vars(s.record, s.proc, s.table.get());
  for (const SetCommand& set : block.sets) vars.assign(set.index, set.value.evaluate(vars));
  CHECK(block.return_text->evaluate(vars) == "blue-8443 192.0.2.7\n");
  CHECK(block.pass_value->evaluate(vars) == "blue-8443");

  ServerBlock literal;
  literal.section.proxy_pass = "blue";
  literal.variables = s.table;
  REQUIRE(compileScripts(literal, groups));
  CHECK_FALSE(literal.pass_value);  // a literal proxy_pass keeps today's path
  CHECK_FALSE(literal.route_groups);
}

RouteGroups twoGroups() {
  RouteGroups g;
  for (const char* name : {"blue", "127.0.0.1:9000"}) {
    UpstreamServer server;
    server.name = "127.0.0.1:9000";
    server.addrs.push_back(test_support::socketAddress("127.0.0.1", 9000));
    g.add({name,
           std::make_shared<UpstreamGroup>(name, BalanceMethod::round_robin,
                                           std::vector<UpstreamServer>{server}),
           nullptr, std::nullopt});
  }
  return g;
}

TEST_CASE("proxy_pass values: a group, an address, or nginx's error", "[routing]") {
  RouteGroups groups = twoGroups();
  auto target = [&](std::string_view v) { return resolvePassTarget(v, groups); };
  using K = PassTarget::Kind;

  SECTION("a group by name, case-insensitively") {
    for (const char* v : {"blue", "BLUE"}) {
      auto t = target(v);
      REQUIRE(t.kind == K::group);
      CHECK(t.group->name == "blue");
    }
    // The group of another server's literal `proxy_pass host:port`.
    CHECK(target("127.0.0.1:9000").kind == K::group);
    // A name with a port is not an [upstream]'s (they have none).
    CHECK(target("blue:80").error == "no resolver defined to resolve blue");
  }
  SECTION("an address with a port") {
    auto t = target("192.0.2.10:6443");
    REQUIRE(t.kind == K::address);
    CHECK(t.address.toString() == "192.0.2.10:6443");
    auto v6 = target("[2001:db8::1]:443");
    REQUIRE(v6.kind == K::address);
    CHECK(v6.address.toString() == "[2001:db8::1]:443");
  }
  SECTION("what nginx refuses, with its message") {
    CHECK(target("nosuch").error == "no port in upstream \"nosuch\"");
    CHECK(target("192.0.2.10").error == "no port in upstream \"192.0.2.10\"");
    CHECK(target("[2001:db8::1]").error == "no port in upstream \"[2001:db8::1]\"");
    CHECK(target("").error == "no host in upstream \"\"");
    CHECK(target(":80").error == "no host in upstream \":80\"");
    CHECK(target("a:0").error == "invalid port in upstream \"a:0\"");
    CHECK(target("a:65536").error == "invalid port in upstream \"a:65536\"");
    CHECK(target("a:x").error == "invalid port in upstream \"a:x\"");
    CHECK(target("a/b").error == "invalid host in upstream \"a/b\"");
    CHECK(target("[::1").error == "invalid host in upstream \"[::1\"");
    CHECK(target("[zz]:80").error == "invalid IPv6 address in upstream \"[zz]:80\"");
    CHECK(target("api.example:6443").error == "no resolver defined to resolve api.example");
    // Not a dotted quad for nginx: a name.
    CHECK(target("192.0.2.300:80").error == "no resolver defined to resolve 192.0.2.300");
    // A name with a port is for the resolver, when the [server] has one.
    auto named = target("api.example:6443");
    CHECK(named.kind == K::name);
    CHECK(named.host == "api.example");
    CHECK(named.port == 6443);
    for (const char* v : {"nosuch", "", "a:x"}) CHECK(target(v).kind == K::error);
  }
}

}  // namespace
}  // namespace proxyd
