#include "proxyd/core/dns_answer.h"

#include <fmt/format.h>

#include <algorithm>

namespace proxyd {

std::string resolveStateText(int state) {
  switch (state) {
    case kResolveFormErr:
      return "Format error";
    case kResolveServFail:
      return "Server failure";
    case kResolveNxDomain:
      return "Host not found";
    case kResolveNotImp:
      return "Unimplemented";
    case kResolveRefused:
      return "Operation refused";
    case kResolveTimedOut:
      return "Operation timed out";
    default:
      return "Unknown error";
  }
}

std::string notResolvedText(const std::string& name, int state) {
  return fmt::format("{} could not be resolved ({}: {})", name, state, resolveStateText(state));
}

std::string lookupName(const UpstreamServer& server) {
  if (server.service.empty()) return server.host;
  if (server.service.front() == '_') return server.service + "." + server.host;
  return "_" + server.service + "._tcp." + server.host;
}

std::vector<ResolvedPeer> peersFromAddresses(const UpstreamServer& server,
                                             const std::vector<common::SocketAddress>& addrs) {
  std::vector<ResolvedPeer> peers;
  for (common::SocketAddress addr : addrs) {
    addr.setPort(server.port);
    // The same address twice in an answer is one peer.
    bool seen = std::any_of(peers.begin(), peers.end(),
                            [&](const ResolvedPeer& p) { return p.addr == addr; });
    if (!seen) peers.push_back({addr, server.name, server.weight, server.backup});
  }
  return peers;
}

std::vector<ResolvedPeer> peersFromSrv(const UpstreamServer& server,
                                       const std::vector<SrvRecord>& records) {
  std::uint16_t min_priority = 65535;
  for (const SrvRecord& r : records) {
    if (!r.addrs.empty()) min_priority = std::min(min_priority, r.priority);
  }
  std::vector<ResolvedPeer> peers;
  for (const SrvRecord& r : records) {
    int weight = server.weight != 1 ? server.weight : std::max<int>(r.weight, 1);
    bool backup = server.backup || r.priority != min_priority;
    for (common::SocketAddress addr : r.addrs) {
      addr.setPort(r.port);
      bool seen = std::any_of(peers.begin(), peers.end(), [&](const ResolvedPeer& p) {
        return p.addr == addr && p.name == r.target;
      });
      if (!seen) peers.push_back({addr, r.target, weight, backup});
    }
  }
  return peers;
}

std::chrono::milliseconds answerLifetime(std::chrono::seconds ttl,
                                         std::optional<std::chrono::seconds> valid) {
  std::chrono::seconds held = valid ? *valid : ttl;
  return std::chrono::duration_cast<std::chrono::milliseconds>(held + std::chrono::seconds(1));
}

std::chrono::milliseconds retryDelay(std::chrono::milliseconds resolver_timeout) {
  return std::max(resolver_timeout, std::chrono::milliseconds(1000));
}

}  // namespace proxyd
