// The running proxy. The main thread runs the control loop: signals (DESIGN.md:
// HUP reload, QUIT graceful stop, TERM/INT fast stop, USR1 reopen logs), the
// status page and the active health checks. `worker_processes` worker threads
// each run their own loop with their own SO_REUSEPORT listening sockets and
// sessions (worker.h); upstream groups are shared by all of them (they are
// internally locked), as are the counters' owners.
//
// A reload builds the new configuration on the control thread and hands each
// worker its new listener set: sockets whose address is unchanged are kept
// (same descriptor, so connections queued on them survive), new ones are
// opened before anything changes (a bind error rejects the reload), removed
// ones closed. Running sessions keep the ServerBlock (and so the upstream
// group, timeouts and logs) they were accepted with.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "common/result.h"
#include "proxyd/core/config.h"
#include "proxyd/core/reload_plan.h"
#include "proxyd/core/server_block.h"
#include "proxyd/core/stats.h"
#include "proxyd/io/health_checker.h"
#include "proxyd/io/status_page.h"
#include "proxyd/io/unix_socket_file.h"
#include "proxyd/io/upstream_resolver.h"
#include "proxyd/io/worker.h"

namespace proxyd {

// An upstream group of a loaded configuration with what belongs to it.
struct GroupRuntime {
  UpstreamSection section;
  std::shared_ptr<UpstreamGroup> group;
  std::shared_ptr<PeerErrors> errors;
};

// One configuration made ready to run.
struct Generation {
  ProxyConfig cfg;
  std::vector<GroupRuntime> groups;
  std::vector<std::shared_ptr<const ServerBlock>> blocks;
  // Every listening address with the [server]s on it (serversByAddress order).
  struct Listening {
    common::SocketAddress addr;
    bool udp = false;  // `listen ... udp`
    std::shared_ptr<const VirtualServers> servers;
  };
  std::vector<Listening> addresses;
  // limit_conn_zone, in [main]'s order; a reload takes over the unchanged ones.
  std::vector<std::shared_ptr<LimitConnZone>> zones;
};

// Builds the ready-to-run form of `cfg`. A group the plan keeps (`groups`,
// reload_plan.h: same section) is taken over from `previous` with its live
// state (failures, connections, health); others start fresh. Counters
// of [server] blocks are kept by name in `stats`. Errors (a log that cannot
// be opened) are values.
common::Result<std::unique_ptr<Generation>> buildGeneration(
    const ProxyConfig& cfg, const std::shared_ptr<common::Log>& main_log,
    const Generation* previous, const std::vector<GroupStep>& groups,
    std::map<std::string, std::shared_ptr<ServerStats>>& stats, std::size_t workers);

class Proxy {
 public:
  Proxy(ProxyConfig cfg, std::shared_ptr<common::Log> log, ProcessInfo process);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Opens everything; an address in use or a log that cannot be opened is
  // an error (exit 2).
  common::Result<void> start();
  // Runs until stopped by a signal; returns the exit code.
  int run();

  // The counters and states the status page renders (control thread).
  StatsSnapshot snapshot() const;

 private:
  ProcessSnapshot processSnapshot(std::chrono::system_clock::time_point wall) const;
  static void onSignal(evutil_socket_t sig, short, void* arg);
  static void onStopCheck(evutil_socket_t, short, void* arg);
  static void onShutdownTimeout(evutil_socket_t, short, void* arg);

  // What a reload has made ready before anything running changes.
  struct Staged {
    std::unique_ptr<Generation> gen;
    std::map<std::string, std::vector<common::UniqueFd>> fds;  // the addresses that start
    std::map<std::string, UnixSocketFile> files;               // their UNIX socket files
    bool status_kept = false;                                  // the page goes on, new rules
    std::unique_ptr<StatusPage> status;                        // else the new page, if any
    std::vector<std::unique_ptr<HealthChecker>> checkers;      // for groups without one
    std::unique_ptr<UpstreamResolver> resolver;                // its `resolve` servers
  };
  void reload();
  std::optional<ProxyConfig> loadForReload();
  common::Result<Staged> stage(const ProxyConfig& cfg, const ReloadPlan& plan);
  void takeOverHealthChecks(Staged& st);
  void applyMain(const MainSection& main, const ReloadPlan& plan);
  void commit(const ReloadPlan& plan, Staged st);
  void rejectReload(const std::vector<std::string>& errors);
  // Opens one socket per worker for every listening address the plan starts
  // (a UNIX one is a single socket, shared); the files of UNIX ones go to `files`.
  common::Result<std::map<std::string, std::vector<common::UniqueFd>>> openNewSockets(
      const std::vector<ListenStep>& listeners, std::map<std::string, UnixSocketFile>& files);
  // Hands every worker its listener set for `gen`.
  void deploy(const Generation& gen, std::map<std::string, std::vector<common::UniqueFd>> fds);
  common::Result<std::unique_ptr<StatusPage>> openStatusPage(const StatusSection& cfg);
  common::Result<std::vector<std::unique_ptr<HealthChecker>>> healthChecksFor(
      const Generation& gen);
  common::Result<std::unique_ptr<UpstreamResolver>> resolverFor(const Generation& gen);
  void applyRlimit(int nofile);
  void gracefulStop();
  void fastStop();
  void watchStop();
  std::string summary() const;

  std::shared_ptr<common::Log> log_;
  ProcessInfo process_;
  ProxyConfig initial_cfg_;
  common::EventBasePtr base_;        // the control loop
  AccessLogLocks access_log_locks_;  // before workers_: outlives them
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::unique_ptr<std::atomic<bool>[]> finished_;
  std::unique_ptr<Generation> current_;
  std::vector<common::SocketAddress> listening_;  // addresses the workers listen on
  // The UNIX listeners' socket files, removed when they stop and at exit.
  std::map<std::string, UnixSocketFile> socket_files_;
  std::map<std::string, std::shared_ptr<ServerStats>> server_stats_;
  StatusPageStats status_stats_;  // before status_: the page counts into it
  std::unique_ptr<StatusPage> status_;
  std::vector<std::unique_ptr<HealthChecker>> health_checkers_;
  std::unique_ptr<UpstreamResolver> upstream_resolver_;  // the current generation's
  std::vector<common::EventPtr> signals_;
  common::EventPtr stop_check_;
  common::EventPtr shutdown_timer_;
  bool stopping_ = false;

  // Process information for /status.
  std::chrono::system_clock::time_point started_;
  std::uint64_t generation_ = 1;
  std::uint64_t reloads_ok_ = 0;
  std::uint64_t reloads_failed_ = 0;
  std::optional<std::chrono::system_clock::time_point> last_reload_;
  bool last_reload_ok_ = true;
  std::vector<std::string> last_reload_errors_;
};

}  // namespace proxyd
