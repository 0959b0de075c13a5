// The status page's answers as pure functions of a stats snapshot, so that
// every endpoint is tested without a socket (STYLE.md): GET / (liveness of
// every worker loop), /stub_status (nginx's format, byte for byte), /status
// (JSON), /metrics (Prometheus text) and /ready.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/clock.h"
#include "proxyd/core/config.h"
#include "proxyd/core/stats.h"
#include "proxyd/core/upstream_group.h"

namespace proxyd {

struct PeerSnapshot {
  std::string server;  // as written in the config
  std::string addr;    // the resolved address
  bool backup = false;
  // "up", "failed" (max_fails reached, until failed_until), "down" (marked
  // in the config) or "unhealthy" (failing its active health check).
  std::string state = "up";
  std::optional<double> failed_until;  // Unix time, state "failed" only
  int weight = 1;
  int fails = 0;
  int max_fails = 1;
  int active = 0;
  int max_conns = 0;
  std::uint64_t selected = 0;
  std::uint64_t failures = 0;
  std::optional<std::string> last_error;
  std::optional<double> last_error_time;  // Unix time
  bool usable() const { return state == "up"; }
};

struct GroupSnapshot {
  std::string name;
  std::string method;
  std::vector<PeerSnapshot> peers;
  int usable() const;
};

struct ServerSnapshot {
  std::string name;
  std::vector<std::string> listen;
  std::uint64_t active = 0;
  std::uint64_t total = 0;
  std::array<std::uint64_t, kSessionStatuses.size()> by_status{};
  std::uint64_t client_received = 0;
  std::uint64_t client_sent = 0;
  std::uint64_t upstream_sent = 0;
  std::uint64_t upstream_received = 0;
  std::uint64_t connect_failures = 0;
  std::array<std::uint64_t, kConnectTimeBuckets.size() + 1> connect_buckets{};
  std::uint64_t connect_count = 0;
  std::uint64_t connect_sum_us = 0;
};

struct WorkerSnapshot {
  std::uint64_t accepted = 0;
  std::uint64_t handled = 0;
  std::uint64_t active = 0;
  std::uint64_t accept_pauses = 0;
  std::uint64_t access_log_lost_lines = 0;
  std::uint64_t udp_sessions = 0;  // UDP sessions now (also in `active`)
  std::uint64_t udp_dropped = 0;   // datagrams dropped (full socket, no room for a session)
  double heartbeat_age = 0;        // seconds since the worker's loop last ran its heartbeat
};

struct ProcessSnapshot {
  std::string version;
  std::string hostname;
  int pid = 0;
  double start_time = 0;  // Unix time
  double now = 0;         // Unix time
  std::string config_path;
  std::uint64_t generation = 1;  // 1 at start, +1 per applied reload
  std::uint64_t reloads_ok = 0;
  std::uint64_t reloads_failed = 0;
  std::optional<double> last_reload_time;
  bool last_reload_ok = true;
  std::vector<std::string> last_reload_errors;  // FILE:LINE: error: ...
  int worker_connections = 0;
  std::uint64_t rlimit_nofile = 0;
  int open_fds = -1;  // -1: unknown
};

// The status page's own connections (status_page.h), counted on the
// control thread and kept across reloads.
struct StatusPageStats {
  std::uint64_t active = 0;     // open now
  std::uint64_t accepted = 0;   // from allowed addresses
  std::uint64_t denied = 0;     // closed at accept by allow/deny, nothing read
  std::uint64_t shed = 0;       // closed to admit a newer one beyond the cap
  std::uint64_t timed_out = 0;  // closed unanswered at the request deadline
  std::uint64_t refused = 0;    // oversized or malformed requests (4xx/5xx answered)
};

struct StatsSnapshot {
  ProcessSnapshot process;
  StatusPageStats status_page;
  std::vector<WorkerSnapshot> workers;
  std::vector<ServerSnapshot> servers;
  std::vector<GroupSnapshot> groups;
};

// A worker whose heartbeat is older than this makes GET / answer 503.
inline constexpr double kWorkerStallSeconds = 2.0;

// The state of `peer` at `now`, with nginx's failure test (fails >=
// max_fails within fail_timeout of the last check). `wall_now` converts
// the monotonic end of the failure window into wall time for display.
PeerSnapshot describePeer(const Peer& peer, common::TimePoint now,
                          std::chrono::system_clock::time_point wall_now);

std::string balanceMethodName(BalanceMethod method);

struct StatusReply {
  int code = 200;
  std::string reason = "OK";
  std::string content_type = "text/plain";
  std::string body;
  bool allow_header = false;  // 405: "Allow: GET, HEAD"
};

// The access list and the method: a 403 or 405 answer, or nothing when the
// request may go on. `method` is "GET", "HEAD" or anything else.
std::optional<StatusReply> admitStatusRequest(const std::string& method,
                                              const common::SocketAddress& client,
                                              const std::vector<AccessRule>& rules);

// The answer for `path` (query already removed).
StatusReply renderEndpoint(const std::string& path, const StatsSnapshot& snap);

StatusReply renderRoot(const StatsSnapshot& snap);
StatusReply renderReady(const StatsSnapshot& snap);
std::string renderStubStatus(const StatsSnapshot& snap);
std::string renderStatusJson(const StatsSnapshot& snap);
std::string renderMetrics(const StatsSnapshot& snap);

// "2026-11-26T15:34:08.123Z".
std::string formatUnixTime(double unix_seconds);

}  // namespace proxyd
