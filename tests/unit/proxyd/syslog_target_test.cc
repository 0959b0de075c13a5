#include "proxyd/core/syslog_target.h"

#include <catch2/catch.hpp>

#include <string>

using proxyd::parseSyslogTarget;
using proxyd::syslogHeader;

namespace {

std::string errorOf(const std::string& text) {
  auto r = parseSyslogTarget(text);
  REQUIRE_FALSE(r);
  return r.error();
}

std::tm at(int mon, int mday, int h, int m, int s) {
  std::tm tm{};
  tm.tm_mon = mon;
  tm.tm_mday = mday;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return tm;
}

}  // namespace

TEST_CASE("syslog target: nginx's defaults", "[syslog]") {
  auto t = parseSyslogTarget("syslog:server=127.0.0.1");
  REQUIRE(t);
  CHECK(t->server.toString() == "127.0.0.1:514");
  CHECK(t->unix_path.empty());
  CHECK(t->facility == 23);  // local7
  CHECK(t->severity == 6);   // info
  CHECK(t->tag == "nginx");
  CHECK_FALSE(t->nohostname);
  CHECK(t->text == "syslog:server=127.0.0.1");
}

TEST_CASE("syslog target: every parameter", "[syslog]") {
  auto t = parseSyslogTarget(
      "syslog:server=[::1]:5514,facility=daemon,severity=notice,tag=Proxy_1,nohostname");
  REQUIRE(t);
  CHECK(t->server.toString() == "[::1]:5514");
  CHECK(t->facility == 3);
  CHECK(t->severity == 5);
  CHECK(t->tag == "Proxy_1");
  CHECK(t->nohostname);
  auto u = parseSyslogTarget("syslog:tag=x,server=unix:/dev/log,facility=kern,severity=emerg");
  REQUIRE(u);
  CHECK(u->unix_path == "/dev/log");
  CHECK(u->server.empty());
  CHECK(u->facility == 0);
  CHECK(u->severity == 0);
}

TEST_CASE("syslog target: nginx's error texts", "[syslog]") {
  CHECK(errorOf("syslog:facility=local0") == "no syslog server specified");
  CHECK(errorOf("syslog:") == "unknown syslog parameter \"\"");
  CHECK(errorOf("syslog:server=127.0.0.1,") == "unknown syslog parameter \"\"");
  CHECK(errorOf("syslog:server=127.0.0.1,hostname") == "unknown syslog parameter \"hostname\"");
  CHECK(errorOf("syslog:server=127.0.0.1,nohostnames") ==
        "unknown syslog parameter \"nohostnames\"");
  CHECK(errorOf("syslog:server=127.0.0.1,server=127.0.0.2") == "duplicate syslog \"server\"");
  CHECK(errorOf("syslog:server=127.0.0.1,facility=user,facility=user") ==
        "duplicate syslog \"facility\"");
  CHECK(errorOf("syslog:server=127.0.0.1,severity=info,severity=info") ==
        "duplicate syslog \"severity\"");
  CHECK(errorOf("syslog:server=127.0.0.1,tag=a,tag=b") == "duplicate syslog \"tag\"");
  CHECK(errorOf("syslog:server=127.0.0.1,facility=local8") == "unknown syslog facility \"local8\"");
  // nginx.conf's spelling, not syslog's own ("err", "warning").
  CHECK(errorOf("syslog:server=127.0.0.1,severity=err") == "unknown syslog severity \"err\"");
  CHECK(errorOf("syslog:server=127.0.0.1,tag=a-b") ==
        "syslog \"tag\" only allows alphanumeric characters and underscore");
  CHECK(errorOf("syslog:server=127.0.0.1,tag=" + std::string(33, 'a')) ==
        "syslog tag length exceeds 32");
  CHECK(parseSyslogTarget("syslog:server=127.0.0.1,tag=" + std::string(32, 'a')));
  CHECK(errorOf("syslog:server=127.0.0.1:0") == "invalid port in syslog server \"127.0.0.1:0\"");
  CHECK(errorOf("syslog:server=127.0.0.1:65536,tag=x") ==
        "invalid port in syslog server \"127.0.0.1:65536\"");
  CHECK(errorOf("syslog:server=unix:") ==
        "no path in the unix domain socket in syslog server \"unix:\"");
  CHECK(errorOf("syslog:server=unix:/" + std::string(120, 'p')).find("too long path") == 0);
}

TEST_CASE("syslog line: RFC 3164 header as nginx writes it", "[syslog]") {
  auto t = *parseSyslogTarget("syslog:server=127.0.0.1");
  // Day of month padded with a blank, as ngx_cached_syslog_time ("%2d").
  CHECK(syslogHeader(t, 6, at(11, 2, 9, 5, 7), "lb1") == "<190>Dec  2 09:05:07 lb1 nginx: ");
  CHECK(syslogHeader(t, 6, at(0, 31, 23, 59, 59), "lb1") == "<190>Jan 31 23:59:59 lb1 nginx: ");
  auto n = *parseSyslogTarget("syslog:server=127.0.0.1,facility=kern,tag=proxyd,nohostname");
  CHECK(syslogHeader(n, 0, at(6, 14, 0, 0, 0), "lb1") == "<0>Jul 14 00:00:00 proxyd: ");
  auto u = *parseSyslogTarget("syslog:server=127.0.0.1,facility=user,severity=debug");
  CHECK(syslogHeader(u, u.severity, at(1, 9, 1, 2, 3), "h") == "<15>Feb  9 01:02:03 h nginx: ");
}

TEST_CASE("syslog line: error-log levels are the severity", "[syslog]") {
  using L = common::LogLevel;
  CHECK(proxyd::syslogSeverity(L::emerg) == 0);
  CHECK(proxyd::syslogSeverity(L::alert) == 1);
  CHECK(proxyd::syslogSeverity(L::crit) == 2);
  CHECK(proxyd::syslogSeverity(L::error) == 3);
  CHECK(proxyd::syslogSeverity(L::warn) == 4);
  CHECK(proxyd::syslogSeverity(L::notice) == 5);
  CHECK(proxyd::syslogSeverity(L::info) == 6);
  CHECK(proxyd::syslogSeverity(L::debug) == 7);
  // local7.error, as nginx's "[error]" lines arrive.
  auto t = *parseSyslogTarget("syslog:server=127.0.0.1");
  CHECK(syslogHeader(t, proxyd::syslogSeverity(L::error), at(2, 1, 0, 0, 0), "h").substr(0, 5) ==
        "<187>");
}

TEST_CASE("syslog line: the host name lower-cased, as nginx's cycle hostname", "[syslog]") {
  CHECK(proxyd::syslogHostname("LB-1.Example.COM") == "lb-1.example.com");
}
