// One worker thread: its event loop and everything that runs on it — its
// own SO_REUSEPORT listening sockets, sessions, the access-log buffers, the
// receive scratch buffer that sessions share, and its counters.
//
// Other threads talk to a worker only through post(), which queues a task
// and wakes the loop through an eventfd; everything else is touched on the
// worker's own thread.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/clock.h"
#include "common/event.h"
#include "common/log.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "proxyd/core/log_format.h"
#include "proxyd/core/server_block.h"
#include "proxyd/core/stats.h"
#include "proxyd/core/virtual_servers.h"
#include "proxyd/io/access_log.h"
#include "proxyd/io/dns_client.h"
#include "proxyd/io/syslog_sender.h"

namespace proxyd {

class Listener;
class Session;
class UdpListener;
class UdpSession;
class DatagramBatch;
struct UdpEndpoint;

// Direction buffers are taken only while data is held back by a slow
// receiver, and given back when it drains, so an idle session holds none.
class BufferPool {
 public:
  explicit BufferPool(size_t keep = 256) : keep_(keep) {}
  std::unique_ptr<char[]> take(size_t size);
  void give(std::unique_ptr<char[]> buf, size_t size);

 private:
  size_t keep_;
  std::map<size_t, std::vector<std::unique_ptr<char[]>>> free_;
};

// One listening address of a worker after a (re)load: `fd` is a socket
// opened for it, or invalid to keep the worker's socket for `addr`.
struct ListenerPlan {
  common::SocketAddress addr;
  std::shared_ptr<const VirtualServers> servers;
  common::UniqueFd fd;
  bool udp = false;  // `listen ... udp`: a datagram socket (udp_listener.h)
};

class Worker {
 public:
  Worker(std::size_t index, common::Log& log, const ProcessInfo& process,
         AccessLogLocks& access_log_locks);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Creates the loop (epoll, edge-triggered), the wake-up eventfd and the
  // heartbeat timer.
  common::Result<void> init();

  std::size_t index() const { return index_; }
  event_base* base() const { return base_.get(); }
  common::Log& log() { return log_; }
  const ProcessInfo& process() const { return process_; }
  WorkerCounters& counters() { return counters_; }
  const WorkerCounters& counters() const { return counters_; }

  // Any thread: runs `task` on the worker's loop, in posting order.
  void post(std::function<void()> task);

  // --- the rest runs on the worker's thread ---

  // Replaces the listening sockets: plans with a fd open new listeners,
  // the others keep the socket already listening on their address (so
  // connections queued on it survive a reload); sockets not in the plan
  // are closed.
  void applyListeners(std::vector<ListenerPlan> plan);
  // nginx's worker_connections: each session counts two connections
  // (client and upstream).
  void setConnectionLimit(int worker_connections) { connection_limit_ = worker_connections; }
  // Whether one more session fits in worker_connections; logs when not.
  bool admitSession();
  // EMFILE/ENFILE: stops accepting on every listener of this worker for
  // 500 ms (nginx's ngx_event_accept), logged once per pause with `cause`.
  void pauseAccepting(const std::string& cause);
  // Descriptors from `ceiling` up are kept for the control thread
  // (status_http.h, kControlReservedFds); 0: none.
  void setDescriptorCeiling(int ceiling) { fd_ceiling_ = ceiling; }
  int descriptorCeiling() const { return fd_ceiling_; }
  // Whether a session may not keep `fd`: the kernel hands out the lowest
  // free number, so a descriptor at the ceiling means every one below is in
  // use, and the session is treated as if the call had failed with EMFILE.
  bool descriptorReserved(int fd) const { return fd_ceiling_ > 0 && fd >= fd_ceiling_; }

  // Graceful stop (QUIT): closes the listeners, stops the loop when the
  // last session has ended.
  void drain();
  // Fast stop: ends every session and stops the loop.
  void stopNow();

  // The access log for the target's path, opened on first use (one per
  // path per worker, with the target's buffer= options).
  AccessLog* accessLog(const AccessLogTarget& target);
  // Writes what is due (all of it with `all`: at exit) and arms the timer
  // for the next flush= deadline.
  void flushAccessLogs(bool all = false);
  void reopenLogs();
  // access_log = syslog:...: sends one line at once (nginx cannot buffer
  // syslog lines either); a lost line is counted as an access-log line lost
  // and `errors` hears of losses at most once a minute.
  void sendAccessSyslog(const SyslogTarget& target, std::string_view line, common::Log& errors);

  std::uint64_t nextConnectionNumber() { return ++connections_; }

  // Scratch space for one recv(); data that cannot be sent on at once is
  // copied into a pooled per-direction buffer.
  char* scratch(size_t size);
  BufferPool& buffers() { return buffers_; }

  // proxy_pass $var names: this worker's lookups for one [server]'s
  // resolver, made on first use (one per distinct resolver and timeout);
  // nullptr, logged, when c-ares cannot start.
  DnsClient* dnsClient(const ResolverSettings& settings);

  // Session ownership: the worker's list holds every session; a session
  // ends itself with destroy(), which erases its node.
  Session& openSession(const std::shared_ptr<const VirtualServers>& servers,
                       common::UniqueFd client, const common::SocketAddress& remote,
                       const common::SocketAddress& local);
  void destroy(Session& s);
  // `pass`: the [server]s of the TCP listener that takes a connection
  // passed to `addr` (pass_address.h), or none.
  std::shared_ptr<const VirtualServers> passTarget(const common::SocketAddress& addr) const;
  size_t activeSessions() const { return sessions_.size() + udp_sessions_.size(); }
  // UDP sessions (udp_session.h), owned here as the TCP ones.
  UdpSession& openUdpSession(std::shared_ptr<const ServerBlock> block,
                             std::shared_ptr<UdpEndpoint> endpoint,
                             const common::SocketAddress& client,
                             const common::SocketAddress& local);
  void destroy(UdpSession& s);
  // The recvmmsg()/sendmmsg() room of this worker's UDP sockets.
  DatagramBatch& datagrams();
  // Ends every session at once (fast stop).
  void closeAllSessions();

  // Runs the loop until stopped; flushes the access logs after every pass.
  void run();

 private:
  static void onWake(evutil_socket_t fd, short, void* arg);
  static void onHeartbeat(evutil_socket_t, short, void* arg);
  static void onResume(evutil_socket_t, short, void* arg);
  static void onLogFlush(evutil_socket_t, short, void* arg);
  void stamp();
  void stop();
  std::unique_ptr<UdpListener> takeUdpListener(ListenerPlan& p);

  std::size_t index_;
  common::Log& log_;
  ProcessInfo process_;
  AccessLogLocks& access_log_locks_;
  common::MonotonicClock clock_;
  WorkerCounters counters_;
  common::EventBasePtr base_;
  common::UniqueFd wake_fd_;
  common::EventPtr wake_event_;
  common::EventPtr heartbeat_;
  common::EventPtr resume_;
  common::EventPtr log_flush_;  // wakes the loop at the next flush= deadline
  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<UdpListener>> udp_listeners_;
  std::unique_ptr<DatagramBatch> datagrams_;  // made by the first UDP listener's read
  bool accept_paused_ = false;
  int connection_limit_ = 0;  // 0: no limit
  int fd_ceiling_ = 0;        // 0: none
  std::chrono::steady_clock::time_point limit_logged_{};
  std::map<std::string, std::unique_ptr<AccessLog>> access_logs_;
  std::map<std::string, std::unique_ptr<SyslogSender>> syslog_senders_;  // by target text
  std::vector<char> scratch_;
  BufferPool buffers_;
  std::vector<std::pair<ResolverSettings, std::unique_ptr<DnsClient>>> dns_clients_;
  // Declared after base_ so that sessions (and their events) go first.
  std::list<Session> sessions_;
  std::list<UdpSession> udp_sessions_;
  std::uint64_t connections_ = 0;
  bool running_ = false;
  bool draining_ = false;
};

}  // namespace proxyd
