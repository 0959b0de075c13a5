// Live counters of the proxy, kept where they are counted and read by the
// status page (which runs on the control loop, not on the workers).
//
// Every counter has exactly one writer: a worker thread writes only its own
// slot, so an increment is a relaxed load and store (a plain `mov` on x86,
// no locked instruction), and the reader sums the slots with relaxed loads.
// Sums are therefore not a single instant's picture, which Prometheus and
// stub_status tolerate (nginx's own counters are read the same way).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace proxyd {

// A counter written by one thread and read by others.
class Counter {
 public:
  void add(std::uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, relaxed); }
  void sub(std::uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) - n, relaxed); }
  std::uint64_t get() const { return v_.load(relaxed); }

 private:
  static constexpr auto relaxed = std::memory_order_relaxed;
  std::atomic<std::uint64_t> v_{0};
};

// The upper bounds (seconds) of the upstream connect-time histogram.
inline constexpr std::array<double, 12> kConnectTimeBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

// The nginx stream $status codes a session can end with.
inline constexpr std::array<int, 6> kSessionStatuses = {200, 400, 403, 500, 502, 503};

inline std::size_t statusIndex(int status) {
  for (std::size_t i = 0; i < kSessionStatuses.size(); ++i) {
    if (kSessionStatuses[i] == status) return i;
  }
  return 4;  // anything else is counted as 502
}

// One worker's counters of one [server] block.
struct alignas(64) ServerCounters {
  Counter active;
  Counter total;
  std::array<Counter, kSessionStatuses.size()> by_status;
  Counter client_received;    // bytes from clients
  Counter client_sent;        // bytes to clients
  Counter upstream_sent;      // bytes to upstreams
  Counter upstream_received;  // bytes from upstreams
  Counter connect_failures;   // tries that could not connect
  // Connect times: one counter per bucket (not cumulative), plus the
  // overflow, the count and the sum in microseconds.
  std::array<Counter, kConnectTimeBuckets.size() + 1> connect_buckets;
  Counter connect_count;
  Counter connect_sum_us;

  void observeConnect(std::chrono::nanoseconds d) {
    double s = std::chrono::duration<double>(d).count();
    std::size_t i = 0;
    while (i < kConnectTimeBuckets.size() && s > kConnectTimeBuckets[i]) ++i;
    connect_buckets[i].add();
    connect_count.add();
    connect_sum_us.add(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
  }
};

// The counters of one [server] block, one slot per worker. Kept by name
// across reloads, so a reload does not reset them.
class ServerStats {
 public:
  explicit ServerStats(std::size_t workers) : slots_(std::make_unique<ServerCounters[]>(workers)) {}
  ServerCounters& slot(std::size_t worker) { return slots_[worker]; }
  const ServerCounters& slot(std::size_t worker) const { return slots_[worker]; }

 private:
  std::unique_ptr<ServerCounters[]> slots_;
};

// One worker's own counters.
struct alignas(64) WorkerCounters {
  Counter accepted;       // stub_status "accepts"
  Counter handled;        // stub_status "handled": accepted and not refused for worker_connections
  Counter active;         // sessions running now
  Counter accept_pauses;  // EMFILE/ENFILE pauses
  Counter access_log_lost_lines;  // lines a full disk (or any write error) kept out
  Counter udp_sessions;           // UDP sessions running now (also in `active`)
  Counter udp_dropped;            // datagrams dropped: a full socket, no room for a session
  // Monotonic time (ns since the clock's epoch) of the worker's last
  // heartbeat: the status page's GET / proves every loop alive with it.
  std::atomic<std::int64_t> heartbeat_ns{0};
};

// The last connect error of each peer of a group, for the status page
// ("last error"). Written only when a try fails, so a mutex is fine.
class PeerErrors {
 public:
  struct Entry {
    std::string text;
    std::chrono::system_clock::time_point when;
  };
  void record(const std::string& addr, std::string text) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_[addr] = Entry{std::move(text), std::chrono::system_clock::now()};
  }
  std::optional<Entry> get(const std::string& addr) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = errors_.find(addr);
    if (it == errors_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Entry> errors_;
};

}  // namespace proxyd
