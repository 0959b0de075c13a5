// What a DNS answer means for an upstream server resolved at run time, as
// nginx 1.27.3's zone resolver decides it (ngx_stream_upstream_zone_module.c,
// ngx_stream_upstream_zone_resolve_handler): the peers it stands for, how
// long the answer holds, and nginx's texts for resolver errors. Pure: the
// lookups themselves are dns_client.h's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"
#include "proxyd/core/upstream_group.h"
#include "proxyd/core/upstream_server.h"

namespace proxyd {

// nginx's resolver states (ngx_resolver.h): the DNS RCODEs, and a timeout.
enum ResolveState : int {
  kResolveOk = 0,
  kResolveFormErr = 1,
  kResolveServFail = 2,
  kResolveNxDomain = 3,  // also an answer without an address (nginx treats it so)
  kResolveNotImp = 4,
  kResolveRefused = 5,
  kResolveTimedOut = 110,  // NGX_ETIMEDOUT
};

// ngx_resolver_strerror: "Host not found", "Operation timed out", ...
std::string resolveStateText(int state);
// "NAME could not be resolved (3: Host not found)", nginx's error line.
std::string notResolvedText(const std::string& name, int state);

// One SRV record with the addresses of its target.
struct SrvRecord {
  std::string target;
  std::uint16_t port = 0;
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::vector<common::SocketAddress> addrs;  // the target's A/AAAA answer (ports ignored)
};

// The name to look up for `server`: its host, or for service=NAME the SRV
// name "_NAME._tcp.HOST" ("NAME.HOST" when NAME starts with '_', as nginx).
std::string lookupName(const UpstreamServer& server);

// A/AAAA: one peer per address, at the server's port, weight and list.
std::vector<ResolvedPeer> peersFromAddresses(const UpstreamServer& server,
                                             const std::vector<common::SocketAddress>& addrs);
// SRV: one peer per address of every target, at the record's port; the
// records of the lowest priority are primary, the others backup; the weight
// is the record's unless the server sets one (weight != 1), and a record of
// weight 0 counts as 1.
std::vector<ResolvedPeer> peersFromSrv(const UpstreamServer& server,
                                       const std::vector<SrvRecord>& records);

// When to ask again after an answer: valid= wins over the TTL; nginx adds a
// second (valid - now + 1).
std::chrono::milliseconds answerLifetime(std::chrono::seconds ttl,
                                         std::optional<std::chrono::seconds> valid);
// After a failed lookup (not NXDOMAIN): max(resolver_timeout, 1s), as nginx.
std::chrono::milliseconds retryDelay(std::chrono::milliseconds resolver_timeout);

}  // namespace proxyd
