// Re-resolves the `resolve` servers of a configuration's upstream groups
// while running, on the control loop (one task for the process: the groups
// are shared by every worker thread). Each server is looked up at start and
// again when its answer expires (TTL, or the resolver's valid=); an answer
// is handed to UpstreamGroup::setResolved, which publishes the new peer list
// and keeps the state of the addresses that stay. As HAProxy's
// `init-addr none`, a server whose name does not resolve yet only has no
// peers (a warning says so) until an answer comes.
#pragma once

#include <event2/event.h>

#include <memory>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "proxyd/core/upstream_group.h"
#include "proxyd/io/dns_client.h"

namespace proxyd {

struct UpstreamSection;

class UpstreamResolver {
 public:
  UpstreamResolver(event_base* base, common::Log& log);
  ~UpstreamResolver();
  UpstreamResolver(const UpstreamResolver&) = delete;
  UpstreamResolver& operator=(const UpstreamResolver&) = delete;

  // Starts resolving the `resolve` servers of `group` with the section's
  // resolver (checked at load: there is one). The first lookups go out at once.
  common::Result<void> add(const UpstreamSection& section, std::shared_ptr<UpstreamGroup> group);

 private:
  struct Task;
  struct Client;
  void lookup(Task& t);
  void lookupTargets(Task& t, std::vector<SrvRecord> records);
  void answered(Task& t, int state, std::vector<ResolvedPeer> peers, std::chrono::seconds ttl);
  static void onTimer(evutil_socket_t, short, void* arg);

  event_base* base_;
  common::Log& log_;
  std::vector<std::unique_ptr<Client>> clients_;  // one per group
  std::vector<std::unique_ptr<Task>> tasks_;      // one per `resolve` server
};

}  // namespace proxyd
