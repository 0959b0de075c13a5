#include "proxyd/core/log_format.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

namespace proxyd {
namespace {

using std::chrono::milliseconds;

common::SocketAddress v4(const char* host, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  REQUIRE(inet_pton(AF_INET, host, &sin.sin_addr) == 1);
  return common::SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

common::SocketAddress v6(const char* host, std::uint16_t port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  REQUIRE(inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1);
  return common::SocketAddress(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
}

// Sets TZ for the scope of a test and restores the previous value, so that
// $time_local is deterministic whatever zone the machine runs in.
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  ScopedTz(const ScopedTz&) = delete;
  ScopedTz& operator=(const ScopedTz&) = delete;

 private:
  std::optional<std::string> old_;
};

bool haveZone(const char* name) {
  struct stat st {};
  return stat((std::string("/usr/share/zoneinfo/") + name).c_str(), &st) == 0;
}

// 2026-11-26T15:34:08.123Z.
constexpr std::int64_t kEndSecond = 1795707248;
std::chrono::system_clock::time_point endTime(int extra_ms = 123) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(kEndSecond) +
                                               milliseconds(extra_ms));
}

UpstreamAttempt okTry(const char* addr, std::uint64_t sent, std::uint64_t received) {
  UpstreamAttempt a;
  a.addr = addr;
  a.bytes_sent = sent;
  a.bytes_received = received;
  a.connect_time = milliseconds(0);
  a.first_byte_time = milliseconds(3);
  a.session_time = milliseconds(4);
  return a;
}

// A refused connect: nothing sent or received, no times reached.
UpstreamAttempt refusedTry(const char* addr) {
  UpstreamAttempt a;
  a.addr = addr;
  return a;
}

// A client that sends "hello\n" and gets an 11-byte answer (REFERENCE.md).
SessionRecord normalSession() {
  SessionRecord s;
  s.connection = 42;
  s.remote = v4("127.0.0.1", 51234);
  s.local = v4("127.0.0.1", 10443);
  s.status = 200;
  s.bytes_sent = 11;
  s.bytes_received = 6;
  s.session_time = milliseconds(5);
  s.end_time = endTime();
  s.upstreams.push_back(okTry("127.0.0.11:16443", 6, 11));
  return s;
}

ProcessInfo proc() {
  return ProcessInfo{"lb1", 4321};
}

std::string render(std::string_view format, const SessionRecord& s,
                   Escape escape = Escape::standard, const ProcessInfo& p = proc()) {
  auto f = LogFormat::compile(format, escape);
  REQUIRE(f.ok());
  std::string out;
  f->render(s, p, out);
  return out;
}

std::string compileError(std::string_view format) {
  auto f = LogFormat::compile(format);
  REQUIRE_FALSE(f.ok());
  return f.error();
}

// The seed's `log_format proxy '...' '...' '...'`: nginx concatenates the
// quoted pieces with nothing in between.
constexpr std::string_view kSeedFormat =
    "[$time_local] $protocol status:$status, bytes client:$bytes_sent/$bytes_received "
    "$session_time, "
    "client: $remote_addr, upstream:\"$upstream_addr\", "
    "bytes upstream:$upstream_bytes_sent $upstream_bytes_received $upstream_connect_time";

// The quoted style REFERENCE.md quotes its examples in.
constexpr std::string_view kQuotedUpstreams =
    "\"$upstream_addr\" \"$upstream_bytes_sent\" \"$upstream_bytes_received\" "
    "\"$upstream_connect_time\"";

TEST_CASE("each variable prints as nginx stream prints it", "[log_format]") {
  ScopedTz tz("UTC");
  const SessionRecord s = normalSession();
  CHECK(render("$remote_addr", s) == "127.0.0.1");
  CHECK(render("$remote_port", s) == "51234");
  CHECK(render("$server_addr", s) == "127.0.0.1");
  CHECK(render("$server_port", s) == "10443");
  CHECK(render("$protocol", s) == "TCP");
  CHECK(render("$status", s) == "200");
  CHECK(render("$bytes_sent", s) == "11");
  CHECK(render("$bytes_received", s) == "6");
  CHECK(render("$session_time", s) == "0.005");
  CHECK(render("$time_local", s) == "26/Nov/2026:15:34:08 +0000");
  CHECK(render("$time_iso8601", s) == "2026-11-26T15:34:08+00:00");
  CHECK(render("$msec", s) == "1795707248.123");
  CHECK(render("$connection", s) == "42");
  CHECK(render("$hostname", s) == "lb1");
  CHECK(render("$pid", s) == "4321");
  CHECK(render("$upstream_addr", s) == "127.0.0.11:16443");
  CHECK(render("$upstream_bytes_sent", s) == "6");
  CHECK(render("$upstream_bytes_received", s) == "11");
  CHECK(render("$upstream_connect_time", s) == "0.000");
  CHECK(render("$upstream_first_byte_time", s) == "0.003");
  CHECK(render("$upstream_session_time", s) == "0.004");
}

TEST_CASE("times are seconds with milliseconds", "[log_format]") {
  SessionRecord s = normalSession();
  s.session_time = milliseconds(12345);
  CHECK(render("$session_time", s) == "12.345");
  s.session_time = std::chrono::microseconds(999);  // nginx counts whole milliseconds
  CHECK(render("$session_time", s) == "0.000");
  s.session_time = milliseconds(-7);  // clamped at 0 (ngx_max(ms, 0))
  CHECK(render("$session_time", s) == "0.000");
  s.session_time = std::chrono::seconds(3725);
  CHECK(render("$session_time", s) == "3725.000");

  s.upstreams[0].session_time = milliseconds(61010);
  CHECK(render("$upstream_session_time", s) == "61.010");

  s.end_time = endTime(7);
  CHECK(render("$msec", s) == "1795707248.007");
  s.end_time = endTime(0);
  CHECK(render("$msec", s) == "1795707248.000");
}

TEST_CASE("status is three digits", "[log_format]") {
  SessionRecord s = normalSession();
  for (int code : {400, 403, 500, 502, 503}) {
    s.status = code;
    CHECK(render("$status", s) == std::to_string(code));
  }
  s.status = 7;
  CHECK(render("$status", s) == "007");
  s.status = 42;
  CHECK(render("$status", s) == "042");
}

TEST_CASE("$time_local follows the local zone with a numeric offset", "[log_format]") {
  SessionRecord s = normalSession();
  {
    ScopedTz tz("UTC");
    CHECK(render("[$time_local] $time_iso8601", s) ==
          "[26/Nov/2026:15:34:08 +0000] 2026-11-26T15:34:08+00:00");
  }
  if (haveZone("Asia/Shanghai")) {
    ScopedTz tz("Asia/Shanghai");
    // Same second as above: the per-second cache must notice the zone change.
    CHECK(render("[$time_local] $time_iso8601", s) ==
          "[26/Nov/2026:23:34:08 +0800] 2026-11-26T23:34:08+08:00");
  } else {
    WARN("no /usr/share/zoneinfo/Asia/Shanghai; +0800 case skipped");
  }
  if (haveZone("America/St_Johns")) {
    // Negative offset with minutes: nginx prints the sign, then |hours|,
    // |minutes|.
    ScopedTz tz("America/St_Johns");
    CHECK(render("[$time_local] $time_iso8601", s) ==
          "[26/Nov/2026:12:04:08 -0330] 2026-11-26T12:04:08-03:30");
  } else {
    WARN("no /usr/share/zoneinfo/America/St_Johns; -0330 case skipped");
  }
  {
    ScopedTz tz("UTC");
    CHECK(render("$time_local", s) == "26/Nov/2026:15:34:08 +0000");
  }
}

TEST_CASE("$time_local changes with the second and only with it", "[log_format]") {
  ScopedTz tz("UTC");
  SessionRecord s = normalSession();
  s.end_time = endTime(0);
  CHECK(render("$time_local", s) == "26/Nov/2026:15:34:08 +0000");
  s.end_time = endTime(999);
  CHECK(render("$time_local $msec", s) == "26/Nov/2026:15:34:08 +0000 1795707248.999");
  s.end_time = endTime(1000);
  CHECK(render("$time_local $msec", s) == "26/Nov/2026:15:34:09 +0000 1795707249.000");
  // Back to an earlier second (sessions of another thread's loop may end
  // out of order): no stale text.
  s.end_time = endTime(0);
  CHECK(render("$time_iso8601", s) == "2026-11-26T15:34:08+00:00");
  // Single-digit day and a year boundary.
  s.end_time = std::chrono::system_clock::time_point(std::chrono::seconds(1798761599));
  CHECK(render("$time_local|$time_iso8601", s) ==
        "31/Dec/2026:23:59:59 +0000|2026-12-31T23:59:59+00:00");
  s.end_time = std::chrono::system_clock::time_point(std::chrono::seconds(1798761600));
  CHECK(render("$time_local|$time_iso8601", s) ==
        "01/Jan/2027:00:00:00 +0000|2027-01-01T00:00:00+00:00");
}

TEST_CASE("seed format, normal session", "[log_format]") {
  ScopedTz tz("UTC");
  CHECK(render(kSeedFormat, normalSession()) ==
        "[26/Nov/2026:15:34:08 +0000] TCP status:200, bytes client:11/6 0.005, client: "
        "127.0.0.1, upstream:\"127.0.0.11:16443\", bytes upstream:6 11 0.000");
}

TEST_CASE("seed format, one refused try then success", "[log_format]") {
  ScopedTz tz("UTC");
  SessionRecord s = normalSession();
  s.upstreams.clear();
  s.upstreams.push_back(refusedTry("127.0.0.21:16443"));
  s.upstreams.push_back(okTry("127.0.0.11:16443", 6, 11));
  CHECK(render(kSeedFormat, s) ==
        "[26/Nov/2026:15:34:08 +0000] TCP status:200, bytes client:11/6 0.005, client: "
        "127.0.0.1, upstream:\"127.0.0.21:16443, 127.0.0.11:16443\", bytes upstream:0, 6 0, 11 "
        "-, 0.000");
  CHECK(render(kQuotedUpstreams, s) ==
        "\"127.0.0.21:16443, 127.0.0.11:16443\" \"0, 6\" \"0, 11\" \"-, 0.000\"");
  CHECK(render("$upstream_first_byte_time $upstream_session_time", s) == "-, 0.003 -, 0.004");
}

TEST_CASE("seed format, no live upstreams", "[log_format]") {
  ScopedTz tz("UTC");
  SessionRecord s = normalSession();
  s.status = 502;
  s.bytes_sent = 0;
  s.bytes_received = 0;
  s.session_time = milliseconds(0);
  s.upstreams.clear();
  s.upstreams.push_back(refusedTry("deadgroup"));
  CHECK(render(kSeedFormat, s) ==
        "[26/Nov/2026:15:34:08 +0000] TCP status:502, bytes client:0/0 0.000, client: "
        "127.0.0.1, upstream:\"deadgroup\", bytes upstream:0 0 -");
  CHECK(render(kQuotedUpstreams, s) == "\"deadgroup\" \"0\" \"0\" \"-\"");
}

TEST_CASE("seed format, every try failed", "[log_format]") {
  ScopedTz tz("UTC");
  SessionRecord s = normalSession();
  s.status = 502;
  s.bytes_sent = 0;
  s.upstreams.clear();
  s.upstreams.push_back(refusedTry("127.0.0.21:16443"));
  s.upstreams.push_back(refusedTry("127.0.0.22:16443"));
  CHECK(render(std::string(kQuotedUpstreams) + " $status", s) ==
        "\"127.0.0.21:16443, 127.0.0.22:16443\" \"0, 0\" \"0, 0\" \"-, -\" 502");
}

TEST_CASE("seed format, denied session never chose an upstream", "[log_format]") {
  ScopedTz tz("UTC");
  SessionRecord s = normalSession();
  s.status = 403;
  s.bytes_sent = 0;
  s.bytes_received = 0;
  s.session_time = milliseconds(0);
  s.upstreams.clear();
  CHECK(render(kSeedFormat, s) ==
        "[26/Nov/2026:15:34:08 +0000] TCP status:403, bytes client:0/0 0.000, client: "
        "127.0.0.1, upstream:\"-\", bytes upstream:- - -");
  CHECK(render("$upstream_first_byte_time|$upstream_session_time", s) == "-|-");
}

TEST_CASE("escape=default writes \\xHH for quote, backslash, control and high bytes",
          "[log_format]") {
  SessionRecord s = normalSession();
  const ProcessInfo p{"a\"b\\c\x01\t\x7f\xc3\xa9~ z", 1};
  // Literal quotes in the format stay; only the value is escaped.
  CHECK(render("\"$hostname\"", s, Escape::standard, p) ==
        "\"a\\x22b\\x5Cc\\x01\\x09\\x7F\\xC3\\xA9~ z\"");
  s.upstreams[0].addr = "dead\"group";
  CHECK(render("upstream:\"$upstream_addr\"", s) == "upstream:\"dead\\x22group\"");
}

TEST_CASE("escape=json and escape=none", "[log_format]") {
  SessionRecord s = normalSession();
  const ProcessInfo p{"a\"b\\c\x01\n\r\t\b\f\x1f\x7f\xc3\xa9", 1};
  CHECK(render("{\"h\":\"$hostname\"}", s, Escape::json, p) ==
        "{\"h\":\"a\\\"b\\\\c\\u0001\\n\\r\\t\\b\\f\\u001F\x7f\xc3\xa9\"}");
  CHECK(render("$hostname", s, Escape::none, p) == p.hostname);
  // A missing value is "-" only with escape=default; json and none leave it
  // empty.
  s.upstreams.clear();
  CHECK(render("\"$upstream_addr\" $upstream_connect_time.", s, Escape::json) == "\"\" .");
  CHECK(render("\"$upstream_addr\" $upstream_connect_time.", s, Escape::none) == "\"\" .");
  CHECK(render("\"$upstream_addr\" $upstream_connect_time.", s, Escape::standard) == "\"-\" -.");
}

TEST_CASE("compile errors", "[log_format]") {
  CHECK(compileError("$foo") == "unknown variable \"$foo\"");
  CHECK(compileError("a $remote_addr $request_time b") == "unknown variable \"$request_time\"");
  // The name runs to the first byte outside [A-Za-z0-9_].
  CHECK(compileError("$statusxyz") == "unknown variable \"$statusxyz\"");
  CHECK(compileError("${nope}") == "unknown variable \"$nope\"");
  CHECK(compileError("status $") == "invalid parameter \"$\"");
  CHECK(compileError("x ${") == "invalid parameter \"${\"");
  CHECK(compileError("$ x") == "invalid parameter \"$ x\"");
  CHECK(compileError("${}x") == "invalid parameter \"${}x\"");
  CHECK(compileError("${status") == "the closing bracket in \"status\" variable is missing");
  CHECK(compileError("${status x}") == "the closing bracket in \"status\" variable is missing");
}

TEST_CASE("${name} form and name boundaries", "[log_format]") {
  const SessionRecord s = normalSession();
  CHECK(render("${status}xyz", s) == "200xyz");
  CHECK(render("${bytes_sent}${bytes_received}", s) == "116");
  CHECK(render("$status-$bytes_sent.$connection}", s) == "200-11.42}");
  // nginx looks names up case-insensitively.
  CHECK(render("$Status ${PROTOCOL}", s) == "200 TCP");
  CHECK(render("", s).empty());
  CHECK(render("no variables at all", s) == "no variables at all");
}

TEST_CASE("IPv6 addresses", "[log_format]") {
  SessionRecord s = normalSession();
  s.remote = v6("2001:db8::7", 40000);
  s.local = v6("::1", 10443);
  s.upstreams[0].addr = "[::1]:16443";
  CHECK(render("$remote_addr $remote_port $server_addr $server_port $upstream_addr", s) ==
        "2001:db8::7 40000 ::1 10443 [::1]:16443");
  s.remote = v6("::ffff:192.0.2.1", 1);
  CHECK(render("$remote_addr", s) == "::ffff:192.0.2.1");
}

TEST_CASE("missing local address logs like a failed getsockname", "[log_format]") {
  SessionRecord s = normalSession();
  s.local = common::SocketAddress();
  CHECK(render("$server_addr:$server_port", s) == "-:-");
}

TEST_CASE("render appends to the output", "[log_format]") {
  ScopedTz tz("UTC");
  auto f = LogFormat::compile("$status $bytes_sent");
  REQUIRE(f.ok());
  std::string out = "prefix ";
  f->render(normalSession(), proc(), out);
  out.push_back('\n');
  f->render(normalSession(), proc(), out);
  CHECK(out == "prefix 200 11\n200 11");
}

TEST_CASE("uses() reports the variables a format refers to", "[log_format]") {
  auto f = LogFormat::compile(kSeedFormat);
  REQUIRE(f.ok());
  CHECK(f->uses(Variable::time_local));
  CHECK(f->uses(Variable::remote_addr));
  CHECK(f->uses(Variable::upstream_connect_time));
  CHECK_FALSE(f->uses(Variable::server_addr));
  CHECK_FALSE(f->uses(Variable::server_port));
  CHECK_FALSE(f->uses(Variable::time_iso8601));
  auto g = LogFormat::compile("${server_addr}");
  REQUIRE(g.ok());
  CHECK(g->uses(Variable::server_addr));
  CHECK_FALSE(g->uses(Variable::status));
}

}  // namespace
}  // namespace proxyd
