#include "proxyd/core/udp_exchange.h"

#include <catch2/catch.hpp>

using proxyd::UdpExchange;
using proxyd::UdpLimits;
using End = proxyd::UdpExchange::TimeoutEnd;

// The cases below are nginx 1.22's decisions as measured with
// tests/interop/test_nginx_udp.py (ngx_stream_proxy_test_finalize).

TEST_CASE("udp exchange: no limits (nginx's default) ends only on proxy_timeout, as 200") {
  UdpExchange x(UdpLimits{});
  x.request(2);
  x.response(7);
  x.request(2);
  CHECK_FALSE(x.done());
  CHECK(x.takesRequests());
  CHECK(x.onTimeout() == End::timed_out);
  CHECK(x.requests() == 2);
  CHECK(x.responses() == 1);
  CHECK(x.requestBytes() == 4);
  CHECK(x.responseBytes() == 7);
}

TEST_CASE("udp exchange: proxy_responses N is done after N responses per request") {
  UdpExchange x(UdpLimits{0, 2});
  x.request(1);
  x.response(1);
  CHECK_FALSE(x.done());
  CHECK(x.onTimeout() == End::upstream_timed_out);
  x.response(1);
  CHECK(x.done());
  // A second request before the end calls for two more.
  x.request(1);
  CHECK_FALSE(x.done());
  x.response(1);
  x.response(1);
  CHECK(x.done());
  CHECK(x.onTimeout() == End::timed_out);
}

TEST_CASE("udp exchange: proxy_responses 0 is done as soon as the request is out") {
  UdpExchange x(UdpLimits{0, 0});
  x.request(5);
  CHECK(x.done());
  CHECK(x.onTimeout() == End::timed_out);
}

TEST_CASE("udp exchange: proxy_requests keeps the session open until N requests") {
  UdpExchange x(UdpLimits{2, 1});
  x.request(1);
  x.response(1);
  CHECK(x.takesRequests());
  CHECK_FALSE(x.done());  // nginx waits for the requests before it looks at responses
  x.request(1);
  CHECK_FALSE(x.takesRequests());
  CHECK_FALSE(x.done());
  x.response(1);
  CHECK(x.done());
}

TEST_CASE("udp exchange: proxy_requests without proxy_responses waits for the timeout") {
  UdpExchange x(UdpLimits{1, std::nullopt});
  x.request(1);
  CHECK_FALSE(x.takesRequests());
  x.response(3);
  CHECK_FALSE(x.done());
  CHECK(x.onTimeout() == End::timed_out);
}
