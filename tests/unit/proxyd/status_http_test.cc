#include "proxyd/core/status_http.h"
#include "tests/unit/support/addresses.h"

#include <catch2/catch.hpp>

#include <string>

using namespace proxyd;

namespace {
constexpr auto npos = std::string_view::npos;

// The head as a reader gets it one byte per read: where it ends, with each
// search starting where the previous stopped.
std::size_t endByteByByte(std::string_view text) {
  std::string buf;
  std::size_t scanned = 0;
  for (char c : text) {
    buf.push_back(c);
    std::size_t end = findStatusHeadEnd(buf, scanned);
    if (end != npos) return end;
    scanned = buf.size();
  }
  return npos;
}
}  // namespace

TEST_CASE("the head ends at the first empty line, CRLF or LF, even when it arrives byte by byte") {
  const std::string crlf = "GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
  CHECK(findStatusHeadEnd(crlf, 0) == crlf.size() - 4);
  CHECK(endByteByByte(crlf) == crlf.size() - 4);
  const std::string lf = "GET / HTTP/1.0\nHost: x\n\n";
  CHECK(findStatusHeadEnd(lf, 0) == lf.size());
  CHECK(endByteByByte(lf) == lf.size());
  CHECK(findStatusHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n", 0) == npos);
  CHECK(endByteByByte("GET / HTTP/1.1\r\nX: " + std::string(100, 'a')) == npos);
}

TEST_CASE("a request head gives method, path without the query, and body length") {
  StatusHead h = parseStatusHead("GET /status?pretty=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
  REQUIRE(h.request);
  CHECK(h.request->method == "GET");
  CHECK(h.request->path == "/status");
  CHECK(h.request->body_length == 0);

  h = parseStatusHead("\r\nHEAD / HTTP/1.0\n\n");  // one empty line before it is ignored
  REQUIRE(h.request);
  CHECK(h.request->method == "HEAD");

  h = parseStatusHead("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n");
  REQUIRE(h.request);
  CHECK(h.request->method == "POST");
  CHECK(h.request->body_length == 5);

  h = parseStatusHead("POST / HTTP/1.1\r\nContent-Length: " + std::to_string(kStatusMaxBodyBytes) +
                      "\r\n\r\n");
  REQUIRE(h.request);
  CHECK(h.request->body_length == kStatusMaxBodyBytes);
}

TEST_CASE("malformed, oversized-body, chunked and non-1.x heads are refused") {
  auto code = [](std::string_view head) {
    StatusHead h = parseStatusHead(head);
    return h.request ? 0 : h.refusal.code;
  };
  CHECK(code("GET /\r\n\r\n") == 400);  // HTTP/0.9
  CHECK(code("GET  / HTTP/1.1\r\n\r\n") == 400);
  CHECK(code("GET / HTTP/1.1 x\r\n\r\n") == 400);
  CHECK(code("G(T / HTTP/1.1\r\n\r\n") == 400);
  CHECK(code("GET / HTTX/1.1\r\n\r\n") == 400);
  CHECK(code("GET / HTTP/2.0\r\n\r\n") == 505);
  CHECK(code("GET / HTTP/1.1\r\nHost : x\r\n\r\n") == 400);    // space before the colon
  CHECK(code("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n") == 400);  // a folded line
  CHECK(code("GET / HTTP/1.1\r\nno colon\r\n\r\n") == 400);
  CHECK(code("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") == 400);
  CHECK(code("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
  CHECK(code("POST / HTTP/1.1\r\nContent-Length: " + std::to_string(kStatusMaxBodyBytes + 1) +
             "\r\n\r\n") == 413);
  CHECK(code("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 413);
  CHECK(code("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 501);
}

TEST_CASE("a head beyond the limit: 414 for the request line, else 400, as nginx") {
  StatusReply r = statusHeadTooLarge("GET /" + std::string(kStatusMaxHeadBytes, 'a'));
  CHECK(r.code == 414);
  CHECK(r.reason == "Request-URI Too Large");
  r = statusHeadTooLarge("GET / HTTP/1.1\r\nX: " + std::string(kStatusMaxHeadBytes, 'a'));
  CHECK(r.code == 400);
  CHECK(r.body == "400 Request Header Or Cookie Too Large\n");
}

TEST_CASE("the answer: status line, headers, Connection: close, no body for HEAD") {
  StatusReply ok{200, "OK", "text/plain", "proxyd lb1 ok\n", false};
  // RFC 9110 5.6.7's example date.
  const std::time_t date = 784111777;
  CHECK(formatStatusResponse(ok, false, date) ==
        "HTTP/1.1 200 OK\r\nServer: proxyd\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        "Content-Type: text/plain\r\nContent-Length: 14\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\n\r\nproxyd lb1 ok\n");
  std::string head = formatStatusResponse(ok, true, date);
  CHECK(
      head.ends_with("Content-Length: 14\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"));
  StatusReply no{405, "Method Not Allowed", "text/plain", "405 Method Not Allowed\n", true};
  CHECK_THAT(formatStatusResponse(no, false, date),
             Catch::StartsWith("HTTP/1.1 405 Method Not Allowed\r\n") &&
                 Catch::Contains("\r\nAllow: GET, HEAD\r\n"));
}

TEST_CASE("the workers leave the top of RLIMIT_NOFILE to the control thread") {
  CHECK(controlReservedFds(1024) == kControlReservedFds);
  CHECK(workerDescriptorCeiling(1024) == 1024 - static_cast<int>(kControlReservedFds));
  CHECK(workerDescriptorCeiling(256) == 192);
  // A small limit keeps three quarters for the sessions.
  CHECK(controlReservedFds(48) == 12);
  CHECK(workerDescriptorCeiling(48) == 36);
  CHECK(workerDescriptorCeiling(std::uint64_t{1} << 40) == 0);  // no ceiling
  // The status page's connections fit in the reserve with room to spare.
  CHECK(kStatusMaxConnections * 2 <= kControlReservedFds);
}

TEST_CASE("a new connection sheds the oldest of the address holding the most") {
  auto a = [](const char* host, std::uint16_t port) {
    return test_support::socketAddress(host, port);
  };
  const common::SocketAddress track = a("127.0.0.1", 40000);
  std::vector<common::SocketAddress> open = {a("192.0.2.7", 1), a("127.0.0.1", 2),
                                             a("192.0.2.7", 3), a("192.0.2.7", 4),
                                             a("2001:db8::7", 5)};
  std::vector<const common::SocketAddress*> ptrs;
  for (const auto& x : open) ptrs.push_back(&x);
  // 192.0.2.7 holds three: its oldest goes, whoever comes.
  CHECK(pickShedVictim(ptrs, track) == 0);
  CHECK(pickShedVictim(ptrs, a("192.0.2.7", 9)) == 0);
  // The newcomer counts for its address: 127.0.0.1 with one open + one new
  // ties with nobody here, but with two open it would hold the most.
  open[3] = a("127.0.0.1", 4);  // now 192.0.2.7: 2, 127.0.0.1: 2 (+1 incoming)
  CHECK(pickShedVictim(ptrs, track) == 1);
  // A tie goes to the address whose oldest connection is older.
  CHECK(pickShedVictim(ptrs, a("198.51.100.1", 9)) == 0);
  // One address only: plain oldest first.
  std::vector<common::SocketAddress> same = {a("127.0.0.1", 1), a("127.0.0.1", 2)};
  std::vector<const common::SocketAddress*> sp = {&same[0], &same[1]};
  CHECK(pickShedVictim(sp, a("127.0.0.1", 3)) == 0);
  // IPv6 by address, not port.
  std::vector<common::SocketAddress> v6 = {a("2001:db8::1", 1), a("2001:db8::2", 2),
                                           a("2001:db8::2", 3)};
  std::vector<const common::SocketAddress*> vp = {&v6[0], &v6[1], &v6[2]};
  CHECK(pickShedVictim(vp, a("2001:db8::3", 4)) == 1);
  CHECK(pickShedVictim(vp, a("2001:db8::1", 4)) == 0);  // 2 and 2: the older
}
