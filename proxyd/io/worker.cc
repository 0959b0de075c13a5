#include "proxyd/io/worker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/sys_error.h"
#include "proxyd/core/pass_address.h"
#include "proxyd/io/datagram_batch.h"
#include "proxyd/io/listener.h"
#include "proxyd/io/session.h"
#include "proxyd/io/udp_listener.h"
#include "proxyd/io/udp_session.h"

namespace proxyd {

namespace {
constexpr std::chrono::milliseconds kHeartbeat{250};
constexpr std::chrono::milliseconds kAcceptPause{500};  // nginx's pause on EMFILE/ENFILE
}  // namespace

std::unique_ptr<char[]> BufferPool::take(size_t size) {
  auto& list = free_[size];
  if (list.empty()) return std::make_unique_for_overwrite<char[]>(size);
  auto buf = std::move(list.back());
  list.pop_back();
  return buf;
}

void BufferPool::give(std::unique_ptr<char[]> buf, size_t size) {
  auto& list = free_[size];
  if (list.size() < keep_) list.push_back(std::move(buf));
}

Worker::Worker(std::size_t index, common::Log& log, const ProcessInfo& process,
               AccessLogLocks& access_log_locks)
    : index_(index), log_(log), process_(process), access_log_locks_(access_log_locks) {}

Worker::~Worker() {
  closeAllSessions();
  flushAccessLogs(true);
  // Listeners and events hold the loop: they go before it.
  listeners_.clear();
  udp_listeners_.clear();
  wake_event_.reset();
  heartbeat_.reset();
  resume_.reset();
  log_flush_.reset();
}

common::Result<void> Worker::init() {
  using R = common::Result<void>;
  event_config* ec = event_config_new();
  // Edge-triggered events and EV_CLOSED need epoll.
  event_config_require_features(ec, EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE);
  base_.reset(event_base_new_with_config(ec));
  event_config_free(ec);
  if (!base_) return R::fail("event_base_new() failed (epoll with EPOLLRDHUP is required)");
  wake_fd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd_) {
    return R::fail(fmt::format("eventfd() failed ({})", common::SysError::errnoText(errno)));
  }
  wake_event_.reset(event_new(base(), wake_fd_.get(), EV_READ | EV_PERSIST, onWake, this));
  heartbeat_.reset(event_new(base(), -1, EV_PERSIST, onHeartbeat, this));
  resume_.reset(evtimer_new(base(), onResume, this));
  log_flush_.reset(evtimer_new(base(), onLogFlush, this));
  if (!wake_event_ || !heartbeat_ || !resume_ || !log_flush_ ||
      event_add(wake_event_.get(), nullptr) != 0) {
    return R::fail("event_add() failed for a worker");
  }
  timeval tv = common::toTimeval(kHeartbeat);
  event_add(heartbeat_.get(), &tv);
  stamp();
  return {};
}

void Worker::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks_.push_back(std::move(task));
  }
  std::uint64_t one = 1;
  ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
  (void)n;  // EAGAIN: the counter is already non-zero, the loop will wake
}

void Worker::onWake(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  std::uint64_t n;
  while (::read(fd, &n, sizeof n) > 0) {
  }
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(self->tasks_mu_);
    tasks.swap(self->tasks_);
  }
  for (auto& task : tasks) task();
}

void Worker::stamp() {
  counters_.heartbeat_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count(),
                               std::memory_order_relaxed);
}

// The loop's pulse: the status page's GET / fails when a worker has not
// stamped for kWorkerStallSeconds. While draining it also ends the loop
// once the last session is gone.
void Worker::onHeartbeat(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  self->stamp();
  if (self->draining_ && self->activeSessions() == 0) self->stop();
}

void Worker::applyListeners(std::vector<ListenerPlan> plan) {
  std::vector<std::unique_ptr<Listener>> next;
  std::vector<std::unique_ptr<UdpListener>> next_udp;
  for (ListenerPlan& p : plan) {
    if (p.udp) {
      if (auto l = takeUdpListener(p)) next_udp.push_back(std::move(l));
      continue;
    }
    std::unique_ptr<Listener> l;
    if (p.fd) {
      l = std::make_unique<Listener>(*this, p.servers, std::move(p.fd), p.addr);
      if (auto r = l->enable(); !r) {
        log_.alert("{}", r.error());
        continue;
      }
      if (accept_paused_) l->disable();
    } else {
      for (auto& old : listeners_) {
        if (old && old->address() == p.addr) {
          l = std::move(old);
          break;
        }
      }
      if (!l) {
        log_.alert("worker {}: no listening socket to keep for {}", index_, p.addr.toString());
        continue;
      }
      l->setServers(p.servers);
    }
    next.push_back(std::move(l));
  }
  // What is left in listeners_ was removed from the configuration.
  listeners_ = std::move(next);
  udp_listeners_ = std::move(next_udp);
}

// The UDP socket of a plan: a new one, or the one this worker has for the
// address (its sessions go on either way: they share the socket).
std::unique_ptr<UdpListener> Worker::takeUdpListener(ListenerPlan& p) {
  std::unique_ptr<UdpListener> l;
  if (p.fd) {
    l = std::make_unique<UdpListener>(*this, p.servers, std::move(p.fd), p.addr);
    if (auto r = l->enable(); !r) {
      log_.alert("{}", r.error());
      return nullptr;
    }
    if (accept_paused_) l->disable();
    return l;
  }
  for (auto& old : udp_listeners_) {
    if (old && old->address() == p.addr) {
      old->setServers(p.servers);
      return std::move(old);
    }
  }
  log_.alert("worker {}: no UDP socket to keep for {}", index_, p.addr.toString());
  return nullptr;
}

bool Worker::admitSession() {
  if (connection_limit_ == 0 ||
      (activeSessions() + 1) * 2 <= static_cast<size_t>(connection_limit_)) {
    return true;
  }
  auto now = std::chrono::steady_clock::now();
  if (now - limit_logged_ >= std::chrono::seconds(1)) {
    limit_logged_ = now;
    log_.alert("{} worker_connections are not enough", connection_limit_);
  }
  return false;
}

void Worker::pauseAccepting(const std::string& cause) {
  if (accept_paused_) return;
  accept_paused_ = true;
  counters_.accept_pauses.add();
  log_.alert("{}, worker {} pauses accepting for {} ms", cause, index_, kAcceptPause.count());
  for (auto& l : listeners_) l->disable();
  for (auto& l : udp_listeners_) l->disable();
  timeval tv = common::toTimeval(kAcceptPause);
  evtimer_add(resume_.get(), &tv);
}

void Worker::onResume(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Worker*>(arg);
  self->accept_paused_ = false;
  if (self->draining_) return;
  for (auto& l : self->listeners_) {
    if (auto r = l->enable(); !r) self->log_.alert("{}", r.error());
  }
  for (auto& l : self->udp_listeners_) {
    if (auto r = l->enable(); !r) self->log_.alert("{}", r.error());
  }
}

void Worker::drain() {
  draining_ = true;
  listeners_.clear();
  udp_listeners_.clear();
  // nginx's UDP sessions do not outlive a graceful stop (ngx_stream_proxy_process
  // on ngx_exiting).
  while (!udp_sessions_.empty()) udp_sessions_.front().shutdown();
  if (sessions_.empty()) stop();
}

void Worker::stopNow() {
  listeners_.clear();
  udp_listeners_.clear();
  closeAllSessions();
  stop();
}

void Worker::stop() {
  running_ = false;
  event_base_loopbreak(base());
}

AccessLog* Worker::accessLog(const AccessLogTarget& target) {
  const std::string& path = target.path;
  auto it = access_logs_.find(path);
  if (it != access_logs_.end()) {
    // Sessions of a block from before a reload may still end with the old options.
    it->second->setBuffering(target.buffering);
    return it->second.get();
  }
  auto log =
      std::make_unique<AccessLog>(path, clock_, access_log_locks_.forPath(path), target.buffering);
  if (auto r = log->open(); !r) {
    log_.alert("{}", r.error());
    return nullptr;
  }
  return access_logs_.emplace(path, std::move(log)).first->second.get();
}

void Worker::flushAccessLogs(bool all) {
  std::uint64_t lost = 0;
  std::optional<common::TimePoint> next;
  for (auto& [path, log] : access_logs_) {
    lost += all ? log->flushAll(log_) : log->flush(log_);
    if (auto d = log->deadline(); d && (!next || *d < *next)) next = d;
  }
  if (lost != 0) counters_.access_log_lost_lines.add(lost);
  if (next && log_flush_) {
    auto wait = std::chrono::duration_cast<std::chrono::microseconds>(*next - clock_.now());
    if (wait.count() < 0) wait = std::chrono::microseconds(0);
    timeval tv{static_cast<time_t>(wait.count() / 1000000),
               static_cast<suseconds_t>(wait.count() % 1000000)};
    evtimer_add(log_flush_.get(), &tv);
  }
}

void Worker::onLogFlush(evutil_socket_t, short, void*) {
  // Nothing to do here: the pass this wakes ends with flushAccessLogs().
}

void Worker::reopenLogs() {
  for (auto& [path, log] : access_logs_) {
    std::uint64_t lost = 0;
    if (auto r = log->reopen(log_, lost); !r) log_.alert("{}", r.error());
    if (lost != 0) counters_.access_log_lost_lines.add(lost);
  }
}

void Worker::sendAccessSyslog(const SyslogTarget& target, std::string_view line,
                              common::Log& errors) {
  auto& sender = syslog_senders_[target.text];
  if (!sender) sender = std::make_unique<SyslogSender>(target, process_.hostname, clock_);
  if (!sender->send(target.severity, line)) counters_.access_log_lost_lines.add(1);
  // nginx warns "send() to syslog failed" for each line; once a minute says
  // the same without flooding the error log while the server is down.
  if (auto report = sender->lossReport()) errors.warn("{}", *report);
}

DnsClient* Worker::dnsClient(const ResolverSettings& settings) {
  for (auto& [known, client] : dns_clients_) {
    if (known.resolver == settings.resolver && known.timeout == settings.timeout) {
      return client.get();
    }
  }
  if (!settings.resolver) return nullptr;
  auto client = DnsClient::create(base_.get(), *settings.resolver, settings.timeout);
  if (!client) {
    log_.alert("{}", client.error());
    return nullptr;
  }
  dns_clients_.emplace_back(settings, std::move(*client));
  return dns_clients_.back().second.get();
}

char* Worker::scratch(size_t size) {
  if (scratch_.size() < size) scratch_.resize(size);
  return scratch_.data();
}

Session& Worker::openSession(const std::shared_ptr<const VirtualServers>& servers,
                             common::UniqueFd client, const common::SocketAddress& remote,
                             const common::SocketAddress& local) {
  // The list node is the session's one allocation, as make_unique was.
  sessions_.emplace_front(*this, servers, std::move(client), remote, local);
  Session& s = sessions_.front();
  s.self_ = sessions_.begin();
  counters_.active.add();
  return s;
}

std::shared_ptr<const VirtualServers> Worker::passTarget(const common::SocketAddress& addr) const {
  for (const auto& l : listeners_) {
    if (l && passMatches(l->address(), addr)) return l->servers();
  }
  return nullptr;
}

void Worker::destroy(Session& s) {
  counters_.active.sub();
  sessions_.erase(s.self_);  // destroys the session
}

void Worker::closeAllSessions() {
  while (!sessions_.empty()) sessions_.front().abort();
  while (!udp_sessions_.empty()) udp_sessions_.front().abort();
}

UdpSession& Worker::openUdpSession(std::shared_ptr<const ServerBlock> block,
                                   std::shared_ptr<UdpEndpoint> endpoint,
                                   const common::SocketAddress& client,
                                   const common::SocketAddress& local) {
  udp_sessions_.emplace_front(*this, std::move(block), std::move(endpoint), client, local);
  UdpSession& s = udp_sessions_.front();
  s.self_ = udp_sessions_.begin();
  counters_.active.add();
  counters_.udp_sessions.add();
  return s;
}

void Worker::destroy(UdpSession& s) {
  counters_.active.sub();
  counters_.udp_sessions.sub();
  udp_sessions_.erase(s.self_);
}

DatagramBatch& Worker::datagrams() {
  if (!datagrams_) datagrams_ = std::make_unique<DatagramBatch>();
  return *datagrams_;
}

void Worker::run() {
  running_ = true;
  while (running_) {
    int rc = event_base_loop(base(), EVLOOP_ONCE);
    flushAccessLogs();
    if (rc != 0) break;  // -1 error, 1 no events registered
  }
  flushAccessLogs(true);
}

}  // namespace proxyd
