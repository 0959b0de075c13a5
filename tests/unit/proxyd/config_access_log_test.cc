// [server] access_log and [log_format] escape as the loader reads them.
#include <catch2/catch.hpp>

#include "proxyd/core/compiled_access_log.h"
#include "proxyd/core/config.h"
#include "tests/unit/support/diagnostics.h"

namespace {

struct Loaded {
  proxyd::ProxyConfig cfg;
  common::Diagnostics diag;
  std::string text() const { return test_support::diagnosticText(diag); }
};

// Two formats, one upstream, and a [server a] with `server_lines` (line 9 on).
Loaded load(const std::string& server_lines, const std::string& escape = "") {
  Loaded l;
  std::string text = "[log_format main]\nformat = $status\n" + escape +   // 1-2 (3)
                     "[log_format json]\nformat = {\"s\":\"$status\"}\n"  // 3-4
                     "[upstream u]\nserver = 127.0.0.1:1\n"               // 5-6
                     "[server a]\nlisten = 1\nproxy_pass = u\n" +         // 7-9
                     server_lines;
  l.cfg = proxyd::parseProxyConfig(text, "/etc/proxyd/proxyd.ini", "/tmp", l.diag);
  return l;
}

}  // namespace

TEST_CASE("config: several access_log in one server, each with its parameters",
          "[config][access_log]") {
  auto l = load(
      "access_log = a.log main\n"
      "access_log = /var/log/b.log.gz json gzip=4 flush=2s \"if=$status\"\n");
  INFO(l.text());
  REQUIRE_FALSE(l.diag.hasErrors());
  const auto& logs = l.cfg.servers.at(0).access_logs;
  REQUIRE(logs.size() == 2);
  CHECK(logs[0].path == "/tmp/a.log");
  CHECK(logs[0].format_name == "main");
  CHECK(logs[1].path == "/var/log/b.log.gz");
  CHECK(logs[1].buffering.size == 64 * 1024);
  CHECK(logs[1].buffering.gzip == 4);
  CHECK(logs[1].buffering.flush == std::chrono::milliseconds(2000));
  CHECK(logs[1].condition == "$status");
}

TEST_CASE("config: access_log = off silences the server, as nginx's", "[config][access_log]") {
  auto l = load("access_log = /tmp/a.log main\naccess_log = off\n");
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.servers.at(0).access_logs.empty());
}

TEST_CASE("config: access_log errors carry nginx's text and the line", "[config][access_log]") {
  CHECK_THAT(load("access_log = /tmp/a.log main flush=1s\n").text(),
             Catch::Contains("proxyd.ini:10: error: access_log: no buffer is defined for "
                             "access_log \"/tmp/a.log\""));
  CHECK_THAT(load("access_log = /tmp/a.log main buffer=0\n").text(),
             Catch::Contains("proxyd.ini:10: error: access_log: invalid buffer size \"0\""));
  CHECK_THAT(load("access_log = /tmp/a.log MISSING\n").text(),
             Catch::Contains("proxyd.ini:10: error: access_log: unknown log format \"MISSING\""));
  CHECK_THAT(load("access_log = /tmp/a.log main if=$nope\n").text(),
             Catch::Contains("proxyd.ini:10: error: access_log: if=$nope: unknown variable"));
  // One buffer per file: a second buffered access_log of it must agree.
  CHECK_THAT(load("access_log = /tmp/a.log main buffer=8k\n"
                  "access_log = /tmp/a.log json buffer=16k\n")
                 .text(),
             Catch::Contains("proxyd.ini:11: error: access_log: access_log \"/tmp/a.log\" "
                             "already defined with conflicting parameters"));
}

TEST_CASE("config: an unbuffered access_log of a buffered file shares its buffer",
          "[config][access_log]") {
  auto l = load("access_log = /tmp/a.log main\naccess_log = /tmp/a.log json buffer=8k\n");
  REQUIRE_FALSE(l.diag.hasErrors());
  const auto& logs = l.cfg.servers.at(0).access_logs;
  REQUIRE(logs.size() == 2);
  CHECK(logs[0].buffering.size == 8 * 1024);
  CHECK(logs[0].buffering == logs[1].buffering);
}

TEST_CASE("config: format names are found ignoring case, as nginx's", "[config][access_log]") {
  auto l = load("access_log = /tmp/a.log MAIN\n");
  REQUIRE_FALSE(l.diag.hasErrors());
  CHECK(l.cfg.servers.at(0).access_logs.at(0).format_name == "main");
}

TEST_CASE("config: [log_format] escape = default|json|none", "[config][access_log]") {
  auto dflt = load("access_log = /tmp/a.log main\n");
  CHECK(dflt.cfg.log_format_escape.at("main") == proxyd::Escape::standard);
  auto json = load("access_log = /tmp/a.log main\n", "escape = json\n");
  INFO(json.text());
  REQUIRE_FALSE(json.diag.hasErrors());
  CHECK(json.cfg.log_format_escape.at("main") == proxyd::Escape::json);
  // The compiled format carries it: a JSON-escaped value.
  auto compiled =
      proxyd::compileAccessLog(json.cfg, json.cfg.servers.at(0).access_logs.at(0), nullptr);
  REQUIRE(compiled.ok());
  CHECK(compiled->format.escape() == proxyd::Escape::json);
  CHECK(load("", "escape = none\n").cfg.log_format_escape.at("main") == proxyd::Escape::none);
  CHECK_THAT(load("", "escape = xml\n").text(),
             Catch::Contains("proxyd.ini:3: error: escape: unknown log format escaping \"xml\""));
}
