#include "proxyd/io/udp_session.h"

#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

#include "common/sys_error.h"
#include "proxyd/io/datagram_batch.h"
#include "proxyd/io/session_end.h"
#include "proxyd/io/udp_listener.h"
#include "proxyd/io/worker.h"

namespace proxyd {

namespace {

common::TimePoint monoNow() {
  return std::chrono::steady_clock::now();
}

UdpLimits limitsOf(const ServerSection& s) {
  return UdpLimits{s.proxy_requests, s.proxy_responses};
}

}  // namespace

UdpSession::UdpSession(Worker& worker, std::shared_ptr<const ServerBlock> block,
                       std::shared_ptr<UdpEndpoint> endpoint, const common::SocketAddress& client,
                       const common::SocketAddress& local)
    : worker_(worker),
      block_(std::move(block)),
      endpoint_(std::move(endpoint)),
      counters_(&block_->stats->slot(worker.index())),
      exchange_(limitsOf(block_->section)),
      vars_(record_, worker.process(), block_->variables.get()) {
  record_.udp = true;
  record_.server_name = block_->server_name;
  record_.connection = worker_.nextConnectionNumber();
  record_.remote = client;
  record_.local = local.empty() ? endpoint_->addr : local;
  if (endpoint_->addr.isWildcard()) source_ = local;
  counters_->active.add();
  counters_->total.add();
  start_ = monoNow();
  last_activity_ = start_;
}

UdpSession::~UdpSession() {
  upstream_event_.reset();
  timer_.reset();
}

void UdpSession::start(std::string_view datagram) {
  timer_.reset(evtimer_new(worker_.base(), onTimer, this));
  if (!timer_) {
    logError(common::LogLevel::alert, "evtimer_new() failed");
    return finish(500);
  }
  exchange_.request(datagram.size());
  for (const SetCommand& set : block_->sets) vars_.assign(set.index, set.value.evaluate(vars_));
  if (!block_->allows(record_.remote)) {
    logError(common::LogLevel::error, "access forbidden by rule");
    return finish(403);
  }
  proceed(datagram);
}

void UdpSession::proceed(std::string_view datagram) {
  if (block_->return_text) return returnText();
  if (!chooseGroup()) return;
  std::string key;
  const std::optional<Template>* hash_key = &block_->hash_key;
  if (*hash_key) (*hash_key)->render(vars_, key);
  attempts_ = group()->begin(std::move(key), own_group_ ? 0 : block_->section.next_upstream_tries);
  connectNext(datagram);
}

// ngx_stream_return_module on a datagram listener: the text is one
// datagram to the client, and the session ends.
void UdpSession::returnText() {
  std::string text = block_->return_text->evaluate(vars_);
  ssize_t n = sendDatagram(endpoint_->fd.get(), text, record_.remote, source_);
  if (n >= 0) client_sent_ += static_cast<std::uint64_t>(n);
  finish(200);
}

// The block's group, or what proxy_pass $var names (proxy_pass_target.h).
bool UdpSession::chooseGroup() {
  if (!block_->pass_value) {
    group_ = block_->group.get();
    peer_errors_ = block_->peer_errors.get();
    return true;
  }
  PassTarget target = resolvePassTarget(block_->pass_value->evaluate(vars_), *block_->route_groups);
  if (target.kind == PassTarget::Kind::group) {
    group_ = target.group->group.get();
    peer_errors_ = target.group->peer_errors.get();
    return true;
  }
  if (target.kind == PassTarget::Kind::address) {
    UpstreamServer server;
    server.name = target.address.toString();
    server.addrs.push_back(target.address);
    own_group_ = std::make_unique<UpstreamGroup>(server.name, BalanceMethod::round_robin,
                                                 std::vector<UpstreamServer>{std::move(server)});
    return true;
  }
  logError(common::LogLevel::error, target.error);
  finish(500);
  return false;
}

// ngx_stream_proxy_connect for SOCK_DGRAM: connect() of a UDP socket is
// immediate, so only its own failure (no route, no descriptor) moves on to
// the next server.
void UdpSession::connectNext(std::string_view datagram) {
  for (;;) {
    common::TimePoint now = monoNow();
    peer_ = group()->choose(attempts_, now);
    UpstreamAttempt attempt;
    if (peer_ == nullptr) {
      attempt.addr = group()->name();
      attempt.session_time = common::Duration::zero();
      record_.upstreams.push_back(std::move(attempt));
      logError(common::LogLevel::error, "no live upstreams while connecting to upstream");
      return finish(502);
    }
    attempt.addr = peer_->addr_text;
    record_.upstreams.push_back(std::move(attempt));
    try_start_ = now;
    if (openUpstream()) break;
    if (ended_) return;
    const auto& sec = block_->section;
    bool out_of_time =
        sec.next_upstream_timeout.count() > 0 && now - start_ >= sec.next_upstream_timeout;
    if (attempts_.triesLeft() == 0 || !sec.next_upstream || out_of_time) return finish(502);
  }
  common::TimePoint now = monoNow();
  record_.upstreams.back().connect_time = now - try_start_;
  counters_->observeConnect(now - try_start_);
  group()->connected(attempts_);
  armTimer(block_->section.timeout);
  sendUpstream(datagram);
  checkDone();
}

// A connected datagram socket to the chosen peer with its read event; false
// after a failed try (released as failed, logged), or with the session
// ended (`ended_`) on an internal error.
bool UdpSession::openUpstream() {
  int fd = ::socket(peer_->addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && worker_.descriptorReserved(fd)) {
    ::close(fd);
    fd = -1;
    errno = EMFILE;
  }
  if (fd < 0) {
    int err = errno;
    group()->release(attempts_, false, monoNow());
    peer_ = nullptr;
    record_.upstreams.back().session_time = common::Duration::zero();
    logError(common::LogLevel::alert, common::SysError{"socket()", err}.message());
    finish(502);
    return false;
  }
  upstream_.reset(fd);
  if (::connect(fd, peer_->addr.sa(), peer_->addr.len()) != 0) {
    int err = errno;
    common::TimePoint now = monoNow();
    std::string reason = fmt::format("connect() failed ({})", common::SysError::errnoReason(err));
    logError(common::LogLevel::error, reason + " while connecting to upstream");
    counters_->connect_failures.add();
    record_.upstreams.back().session_time = now - try_start_;
    if (peer_errors_ != nullptr) peer_errors_->record(peer_->addr_text, std::move(reason));
    upstream_.reset();
    group()->release(attempts_, true, now);
    peer_ = nullptr;
    return false;
  }
  upstream_event_.reset(
      event_new(worker_.base(), fd, EV_READ | EV_PERSIST, onUpstreamReadable, this));
  if (!upstream_event_ || event_add(upstream_event_.get(), nullptr) != 0) {
    logError(common::LogLevel::alert, "event_add() failed");
    finish(500);
    return false;
  }
  return true;
}

void UdpSession::request(std::string_view datagram) {
  exchange_.request(datagram.size());
  last_activity_ = monoNow();
  sendUpstream(datagram);
  checkDone();
}

// One datagram to the upstream. A full socket buffer drops it (counted), as
// the network may; an error (an ICMP error of an earlier datagram) is
// nginx's write error: the try failed, the session ends with 200.
void UdpSession::sendUpstream(std::string_view datagram) {
  if (ended_ || !upstream_) return;
  ssize_t n;
  do {
    n = ::send(upstream_.get(), datagram.data(), datagram.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    upstream_sent_ += static_cast<std::uint64_t>(n);
    return;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
    worker_.counters().udp_dropped.add();
    return;
  }
  int err = errno;
  upstream_failed_ = true;
  logError(common::LogLevel::error, fmt::format("{} while proxying and sending to upstream",
                                                common::SysError{"send()", err}));
  finish(200);
}

void UdpSession::onUpstreamReadable(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<UdpSession*>(arg);
  s->readUpstream();
}

// One recvmmsg() batch from the upstream, passed on to the client with one
// sendmmsg() through the listening socket.
void UdpSession::readUpstream() {
  DatagramBatch& batch = worker_.datagrams();
  int n;
  do {
    n = ::recvmmsg(upstream_.get(), batch.forReceive(false), DatagramBatch::kCount, 0, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    return upstreamError(errno, "recv()");
  }
  if (record_.upstreams.back().first_byte_time == std::nullopt) {
    record_.upstreams.back().first_byte_time = monoNow() - try_start_;
  }
  last_activity_ = monoNow();
  for (int i = 0; i < n; ++i) exchange_.response(batch.msgs()[i].msg_len);
  int sent = ::sendmmsg(endpoint_->fd.get(), batch.forSend(n, record_.remote, source_),
                        static_cast<unsigned>(n), 0);
  for (int i = 0; i < std::max(sent, 0); ++i) client_sent_ += batch.msgs()[i].msg_len;
  // A full client-side socket buffer (or an error sending to the client)
  // drops the rest, counted.
  if (sent < n)
    worker_.counters().udp_dropped.add(static_cast<std::uint64_t>(n - std::max(sent, 0)));
  checkDone();
}

// An error on the connected socket, an ICMP error above all (ECONNREFUSED:
// nothing listens there). nginx logs it, marks the try failed, counts an
// empty "response" that it passes on to the client as an empty datagram, and
// reads the upstream no more; the session goes on to its usual end.
void UdpSession::upstreamError(int err, const char* what) {
  upstream_failed_ = true;
  logError(common::LogLevel::error,
           fmt::format("{} while proxying and reading from upstream", common::SysError{what, err}));
  upstream_event_.reset();
  exchange_.response(0);
  (void)sendDatagram(endpoint_->fd.get(), "", record_.remote, source_);
  checkDone();
}

// ngx_stream_proxy_test_finalize for SOCK_DGRAM.
void UdpSession::checkDone() {
  if (ended_) return;
  if (!exchange_.takesRequests()) leaveTable();
  if (!exchange_.done()) return;
  logInfoPlain("udp done");
  finish(200);
}

// The client's next datagram starts a session of its own (nginx's
// ngx_delete_udp_connection).
void UdpSession::leaveTable() {
  if (!in_table_) return;
  in_table_ = false;
  endpoint_->sessions.erase(record_.remote, this);
}

void UdpSession::onTimer(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<UdpSession*>(arg);
  common::Duration idle = monoNow() - s->last_activity_;
  common::Duration timeout = s->block_->section.timeout;
  if (idle < timeout) return s->armTimer(timeout - idle);
  s->onTimeout();
}

// proxy_timeout: a normal end when the responses are in (or not counted);
// else the upstream failed to answer.
void UdpSession::onTimeout() {
  if (exchange_.onTimeout() == UdpExchange::TimeoutEnd::timed_out) {
    logInfoPlain("udp timed out");
    return finish(200);
  }
  upstream_failed_ = true;
  logError(common::LogLevel::error, fmt::format("upstream timed out ({}) while proxying connection",
                                                common::SysError::errnoReason(ETIMEDOUT)));
  finish(502);
}

void UdpSession::shutdown() {
  if (block_->error_log->enabled(common::LogLevel::info)) {
    block_->error_log->write(common::LogLevel::info,
                             fmt::format("*{} disconnected on shutdown", record_.connection));
  }
  finish(200);
}

void UdpSession::armTimer(common::Duration d) {
  timeval tv = common::toTimeval(std::chrono::duration_cast<std::chrono::microseconds>(d));
  evtimer_add(timer_.get(), &tv);
}

void UdpSession::finish(int status) {
  if (ended_) return;
  ended_ = true;
  common::TimePoint now = monoNow();
  leaveTable();
  if (peer_ != nullptr) {
    UpstreamAttempt& a = record_.upstreams.back();
    a.bytes_sent = upstream_sent_;
    a.bytes_received = exchange_.responseBytes();
    a.session_time = now - try_start_;
    // nginx frees a UDP peer as failed when its socket saw an error or the
    // responses did not come in time (ngx_stream_proxy_finalize).
    group()->release(attempts_, upstream_failed_, now);
    peer_ = nullptr;
  }
  record_.status = status;
  record_.bytes_received = exchange_.requestBytes();
  record_.bytes_sent = client_sent_;
  record_.session_time = now - start_;
  recordSessionEnd(worker_, *block_, *counters_, record_, vars_, upstream_sent_,
                   exchange_.responseBytes());
  worker_.destroy(*this);
}

// nginx's context for a UDP session: "udp client:" in place of "client:".
void UdpSession::logError(common::LogLevel level, const std::string& what) {
  common::Log& log = *block_->error_log;
  if (!log.enabled(level)) return;
  std::string upstream = record_.upstreams.empty()
                             ? ""
                             : fmt::format(", upstream: \"{}\"", record_.upstreams.back().addr);
  log.write(level, fmt::format("*{} {}, udp client: {}, server: {}{}, bytes from/to client:{}/{}, "
                               "bytes from/to upstream:{}/{}",
                               record_.connection, what, record_.remote.hostText(),
                               block_->listen_text, upstream, exchange_.requestBytes(),
                               client_sent_, exchange_.responseBytes(), upstream_sent_));
}

// "udp done" / "udp timed out": nginx writes them without the context, with
// the packet counts.
void UdpSession::logInfoPlain(const char* what) {
  common::Log& log = *block_->error_log;
  if (!log.enabled(common::LogLevel::info)) return;
  log.write(common::LogLevel::info,
            fmt::format("*{} {}, packets from/to client:{}/{}, bytes from/to client:{}/{}, "
                        "bytes from/to upstream:{}/{}",
                        record_.connection, what, exchange_.requests(), exchange_.responses(),
                        exchange_.requestBytes(), client_sent_, exchange_.responseBytes(),
                        upstream_sent_));
}

}  // namespace proxyd
