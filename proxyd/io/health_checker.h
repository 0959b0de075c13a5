// The active health checks of one upstream group, run on an event loop: per
// peer a TCP connect, an HTTP GET or an HTTPS GET (OpenSSL, with SNI,
// certificate verification and a client certificate, as a kube-apiserver's
// /readyz needs), every `interval`, each bounded by `timeout`, never
// blocking the loop. Results go through HealthState's fall/rise counting
// into the group (UpstreamGroup::recordHealthCheck), whose balancers then
// skip the unhealthy peers.
//
// Checks start spread over the interval (firstCheckDelay) so that a group's
// peers are never probed at the same moment, and one peer never has two
// checks running. When every peer of a group is unhealthy the group has no
// live upstream: sessions get nginx's "no live upstreams" (status 502), as
// nginx Plus does when all its servers fail their checks; /ready reports it.
#pragma once

#include <event2/event.h>
#include <openssl/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/c_handles.h"
#include "common/log.h"
#include "common/result.h"
#include "proxyd/core/health_check.h"
#include "proxyd/core/upstream_group.h"

namespace proxyd {

struct ProxyConfig;
struct ServerBlock;

class HealthChecker {
 public:
  // Builds the checker of `group`; the TLS files of `opts` (already
  // resolved) are loaded here, so an unreadable CA, certificate or key is
  // an error at start. Checks begin with start().
  static common::Result<std::unique_ptr<HealthChecker>> create(event_base* base,
                                                               std::shared_ptr<UpstreamGroup> group,
                                                               HealthCheckOptions opts,
                                                               common::Log& log);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void start();
  // Reads the CA, certificate and key files again (https only; a no-op
  // otherwise), for a reload that keeps this checker: rotated client
  // certificates take effect without losing the peers' health. On error the
  // old files stay in use.
  common::Result<void> reloadTls() {
    return opts_.type == HealthCheckType::https ? loadTls() : common::Result<void>();
  }
  const UpstreamGroup& group() const { return *group_; }

 private:
  struct Probe;

  HealthChecker(event_base* base, std::shared_ptr<UpstreamGroup> group, HealthCheckOptions opts,
                common::Log& log);
  common::Result<void> loadTls();

  event_base* base_;
  std::shared_ptr<UpstreamGroup> group_;
  HealthCheckOptions opts_;
  common::Log& log_;
  common::SslCtxPtr ssl_ctx_;
  std::vector<std::unique_ptr<Probe>> probes_;
};

// One started checker for every distinct one of `groups` whose [upstream]
// has a health_check, logging to `log`. The hook Proxy::start() calls.
common::Result<std::vector<std::unique_ptr<HealthChecker>>> startHealthChecks(
    event_base* base, const ProxyConfig& cfg,
    const std::vector<std::shared_ptr<UpstreamGroup>>& groups, common::Log& log);

}  // namespace proxyd
