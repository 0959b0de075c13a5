#include "proxyd/core/listen.h"

#include <catch2/catch.hpp>

#include <string>

using proxyd::parseListen;

namespace {

std::string errorOf(const char* text) {
  auto r = parseListen(text);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("listen: an address alone, as nginx reads it", "[listen]") {
  auto l = parseListen("10443");
  REQUIRE(l.ok());
  CHECK(l->address.toString() == "0.0.0.0:10443");
  CHECK_FALSE(l->udp);
  CHECK_FALSE(l->ssl);
  CHECK_FALSE(l->socket.any());
  CHECK(l->socket.backlog == 511);
  CHECK(parseListen("[::1]:53 udp")->toString() == "[::1]:53 udp");
}

TEST_CASE("listen: a UNIX-domain socket", "[listen]") {
  auto l = parseListen("unix:/run/proxyd/api.sock default_server");
  REQUIRE(l.ok());
  CHECK(l->address.family() == AF_UNIX);
  CHECK(l->address.toString() == "unix:/run/proxyd/api.sock");
  CHECK(l->default_server);
  CHECK(errorOf("unix:").find("no path in the unix domain socket") != std::string::npos);
  std::string long_path = "unix:/" + std::string(200, 'a');
  CHECK(errorOf(long_path.c_str()).find("too long path") != std::string::npos);
}

TEST_CASE("listen: every parameter", "[listen]") {
  auto l = parseListen(
      "192.0.2.1:443 default_server ssl proxy_protocol backlog=64 rcvbuf=64k sndbuf=1m "
      "so_keepalive=30m::10 fastopen=16 deferred bind reuseport ipv6only=off multipath");
  REQUIRE(l.ok());
  CHECK(l->default_server);
  CHECK(l->ssl);
  CHECK(l->proxy_protocol);
  const proxyd::ListenSocketOptions& o = l->socket;
  CHECK(o.backlog == 64);
  CHECK(o.rcvbuf == 65536u);
  CHECK(o.sndbuf == 1048576u);
  REQUIRE(o.so_keepalive);
  CHECK(o.so_keepalive->on);
  CHECK(o.so_keepalive->idle == 1800);
  CHECK_FALSE(o.so_keepalive->interval);
  CHECK(o.so_keepalive->count == 10);
  CHECK(o.fastopen == 16);
  CHECK(o.deferred);
  CHECK(o.bind);
  CHECK(o.reuseport);
  CHECK(o.multipath);
  CHECK(o.ipv6only == false);
  CHECK(o.any());
  CHECK(parseListen("80 so_keepalive=off")->socket.so_keepalive->on == false);
  CHECK(parseListen("80 so_keepalive=:5:")->socket.so_keepalive->interval == 5);
}

TEST_CASE("listen: nginx's refusals", "[listen]") {
  CHECK(errorOf("80 zzz").find("invalid parameter \"zzz\"") != std::string::npos);
  CHECK(errorOf("80 backlog=0").find("backlog") != std::string::npos);
  CHECK(errorOf("80 so_keepalive=::").find("invalid so_keepalive value") != std::string::npos);
  CHECK(errorOf("80 so_keepalive=x").find("invalid so_keepalive value") != std::string::npos);
  CHECK(errorOf("80 ipv6only=yes").find("invalid ipv6only flags \"yes\"") != std::string::npos);
  CHECK(errorOf("80 accept_filter=dataready").find("FreeBSD") != std::string::npos);
  for (const char* p : {"ssl", "proxy_protocol", "backlog=5", "deferred", "fastopen=3",
                        "so_keepalive=on", "multipath"}) {
    std::string text = std::string("53 udp ") + p;
    INFO(text);
    CHECK(errorOf(text.c_str()).find("is incompatible with \"udp\"") != std::string::npos);
  }
  CHECK(parseListen("53 udp reuseport rcvbuf=1m bind").ok());
}

TEST_CASE("listen: a socket is its address and transport", "[listen]") {
  auto tcp = *parseListen("127.0.0.1:53");
  auto udp = *parseListen("127.0.0.1:53 udp");
  auto tcp_ssl = *parseListen("127.0.0.1:53 ssl default_server");
  CHECK_FALSE(tcp.sameSocket(udp));
  CHECK(tcp.sameSocket(tcp_ssl));
}
