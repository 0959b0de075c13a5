#include "proxyd/core/udp_exchange.h"

namespace proxyd {

// nginx compares u->responses with proxy_responses * u->requests.
bool UdpExchange::responsesIn() const {
  return !limits_.responses || responses_ >= std::uint64_t{*limits_.responses} * requests_;
}

bool UdpExchange::done() const {
  // A session that still takes requests is not done, whatever came back
  // (nginx returns before looking at the responses).
  if (takesRequests() && limits_.requests != 0) return false;
  // With no limit on the responses only proxy_timeout ends the session.
  if (!limits_.responses) return false;
  return responsesIn();
}

UdpExchange::TimeoutEnd UdpExchange::onTimeout() const {
  return responsesIn() ? TimeoutEnd::timed_out : TimeoutEnd::upstream_timed_out;
}

}  // namespace proxyd
