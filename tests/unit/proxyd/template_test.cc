#include "proxyd/core/template.h"

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "proxyd/core/log_format.h"
#include "tests/unit/support/addresses.h"

namespace proxyd {
namespace {

// A source that counts its evaluations and answers `value` (or not found),
// optionally through another template (for chains and cycles).
class CountingSource : public VariableSource {
 public:
  explicit CountingSource(std::optional<std::string> value) : value_(std::move(value)) {}
  std::optional<Template> via;
  mutable int calls = 0;
  bool evaluate(SessionVariables& vars, std::string& out) const override {
    ++calls;
    if (via) {
      via->render(vars, out);
      return true;
    }
    if (!value_) return false;
    out += *value_;
    return true;
  }

 private:
  std::optional<std::string> value_;
};

struct Fixture {
  SessionRecord record;
  ProcessInfo proc{"node1", 42};
  VariableTable table;
  Fixture() { record.remote = test_support::socketAddress("192.0.2.7", 40000); }
  std::shared_ptr<CountingSource> define(const char* name, std::optional<std::string> value,
                                         bool is_volatile = false) {
    auto index = table.declare(name);
    REQUIRE(index);
    auto source = std::make_shared<CountingSource>(std::move(value));
    REQUIRE(table.define(*index, source, is_volatile));
    return source;
  }
  Template compile(std::string_view text) {
    auto t = Template::compile(text, &table);
    REQUIRE(t);
    return *t;
  }
};

}  // namespace

TEST_CASE("a template mixes literal text, built-ins and user variables", "[template]") {
  Fixture f;
  f.define("backend", std::string("pool-a"));
  SessionVariables vars(f.record, f.proc, &f.table);
  CHECK(f.compile("$remote_addr:${remote_port}/$Backend.x").evaluate(vars) ==
        "192.0.2.7:40000/pool-a.x");
  CHECK(f.compile("plain").isLiteral());
  CHECK(f.compile("plain").literal() == "plain");
  CHECK_FALSE(f.compile("$backend").isLiteral());
  CHECK(f.compile("$backend").usesUserVariables());
  CHECK_FALSE(f.compile("$remote_addr").usesUserVariables());
}

TEST_CASE("a user variable is computed once per session unless volatile", "[template]") {
  Fixture f;
  auto cached = f.define("cached", std::string("c"));
  auto changing = f.define("changing", std::string("v"), true);
  const Template t = f.compile("$cached$cached$changing$changing");
  SessionVariables vars(f.record, f.proc, &f.table);
  CHECK(t.evaluate(vars) == "ccvv");
  CHECK(t.evaluate(vars) == "ccvv");
  CHECK(cached->calls == 1);
  CHECK(changing->calls == 4);
  // Another session computes its own.
  SessionVariables other(f.record, f.proc, &f.table);
  CHECK(t.evaluate(other) == "ccvv");
  CHECK(cached->calls == 2);
}

TEST_CASE("not found: '-' in a default log line, empty elsewhere", "[template]") {
  Fixture f;
  f.define("missing", std::nullopt);
  SessionVariables vars(f.record, f.proc, &f.table);
  CHECK(f.compile("[$missing]").evaluate(vars) == "[]");
  auto line = LogFormat::compile("[$missing]", Escape::standard, &f.table);
  REQUIRE(line);
  std::string out;
  line->render(vars, out);
  CHECK(out == "[-]");
  // The ssl_preread variables are not found until preread has run.
  out.clear();
  auto sni = LogFormat::compile("[$ssl_preread_server_name]");
  REQUIRE(sni);
  sni->render(vars, out);
  CHECK(out == "[-]");
  auto hello = std::make_shared<PrereadInfo>();
  hello->server_name = "api.example.com";
  f.record.preread = hello;
  out.clear();
  sni->render(vars, out);
  CHECK(out == "[api.example.com]");
}

TEST_CASE("a variable that needs itself is not found, and does not recurse", "[template]") {
  Fixture f;
  auto a = f.define("a", std::nullopt);
  auto b = f.define("b", std::nullopt);
  a->via = f.compile("a<$b>");
  b->via = f.compile("b<$a>");
  SessionVariables vars(f.record, f.proc, &f.table);
  CHECK(f.compile("$a").evaluate(vars) == "a<b<>>");
}

TEST_CASE("assigned variables and captures", "[template]") {
  Fixture f;
  auto index = f.table.declare("proxy");
  REQUIRE(index);
  SessionVariables vars(f.record, f.proc, &f.table);
  const Template t = f.compile("$proxy|$1|${2}|$9");
  CHECK(t.evaluate(vars) == "|||");
  vars.assign(*index, "set-value");
  vars.setCaptures({"whole", "one", "two"});
  CHECK(t.evaluate(vars) == "set-value|one|two|");
}

TEST_CASE("the built-ins that no log line had before", "[template]") {
  Fixture f;
  f.record.server_name = "api.example.com";
  SessionVariables vars(f.record, f.proc, &f.table);
  auto line = LogFormat::compile("$binary_remote_addr $server_name $nginx_version");
  REQUIRE(line);
  std::string out;
  line->render(vars, out);
  CHECK(out == "\\xC0\\x00\\x02\\x07 api.example.com 1.25.5");
  CHECK(f.compile("$binary_remote_addr").evaluate(vars) == std::string("\xc0\x00\x02\x07", 4));
}

TEST_CASE("template errors name what is wrong", "[template]") {
  VariableTable table;
  auto error = [&](std::string_view text) {
    auto t = Template::compile(text, &table);
    REQUIRE_FALSE(t);
    return t.error();
  };
  CHECK(error("$nope") == "unknown variable \"$nope\"");
  CHECK(error("x$") == "invalid parameter \"$\"");
  CHECK(error("${remote_addr") == "the closing bracket in \"remote_addr\" variable is missing");
  // A log_format has no captures: "$1" is a variable name, as in nginx.
  auto log = LogFormat::compile("$1");
  REQUIRE_FALSE(log);
  CHECK(log.error() == "unknown variable \"$1\"");
  // A user variable may not take a built-in's name.
  auto dup = table.declare("Remote_Addr");
  REQUIRE_FALSE(dup);
  CHECK(dup.error() == "the duplicate \"Remote_Addr\" variable");
}

}  // namespace proxyd
