// What one UDP session has exchanged, and when nginx ends it
// (ngx_stream_proxy_test_finalize and the proxy_timeout handler of
// ngx_stream_proxy_module.c for SOCK_DGRAM): every datagram from the client
// is a request, every one from the upstream a response.
//
// - proxy_requests N (0: no limit, the default): after N requests the
//   session leaves the client-address table, so the client's next datagram
//   starts a new session, while this one still waits for its responses.
// - proxy_responses N (none: no limit, the default): the session is done
//   with status 200 ("udp done") once it has N responses per request; with
//   no limit it ends only on proxy_timeout.
// - proxy_timeout with the expected responses in (or no limit): 200 ("udp
//   timed out"); short of them: 502 "upstream timed out", and the try
//   counts as a failure of the server (max_fails).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace proxyd {

struct UdpLimits {
  unsigned requests = 0;              // proxy_requests; 0: no limit
  std::optional<unsigned> responses;  // proxy_responses; none: no limit
};

class UdpExchange {
 public:
  explicit UdpExchange(UdpLimits limits) : limits_(limits) {}

  void request(std::size_t bytes) {
    ++requests_;
    request_bytes_ += bytes;
  }
  void response(std::size_t bytes) {
    ++responses_;
    response_bytes_ += bytes;
  }

  // Whether the client's datagrams still belong to this session.
  bool takesRequests() const { return limits_.requests == 0 || requests_ < limits_.requests; }
  // All the responses the requests call for have come: "udp done".
  bool done() const;

  enum class TimeoutEnd {
    timed_out,           // 200, "udp timed out" at info
    upstream_timed_out,  // 502, "upstream timed out" at error, a failure of the server
  };
  TimeoutEnd onTimeout() const;

  std::uint64_t requests() const { return requests_; }
  std::uint64_t responses() const { return responses_; }
  std::uint64_t requestBytes() const { return request_bytes_; }
  std::uint64_t responseBytes() const { return response_bytes_; }

 private:
  bool responsesIn() const;

  UdpLimits limits_;
  std::uint64_t requests_ = 0;
  std::uint64_t responses_ = 0;
  std::uint64_t request_bytes_ = 0;
  std::uint64_t response_bytes_ = 0;
};

}  // namespace proxyd
