// Active health checks of an upstream group (nginx Plus's `health_check`,
// which nginx open source lacks): the `health_check = ...` options of an
// [upstream] section, and the pure parts of the checking — the fall/rise
// counting that turns check results into a peer's health, the spreading of
// the checks over the interval, and the reading of an HTTP status line. The
// probes themselves (sockets, TLS, the event loop) are in health_checker.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace proxyd {

enum class HealthCheckType { tcp, http, https };

struct HealthCheckOptions {
  // nginx Plus's defaults: interval=5s fails=1 passes=1; our timeout is
  // bounded separately (nginx Plus uses proxy_connect_timeout/proxy_timeout).
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds timeout{1000};
  int fall = 1;  // consecutive failed checks that make a healthy peer unhealthy
  int rise = 1;  // consecutive passed checks that make an unhealthy peer healthy
  HealthCheckType type = HealthCheckType::tcp;
  // http and https: the request target and the accepted status codes
  // (expect=200 is [200, 200], expect=2xx is [200, 299]).
  std::string uri = "/";
  int expect_min = 200;
  int expect_max = 200;
  std::string expect_text = "200";  // as written, for messages
  // https: the server name sent in SNI (and checked against the certificate
  // with verify=on); empty: no SNI, the certificate is checked against the
  // server's address.
  std::string sni;
  bool verify = false;  // off by default, as nginx's proxy_ssl_verify
  std::string ca;       // verify=on: trusted CAs (PEM); empty: the system's
  std::string cert;     // client certificate (PEM), with key
  std::string key;
  // Peers start unhealthy and need one passed check (nginx Plus's
  // `mandatory`); without it they start healthy.
  bool mandatory = false;

  bool operator==(const HealthCheckOptions&) const = default;
};

// Parses "interval=2s timeout=1s fall=3 rise=2 type=https uri=/readyz
// expect=200 sni=NAME verify=on ca=FILE cert=FILE key=FILE mandatory" (any
// order, each at most once). Errors name the parameter and what was
// expected. File paths are returned as written; the config loader resolves
// them against the prefix and checks that they exist.
common::Result<HealthCheckOptions> parseHealthCheck(std::string_view text);

// The fall/rise counting of one peer: `fall` consecutive failures make a
// healthy peer unhealthy, `rise` consecutive successes make an unhealthy
// peer healthy again; a result of the other kind resets the streak. A
// `mandatory` peer starts unhealthy and its first check alone decides
// (passed: healthy whatever `rise`), as nginx Plus's "checking" state.
class HealthState {
 public:
  enum class Change { none, became_unhealthy, became_healthy };

  HealthState(int fall, int rise, bool mandatory = false)
      : fall_(fall), rise_(rise), healthy_(!mandatory), first_(mandatory) {}

  Change record(bool passed);
  bool healthy() const { return healthy_; }
  // The length of the current streak of failures / successes.
  int failures() const { return failures_; }
  int successes() const { return successes_; }

 private:
  int fall_;
  int rise_;
  bool healthy_;
  bool first_;  // mandatory and not checked yet
  int failures_ = 0;
  int successes_ = 0;
};

// When the first check of peer `index` out of `count` runs, after the
// checker starts: the peers are spread evenly over one interval so that a
// group's checks never fire together (peer 0 is checked at once).
common::Duration firstCheckDelay(std::size_t index, std::size_t count,
                                 std::chrono::milliseconds interval);

// The delay before the next check of a peer whose check started at
// `started` and ended at `now`: one interval from the start (a steady
// cadence), at once if the check itself took longer than that.
common::Duration nextCheckDelay(common::TimePoint started, common::TimePoint now,
                                std::chrono::milliseconds interval);

// The status code of an HTTP/1.x status line ("HTTP/1.1 200 OK"), or why
// the text is not one.
common::Result<int> parseStatusLine(std::string_view line);

// Whether `status` is one that `opts` expects.
inline bool expectedStatus(const HealthCheckOptions& opts, int status) {
  return status >= opts.expect_min && status <= opts.expect_max;
}

std::string_view healthCheckTypeName(HealthCheckType type);

}  // namespace proxyd
