#include "proxyd/core/access_log_target.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using proxyd::AccessLogTarget;
using proxyd::parseAccessLog;

namespace {

using Words = std::vector<std::string>;

AccessLogTarget parsed(const Words& words) {
  auto r = parseAccessLog(words);
  INFO((r.ok() ? std::string() : r.error()));
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  return **r;
}

std::string failure(const Words& words) {
  auto r = parseAccessLog(words);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("access_log: PATH FORMAT, or off", "[access_log]") {
  auto t = parsed({"/var/log/a.log", "main"});
  CHECK(t.path == "/var/log/a.log");
  CHECK(t.format_name == "main");
  CHECK(t.buffering.size == 0);
  CHECK_FALSE(t.condition);
  auto off = parseAccessLog({"off"});
  REQUIRE(off.ok());
  CHECK_FALSE(off->has_value());
  // nginx's texts (ngx_stream_log_set_log).
  CHECK(failure({"off", "main"}) == "invalid parameter \"main\"");
  CHECK(failure({"/a.log"}) == "log format is not specified");
  CHECK(failure({"/a.log", "main", "bogus=1"}) == "invalid parameter \"bogus=1\"");
  CHECK_THAT(failure({"/logs/$server_port.log", "main"}), Catch::Contains("not supported"));
}

TEST_CASE("access_log: buffer= and flush= as nginx parses them", "[access_log]") {
  using std::chrono::milliseconds;
  CHECK(parsed({"/a", "f", "buffer=32k"}).buffering.size == 32 * 1024);
  CHECK(parsed({"/a", "f", "buffer=1M"}).buffering.size == 1024 * 1024);
  CHECK(parsed({"/a", "f", "buffer=100"}).buffering.size == 100);
  auto t = parsed({"/a", "f", "buffer=4k", "flush=5s"});
  CHECK(t.buffering.flush == milliseconds(5000));
  CHECK(parsed({"/a", "f", "buffer=4k", "flush=1m30s"}).buffering.flush == milliseconds(90000));
  CHECK(parsed({"/a", "f", "buffer=4k", "flush=250ms"}).buffering.flush == milliseconds(250));
  CHECK(parsed({"/a", "f", "buffer=4k", "flush=2"}).buffering.flush == milliseconds(2000));
  CHECK(failure({"/a", "f", "buffer=0"}) == "invalid buffer size \"0\"");
  CHECK(failure({"/a", "f", "buffer=1g"}) == "invalid buffer size \"1g\"");
  CHECK(failure({"/a", "f", "buffer="}) == "invalid buffer size \"\"");
  CHECK(failure({"/a", "f", "buffer=4k", "flush=0"}) == "invalid flush time \"0\"");
  CHECK(failure({"/a", "f", "buffer=4k", "flush=0.5"}) == "invalid flush time \"0.5\"");
  CHECK(failure({"/a", "f", "buffer=4k", "flush=1y"}) == "invalid flush time \"1y\"");
  CHECK(failure({"/a", "f", "flush=1s"}) == "no buffer is defined for access_log \"/a\"");
}

TEST_CASE("access_log: gzip buffers 64K at level 1 unless told", "[access_log]") {
  auto g = parsed({"/a.gz", "f", "gzip"});
  CHECK(g.buffering.size == 64 * 1024);
  CHECK(g.buffering.gzip == 1);
  CHECK(parsed({"/a.gz", "f", "gzip=9"}).buffering.gzip == 9);
  CHECK(parsed({"/a.gz", "f", "gzip=05"}).buffering.gzip == 5);  // ngx_atoi
  // buffer= wins in either order; flush= needs no buffer= with gzip.
  CHECK(parsed({"/a.gz", "f", "buffer=8k", "gzip"}).buffering.size == 8 * 1024);
  CHECK(parsed({"/a.gz", "f", "gzip", "buffer=8k"}).buffering.size == 8 * 1024);
  CHECK(parsed({"/a.gz", "f", "gzip", "flush=1s"}).buffering.flush.count() == 1000);
  CHECK(failure({"/a", "f", "gzip=0"}) == "invalid compression level \"0\"");
  CHECK(failure({"/a", "f", "gzip=10"}) == "invalid compression level \"10\"");
  CHECK(failure({"/a", "f", "gzip="}) == "invalid compression level \"\"");
  CHECK(failure({"/a", "f", "gzipx"}) == "invalid parameter \"gzipx\"");
}

TEST_CASE("access_log: if= keeps its template; a line passes unless \"\" or \"0\"",
          "[access_log]") {
  CHECK(parsed({"/a", "f", "if=$status"}).condition == "$status");
  // nginx takes an empty one too: it is always "", so no line passes.
  CHECK(parsed({"/a", "f", "if="}).condition == "");
  CHECK_FALSE(proxyd::conditionPasses(""));
  CHECK_FALSE(proxyd::conditionPasses("0"));
  CHECK(proxyd::conditionPasses("00"));
  CHECK(proxyd::conditionPasses("200"));
  CHECK(proxyd::conditionPasses(" "));
}

TEST_CASE("access_log: a syslog target, never buffered", "[access_log][syslog]") {
  auto t = parsed({"syslog:server=127.0.0.1:5514,tag=lb", "p", "if=$ok"});
  REQUIRE(t.syslog);
  CHECK(t.syslog->tag == "lb");
  CHECK(t.path == "syslog:server=127.0.0.1:5514,tag=lb");
  CHECK(failure({"syslog:server=127.0.0.1", "p", "buffer=4k"}) ==
        "logs to syslog cannot be buffered");
  CHECK(failure({"syslog:server=127.0.0.1", "p", "gzip"}) == "logs to syslog cannot be buffered");
  CHECK(failure({"syslog:tag=x", "p"}) == "no syslog server specified");
}
