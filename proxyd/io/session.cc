#include "proxyd/io/session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/duration.h"
#include "common/sys_error.h"
#include "proxyd/core/pass_address.h"
#include "proxyd/io/session_end.h"
#include "proxyd/io/tls_context.h"
#include "proxyd/io/upstream_socket.h"
#include "proxyd/io/worker.h"

namespace proxyd {

namespace {

constexpr short kSocketEvents = EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST;

common::TimePoint monoNow() {
  return std::chrono::steady_clock::now();
}

bool wouldBlock(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

}  // namespace

Session::Session(Worker& worker, const std::shared_ptr<const VirtualServers>& servers,
                 common::UniqueFd client, const common::SocketAddress& remote,
                 const common::SocketAddress& local)
    : worker_(worker),
      block_(servers->defaultBlock()),
      counters_(&block_->stats->slot(worker.index())),
      vars_(record_, worker.process(), block_->variables.get()) {
  // Only a session that may change [server] holds the address's set.
  if (block_->section.ssl_preread) vhosts_ = servers;
  expect_proxy_protocol_ = servers->proxy_protocol;
  ssl_listen_ = servers->ssl;
  record_.server_name = block_->server_name;
  client_.fd = std::move(client);
  counters_->active.add();
  counters_->total.add();
  start_ = monoNow();
  last_activity_ = start_;
  record_.connection = worker_.nextConnectionNumber();
  record_.remote = remote;
  record_.local = local;
}

Session::~Session() {
  // Events go before their sockets (member order would close first).
  client_.event.reset();
  upstream_.event.reset();
  timer_.reset();
  if (rates_) rates_->timer.reset();
}

void Session::start() {
  // ngx_event_accept's line (its "*N" is in the format there, as here).
  logDebug("accept: {} fd:{}", record_.remote.toString(), client_.fd.get());
  client_.event.reset(
      event_new(worker_.base(), client_.fd.get(), kSocketEvents, onClientEvent, this));
  timer_.reset(evtimer_new(worker_.base(), onTimer, this));
  if (!client_.event || !timer_ || event_add(client_.event.get(), nullptr) != 0) {
    logError(common::LogLevel::alert, "event_add() failed");
    finish(500);
    return;
  }
  if (expect_proxy_protocol_) return startProxyProtocol();
  postAccept();
}

// What follows the PROXY header (nginx's phases from post-accept on).
void Session::postAccept() {
  runSets();
  if (block_->limit_conn && !admitByLimits()) return;
  if (!block_->allows(record_.remote)) {
    // ngx_stream_access_module: logged at error, status 403, no upstream.
    logError(common::LogLevel::error, "access forbidden by rule");
    finish(403);
    return;
  }
  if (ssl_listen_ && !client_.tls) return startHandshake();
  if (block_->section.ssl_preread) return startPreread();
  proceed();
}

// nginx's ssl phase (ngx_stream_ssl_handler), after access and before
// preread: the handshake under ssl_handshake_timeout, then the client
// certificate check. A failure ends the session with 500.
void Session::startHandshake() {
  phase_ = Phase::handshaking;
  client_.tls = TlsStream::accept(block_->tls->ctx(), client_.fd.get());
  if (!client_.tls) {
    logError(common::LogLevel::alert, "SSL_new() failed" + takeOpenSslErrors());
    return finish(500);
  }
  armTimer(block_->section.ssl.handshake_timeout);
  continueHandshake();
}

void Session::continueHandshake() {
  switch (client_.tls->handshake()) {
    case TlsStream::Handshake::again:
      return;  // the next edge of the socket goes on
    case TlsStream::Handshake::failed:
      logError(client_.tls->errorLevel(), client_.tls->error() + " while SSL handshaking");
      return finish(500);
    case TlsStream::Handshake::done:
      break;
  }
  const TlsServerSettings& ssl = block_->section.ssl;
  record_.tls = std::make_shared<const TlsInfo>(describeTls(client_.tls->ssl(), ssl.verify_client));
  if (std::string why = checkClientCertificate(client_.tls->ssl(), ssl.verify_client);
      !why.empty()) {
    logError(common::LogLevel::info, why + " while SSL handshaking");
    return finish(500);
  }
  logDebug("SSL: {}, cipher: \"{}\"", record_.tls->protocol, record_.tls->cipher);
  // OpenSSL may already hold the client's first data: read on at once.
  client_.readable = true;
  client_.writable = true;
  // ssl_preread would find the decrypted stream, no ClientHello: declined.
  phase_ = Phase::connecting;
  proceed();
}

// nginx's preread phase (ngx_stream_core_preread_phase) with ssl_preread's
// handler, after the access phase as in nginx: allow/deny, preread_timeout
// and preread_buffer_size are the default [server]'s. The client is read
// with MSG_PEEK, as nginx does on epoll: what was read stays in the socket,
// so the relay later sends it to the upstream first and counts it.
void Session::startPreread() {
  phase_ = Phase::prereading;
  prereaded_ = true;
  armTimer(block_->section.preread_timeout);
  client_.readable = true;
  preread();
}

// What the client has sent so far, peeked (MSG_PEEK) into the scratch
// buffer, at most preread_buffer_size bytes.
ssize_t Session::peekClient(std::string_view& data) {
  const size_t cap = block_->section.preread_buffer_size;
  char* buf = worker_.scratch(cap);
  ssize_t n;
  do {
    n = ::recv(client_.fd.get(), buf, cap, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  data = n > 0 ? std::string_view(buf, static_cast<size_t>(n)) : std::string_view();
  return n;
}

// A preread that ends before the hello is whole: once nginx has seen a
// byte its variables exist, with what was parsed (empty at first).
void Session::keepPartialHello(ClientHelloResult hello) {
  record_.preread = std::make_shared<const PrereadInfo>(std::move(hello.info));
}

void Session::preread() {
  if (!client_.readable) return;
  const size_t cap = block_->section.preread_buffer_size;
  std::string_view data;
  ssize_t n = peekClient(data);
  if (n < 0) {
    if (wouldBlock(errno)) {
      client_.readable = false;
      return;
    }
    logError(common::LogLevel::info,
             fmt::format("{} while prereading client data", common::SysError{"recv()", errno}));
    return finish(200);
  }
  if (n == 0) return finish(200);  // EOF first: nginx's NGX_STREAM_OK
  ClientHelloResult hello = parseClientHello(data);
  if (hello.state != ClientHelloResult::State::need_more) return endPreread(std::move(hello));
  if (static_cast<size_t>(n) == cap) {
    keepPartialHello(std::move(hello));
    logError(common::LogLevel::error, "preread buffer full while prereading client data");
    return finish(400);
  }
  if (client_.peer_closed) {  // the hello will never be whole
    keepPartialHello(std::move(hello));
    return finish(200);
  }
  // Peeked to the end: the next edge comes with more data.
  client_.readable = false;
}

void Session::endPreread(ClientHelloResult hello) {
  if (hello.state == ClientHelloResult::State::done) {
    record_.preread = std::make_shared<const PrereadInfo>(std::move(hello.info));
    if (const auto* chosen = vhosts_->choose(record_.preread->server_name)) {
      switchServer(*chosen);
    }
  } else if (block_->error_log->enabled(common::LogLevel::debug)) {
    // Declined (not TLS, malformed): nginx drops what it read, the
    // variables are not found and the session goes on.
    logError(common::LogLevel::debug, hello.reason);
  }
  vhosts_.reset();
  phase_ = Phase::connecting;
  client_.readable = true;  // the peeked bytes are still to be read
  proceed();
}

// ngx_stream_ssl_preread_servername: the rest of the session is the chosen
// [server]'s (proxy_pass, timeouts, logs, counters).
void Session::switchServer(const std::shared_ptr<const ServerBlock>& block) {
  if (block == block_) return;
  // The session moves between the [server]s' counters (a reader may see it
  // in neither for a moment).
  counters_->active.sub();
  counters_->total.sub();
  block_ = block;
  counters_ = &block_->stats->slot(worker_.index());
  counters_->active.add();
  counters_->total.add();
  record_.server_name = block_->server_name;
}

// The content phase: return, or the upstream that proxy_pass names.
void Session::proceed() {
  phase_ = Phase::connecting;
  // ngx_stream_core_content_phase: the client's socket takes the chosen
  // [server]'s tcp_nodelay (on is inherited from the listener).
  if (!block_->section.tcp_nodelay) clearClientNodelay(client_.fd.get(), record_.local);
  if (block_->return_text) return startReturn();
  if (block_->pass_target) return passConnection();
  if (block_->pass_value) return routeByValue();
  beginUpstream(block_->hash_key, block_->section.next_upstream_tries);
}

void Session::beginUpstream(const std::optional<Template>& hash_key, unsigned max_tries) {
  std::string key;
  if (hash_key) hash_key->render(vars_, key);
  attempts_ = group()->begin(std::move(key), max_tries);
  connectNext();
}

Session::Routing& Session::routing() {
  if (!routing_) routing_ = std::make_unique<Routing>();
  return *routing_;
}

// ngx_stream_set_module, in the preaccess phase: before allow/deny, in the
// order written; a later `set` sees what an earlier one assigned.
void Session::runSets() {
  for (const SetCommand& set : block_->sets) vars_.assign(set.index, set.value.evaluate(vars_));
}

// ngx_stream_limit_conn_module, in the preaccess phase after `set` (nginx
// runs a phase's handlers in reverse order of registration, and set
// registers after limit_conn): false when the session was closed (503).
bool Session::admitByLimits() {
  if (!limit_hold_) limit_hold_ = std::make_unique<LimitConnHold>();
  LimitConnVerdict v = checkLimitConn(*block_->limit_conn, vars_, *limit_hold_);
  record_.limit_conn_status = v.status;
  for (const LimitConnVerdict::Line& line : v.lines) {
    if (line.main_log) {
      worker_.log().write(line.level, line.text);
    } else {
      logError(line.level, line.text);
    }
  }
  if (!v.reject) return true;
  finish(503);
  return false;
}

// ngx_stream_return_module: the text, then the close, status 200; an empty
// text closes at once. A client that does not take it within 5 s is closed.
void Session::startReturn() {
  phase_ = Phase::returning;
  if (prereaded_) discardPeeked();
  routing().unsent = block_->return_text->evaluate(vars_);
  client_.writable = true;
  continueReturn();
}

// The preread peeked the client's first bytes (they stay in the socket); a
// `return` never reads them, and a close with unread data is a reset that
// can overtake the text on its way. Read them now, as nginx 1.22's preread
// did (into its buffer).
void Session::passConnection() {
  if (prereaded_) {
    logError(common::LogLevel::error, "cannot pass connection with preread data");
    return finish(500);
  }
  const std::string text = block_->pass_target->evaluate(vars_);
  auto addr = parsePassAddress(text);
  if (!addr) {
    // ngx_stream_pass_handler's texts: "no port in pass "x"", ...
    std::string why = addr.error();
    if (why.rfind("has ", 0) == 0) why = "no " + why.substr(why.find(' ', 4) + 1);
    logError(common::LogLevel::error, fmt::format("{} in pass \"{}\"", why, text));
    return finish(500);
  }
  logDebug("stream pass addr: \"{}\"", text);
  if (passes_ + 1u > kMaxPasses) {
    logError(common::LogLevel::error, "stream pass cycle");
    return finish(500);
  }
  auto servers = worker_.passTarget(*addr);
  if (!servers) {
    logError(common::LogLevel::error, fmt::format("port not found for \"{}\"", text));
    return finish(200);
  }
  // The new session owns the socket from here; this one ends without a
  // line of its own, as nginx hands the connection to the listener's handler.
  client_.event.reset();
  Session& next = worker_.openSession(servers, std::move(client_.fd), record_.remote, *addr);
  next.takeOverFrom(*this);
  handOver();  // destroys this session
  next.start();
}

void Session::takeOverFrom(Session& passed) {
  record_.connection = passed.record_.connection;
  // A terminated TLS connection goes on as it is: nginx's ssl handler
  // skips a connection that already has its SSL (c->ssl).
  client_.tls = std::move(passed.client_.tls);
  record_.tls = passed.record_.tls;
  // OpenSSL may hold the client's data already: read on at once.
  client_.readable = client_.writable = client_.tls != nullptr;
  passes_ = static_cast<std::uint8_t>(passed.passes_ + 1);
  // The header stays with the connection (c->proxy_protocol); realip's
  // record of the peer is the old session's own.
  if (passed.record_.proxy_protocol) {
    record_.proxy_protocol = std::make_shared<const ProxyProtocolInfo>(
        ProxyProtocolInfo{passed.record_.proxy_protocol->header, {}});
  }
}

void Session::handOver() {
  phase_ = Phase::done;
  counters_->active.sub();
  worker_.destroy(*this);
}

void Session::discardPeeked() {
  const size_t cap = block_->section.preread_buffer_size;
  char* buf = worker_.scratch(cap);
  ssize_t n;
  do {
    n = ::recv(client_.fd.get(), buf, cap, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0) up_.read += static_cast<std::uint64_t>(n);  // $bytes_received
}

void Session::continueReturn() {
  std::string& unsent = routing_->unsent;
  while (!unsent.empty() && client_.writable) {
    ssize_t n = transmit(client_, unsent.data(), unsent.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (wouldBlock(errno)) {
        client_.writable = false;
        break;
      }
      logError(common::LogLevel::info,
               fmt::format("{} while returning text", ioError(client_, "send()")));
      return finish(500);
    }
    down_.written += static_cast<std::uint64_t>(n);
    unsent.erase(0, static_cast<std::size_t>(n));
  }
  if (unsent.empty()) return finish(200);
  armTimer(std::chrono::seconds(5));
}

// proxy_pass with variables (proxy_pass_target.h): a group by name, or an
// address as a group of its own (nginx's per-session round-robin peer: one
// try, its failures counted nowhere else).
void Session::routeByValue() {
  PassTarget target = resolvePassTarget(block_->pass_value->evaluate(vars_), *block_->route_groups);
  switch (target.kind) {
    case PassTarget::Kind::group:
      routing().group = target.group->group.get();
      routing().peer_errors = target.group->peer_errors.get();
      return beginUpstream(target.group->hash_key, block_->section.next_upstream_tries);
    case PassTarget::Kind::address: {
      UpstreamServer server;
      server.name = target.address.toString();
      server.addrs.push_back(target.address);
      auto& own = routing().own_group;
      own = std::make_unique<UpstreamGroup>(server.name, BalanceMethod::round_robin,
                                            std::vector<UpstreamServer>{std::move(server)});
      routing().group = own.get();
      return beginUpstream(std::nullopt, 0);
    }
    case PassTarget::Kind::name:
      if (block_->section.resolver.resolver) return resolvePassName(target.host, target.port);
      logError(common::LogLevel::error, target.error);
      return finish(500);
    case PassTarget::Kind::error:
      logError(common::LogLevel::error, target.error);
      return finish(500);
  }
}

// nginx 1.22's ngx_stream_proxy_handler with a resolver: the name is looked
// up for this session (its A/AAAA answer, within resolver_timeout), the
// client's data waiting in the kernel meanwhile.
void Session::resolvePassName(const std::string& host, std::uint16_t port) {
  DnsClient* dns = worker_.dnsClient(block_->section.resolver);
  if (dns == nullptr) return finish(500);  // logged by the worker
  auto& lookup = routing().lookup;
  lookup = std::make_shared<char>();
  std::weak_ptr<char> alive = lookup;
  dns->resolveHost(host, [this, alive, host, port](DnsClient::HostAnswer a) {
    if (alive.expired()) return;  // the session has ended
    passNameResolved(host, port, a.state, a.addrs);
  });
}

// ngx_stream_proxy_resolve_handler: an error ends the session with status
// 500 (nginx 1.22's NGX_STREAM_INTERNAL_SERVER_ERROR, checked side by side);
// the addresses become a round-robin group of their own (tried in turn).
void Session::passNameResolved(const std::string& host, std::uint16_t port, int state,
                               const std::vector<common::SocketAddress>& addrs) {
  routing().lookup.reset();
  if (state != kResolveOk) {
    logError(common::LogLevel::error, notResolvedText(host, state));
    return finish(500);
  }
  UpstreamServer server;
  server.name = fmt::format("{}:{}", host, port);
  for (common::SocketAddress addr : addrs) {
    addr.setPort(port);
    server.addrs.push_back(addr);
  }
  auto& own = routing().own_group;
  own = std::make_unique<UpstreamGroup>(host, BalanceMethod::round_robin,
                                        std::vector<UpstreamServer>{std::move(server)});
  routing().group = own.get();
  beginUpstream(std::nullopt, block_->section.next_upstream_tries);
}

// Picks the next peer and starts a non-blocking connect (nginx's
// ngx_stream_proxy_connect). Each try gets its own entry in the log's
// $upstream_* lists.
void Session::connectNext() {
  common::TimePoint now = monoNow();
  peer_ = group()->choose(attempts_, now);
  UpstreamAttempt attempt;
  if (peer_ == nullptr) {
    // nginx names the group when no peer could be chosen.
    attempt.addr = group()->name();
    // nginx's finalize gives the entry a session time measured from this
    // same instant: 0.000.
    attempt.session_time = common::Duration::zero();
    record_.upstreams.push_back(std::move(attempt));
    logError(common::LogLevel::error, "no live upstreams while connecting to upstream");
    finish(502);
    return;
  }
  attempt.addr = peer_->addr_text;
  record_.upstreams.push_back(std::move(attempt));
  try_start_ = now;

  int fd = ::socket(peer_->addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && worker_.descriptorReserved(fd)) {
    // The top descriptors are the control thread's (Worker::descriptorReserved).
    ::close(fd);
    fd = -1;
    errno = EMFILE;
  }
  if (fd < 0) {
    int err = errno;
    group()->release(attempts_, false, now);
    peer_ = nullptr;
    record_.upstreams.back().session_time = common::Duration::zero();
    logError(common::LogLevel::alert, common::SysError{"socket()", err}.message());
    finish(502);
    return;
  }
  upstream_ = Side{};
  upstream_.fd.reset(fd);
  const ServerSection& sec = block_->section;
  if (sec.tcp_nodelay && peer_->addr.family() != AF_UNIX) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if ((sec.proxy_socket_keepalive || sec.proxy_bind) && !prepareUpstream(now)) return;
  upstream_.event.reset(event_new(worker_.base(), fd, kSocketEvents, onUpstreamEvent, this));
  if (!upstream_.event || event_add(upstream_.event.get(), nullptr) != 0) {
    group()->release(attempts_, false, now);
    peer_ = nullptr;
    logError(common::LogLevel::alert, "event_add() failed");
    finish(500);
    return;
  }
  phase_ = Phase::connecting;
  logDebug("connect to {}, fd:{}", peer_->addr.toString(), fd);  // ngx_event_connect_peer
  if (::connect(fd, peer_->addr.sa(), peer_->addr.len()) == 0) {
    onConnected(now);
    return;
  }
  if (errno != EINPROGRESS) {
    connectFailed("connect() failed", errno);
    return;
  }
  armTimer(block_->section.connect_timeout);
}

// proxy_socket_keepalive and proxy_bind on the new upstream socket; false
// when the session has ended (a bind that failed: 500, as nginx).
bool Session::prepareUpstream(common::TimePoint now) {
  std::string bind_text;
  if (block_->bind_value) bind_text = block_->bind_value->evaluate(vars_);
  UpstreamSocketSetup setup =
      prepareUpstreamSocket(upstream_.fd.get(), block_->section, peer_->addr, bind_text);
  for (const SocketNote& note : setup.notes) logError(note.level, note.text);
  if (setup.ok) return true;
  group()->release(attempts_, false, now);
  peer_ = nullptr;
  upstream_.fd.reset();
  // nginx records no peer for a try that failed before connect().
  record_.upstreams.back().addr.clear();
  record_.upstreams.back().session_time = common::Duration::zero();
  finish(500);
  return false;
}

void Session::onConnected(common::TimePoint now) {
  // Before anything else on the new connection (and before TLS to it).
  if (block_->section.proxy_protocol.send != ProxyProtocolSend::off && !sendProxyProtocol()) {
    return;
  }
  phase_ = Phase::proxying;
  record_.upstreams.back().connect_time = now - try_start_;
  counters_->observeConnect(now - try_start_);
  // nginx counts the success when the connection is up, not when the session
  // ends (ngx_stream_proxy_init_upstream notifies the balancer).
  group()->connected(attempts_);
  awaiting_first_byte_ = true;
  upstream_.writable = true;
  last_activity_ = now;
  if ((block_->upload_rate || block_->download_rate) && !rates_) startRates();
  armTimer(block_->section.timeout);
  relayBoth();
}

// A failure to establish the connection: the only kind nginx counts against
// the server (ngx_stream_proxy_next_upstream). Tries the next peer while the
// budget, proxy_next_upstream and proxy_next_upstream_timeout allow.
void Session::connectFailed(const char* what, int err) {
  common::TimePoint now = monoNow();
  std::string reason = fmt::format("{} ({})", what, common::SysError::errnoReason(err));
  logError(common::LogLevel::error, reason + " while connecting to upstream");
  counters_->connect_failures.add();
  // A failed try still has a session time in nginx: ngx_stream_proxy_connect
  // (next try) or the finalize (last one) closes it at this moment.
  record_.upstreams.back().session_time = now - try_start_;
  if (PeerErrors* errors = peerErrors(); errors != nullptr) {
    errors->record(record_.upstreams.back().addr, std::move(reason));
  }
  upstream_.event.reset();
  upstream_.fd.reset();
  group()->release(attempts_, true, now);
  peer_ = nullptr;
  const auto& sec = block_->section;
  bool out_of_time =
      sec.next_upstream_timeout.count() > 0 && now - start_ >= sec.next_upstream_timeout;
  if (attempts_.triesLeft() == 0 || !sec.next_upstream || out_of_time) {
    finish(502);
    return;
  }
  connectNext();
}

void Session::onClientEvent(evutil_socket_t, short what, void* arg) {
  auto* s = static_cast<Session*>(arg);
  if (what & (EV_READ | EV_CLOSED)) s->client_.readable = true;
  if (what & EV_CLOSED) s->client_.peer_closed = true;
  if (what & EV_WRITE) s->client_.writable = true;
  if (s->client_.tls) {
    if (s->phase_ == Phase::handshaking) return s->continueHandshake();
    // TLS may wait on the other direction of the socket (a write that
    // needs a read, or the reverse): any edge retries both.
    s->client_.readable = s->client_.writable = true;
  }
  if (s->phase_ == Phase::prereading) return s->preread();
  if (s->phase_ == Phase::reading_proxy_protocol) return s->readProxyProtocol();
  // The client is not read while connecting: its data waits in the kernel,
  // so a retry to another upstream loses nothing.
  // Either may end (and free) the session: nothing of it is read after.
  if (s->phase_ == Phase::proxying) return s->relayBoth();
  if (s->phase_ == Phase::returning && s->client_.writable) s->continueReturn();
}

void Session::onUpstreamEvent(evutil_socket_t fd, short what, void* arg) {
  auto* s = static_cast<Session*>(arg);
  if (what & (EV_READ | EV_CLOSED)) s->upstream_.readable = true;
  if (what & EV_CLOSED) s->upstream_.peer_closed = true;
  if (s->phase_ == Phase::connecting) {
    if (!(what & (EV_WRITE | EV_READ | EV_CLOSED))) return;
    // Writable and nothing else is a connect that succeeded: a failed one
    // is reported with EPOLLERR/EPOLLHUP, which libevent turns into
    // EV_READ as well. Only then is SO_ERROR worth a system call.
    if ((what & (EV_READ | EV_WRITE | EV_CLOSED)) == EV_WRITE) {
      s->onConnected(monoNow());
      return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      s->connectFailed("connect() failed", err);
      return;
    }
    if (!(what & EV_WRITE)) return;  // not connected yet
    s->onConnected(monoNow());
    return;
  }
  if (what & EV_WRITE) s->upstream_.writable = true;
  if (s->upstream_.tls) s->upstream_.readable = s->upstream_.writable = true;
  s->relayBoth();
}

void Session::onTimer(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<Session*>(arg);
  common::TimePoint now = monoNow();
  if (s->phase_ == Phase::handshaking) {
    // ssl_handshake_timeout: nginx ends the session with 500, no message.
    s->finish(500);
    return;
  }
  if (s->phase_ == Phase::prereading) {
    // preread_timeout: nginx ends the session with 200, no message.
    std::string_view data;
    if (s->peekClient(data) > 0) s->keepPartialHello(parseClientHello(data));
    s->finish(200);
    return;
  }
  if (s->phase_ == Phase::reading_proxy_protocol) {
    // proxy_protocol_timeout: nginx's "client timed out", at info, 200.
    s->logError(common::LogLevel::info,
                fmt::format("client timed out ({}) while reading PROXY protocol",
                            common::SysError::errnoReason(ETIMEDOUT)));
    s->finish(200);
    return;
  }
  if (s->phase_ == Phase::connecting) {
    s->connectFailed("upstream timed out", ETIMEDOUT);
    return;
  }
  if (s->phase_ == Phase::returning) {
    s->logError(
        common::LogLevel::info,
        common::SysError{"connection timed out", ETIMEDOUT}.message() + " while returning text");
    s->finish(200);
    return;
  }
  // proxy_timeout is one idle timer over both directions. Activity only
  // stamps last_activity_; the timer is moved here, when it fires, instead
  // of on every read and write.
  common::Duration idle = now - s->last_activity_;
  common::Duration timeout = s->block_->section.timeout;
  if (idle >= timeout) {
    s->logError(common::LogLevel::info, "connection timed out while proxying connection");
    s->finish(200);
    return;
  }
  s->armTimer(timeout - idle);
}

void Session::armTimer(common::Duration d) {
  timeval tv = common::toTimeval(std::chrono::duration_cast<std::chrono::microseconds>(d));
  evtimer_add(timer_.get(), &tv);
}

void Session::relayBoth() {
  if (relay(client_, upstream_, up_, true) == Relay::error) return finish(200);
  if (relay(upstream_, client_, down_, false) == Relay::error) return finish(200);

  const bool half_close = block_->section.half_close;
  if (!half_close) {
    // nginx without proxy_half_close: the first EOF ends the session once
    // what was read before it has been passed on.
    if ((up_.eof && !up_.pending()) || (down_.eof && !down_.pending())) return finish(200);
    return;
  }
  // proxy_half_close on: pass each EOF on with shutdown(SHUT_WR) and end
  // when both directions are done.
  if (up_.eof && !up_.pending() && !up_.shut) {
    shutdownWrite(upstream_);
    up_.shut = true;
  }
  if (down_.eof && !down_.pending() && !down_.shut) {
    shutdownWrite(client_);
    down_.shut = true;
  }
  if (up_.shut && down_.shut) finish(200);
}

// Moves data from `from` to `to` until one of them would block. One recv()
// and one send() per chunk: a short read means the socket is drained (the
// edge-triggered event fires again when more arrives), unless the peer has
// closed, when we read on until recv() says 0.
Session::Relay Session::relay(Side& from, Side& to, Flow& flow, bool to_upstream) {
  const size_t cap = block_->section.buffer_size;
  bool moved = false;
  Relay result = Relay::ok;
  for (;;) {
    if (flow.pending()) {
      if (!to.writable) break;
      size_t len = flow.end - flow.start;
      ssize_t n = transmit(to, flow.held.get() + flow.start, len);
      if (n < 0) {
        if (wouldBlock(errno)) {
          to.writable = false;
          break;
        }
        logError(common::LogLevel::info, fmt::format("{} while proxying {}", ioError(to, "send()"),
                                                     to_upstream ? "to upstream" : "to client"));
        result = Relay::error;
        break;
      }
      moved = true;
      flow.start += static_cast<std::uint32_t>(n);
      flow.written += static_cast<std::uint64_t>(n);
      if (static_cast<size_t>(n) < len) {
        to.writable = false;
        break;
      }
      release(flow);
    }
    if (flow.eof || !from.readable) break;

    std::size_t want = cap;
    if (rates_) {
      want = rateAllowance(to_upstream, flow.read, cap);
      if (want == 0) break;  // paused: the rate timer resumes this side
    }
    char* buf = worker_.scratch(cap);
    ssize_t n = receive(from, buf, want);
    // $upstream_first_byte_time: nginx stamps the first read from the
    // upstream that is not EAGAIN (data, EOF or an error alike). One flag
    // test per read; the clock is read once per try.
    if (awaiting_first_byte_ && !to_upstream &&
        (n >= 0 || (!wouldBlock(errno) && errno != EINTR))) {
      noteFirstByte();
    }
    if (n > 0) {
      moved = true;
      flow.read += static_cast<std::uint64_t>(n);
      if (rates_) {
        auto& limiter = to_upstream ? rates_->up : rates_->down;
        if (limiter) limiter->consumed(monoNow(), static_cast<std::size_t>(n));
      }
      // A short recv() drained the socket; a short SSL_read() only ended a
      // record, and the next may be buffered already: TLS reads to EAGAIN.
      if (static_cast<size_t>(n) < want && !from.peer_closed && !from.tls) from.readable = false;
      ssize_t sent = 0;
      if (to.writable) {
        sent = transmit(to, buf, static_cast<size_t>(n));
        if (sent < 0) {
          if (!wouldBlock(errno)) {
            logError(common::LogLevel::info,
                     fmt::format("{} while proxying {}", ioError(to, "send()"),
                                 to_upstream ? "to upstream" : "to client"));
            result = Relay::error;
            break;
          }
          sent = 0;
        }
        flow.written += static_cast<std::uint64_t>(sent);
      }
      if (sent < n) {
        // The receiver is slow: keep the rest and stop reading this side
        // until it has been written (backpressure).
        to.writable = false;
        size_t rest = static_cast<size_t>(n - sent);
        flow.held = worker_.buffers().take(cap);
        std::memcpy(flow.held.get(), buf + sent, rest);
        flow.start = 0;
        flow.end = static_cast<std::uint32_t>(rest);
        break;
      }
      continue;
    }
    if (n == 0) {
      flow.eof = true;
      from.readable = false;
      break;
    }
    if (wouldBlock(errno)) {
      from.readable = false;
      break;
    }
    if (errno == EINTR) continue;
    logError(from.tls ? from.tls->errorLevel() : common::LogLevel::info,
             fmt::format("{} while proxying {}", ioError(from, "recv()"),
                         to_upstream ? "from client" : "from upstream"));
    result = Relay::error;
    break;
  }
  if (moved) last_activity_ = monoNow();
  return result;
}

// proxy_upload_rate / proxy_download_rate, evaluated once the upstream is
// connected (ngx_stream_proxy_init_upstream); a value with variables that
// is no size is nginx's "invalid size" and no limit.
void Session::startRates() {
  auto rateOf = [this](const std::optional<Template>& value) -> std::optional<RateLimiter> {
    if (!value) return std::nullopt;
    std::string text = value->evaluate(vars_);
    auto size = common::parseSize(text);
    if (!size) {
      logError(common::LogLevel::error, fmt::format("invalid size \"{}\"", text));
      return std::nullopt;
    }
    if (*size == 0) return std::nullopt;
    return RateLimiter(*size, start_);
  };
  auto rates = std::make_unique<Rates>();
  rates->up = rateOf(block_->upload_rate);
  rates->down = rateOf(block_->download_rate);
  if (!rates->up && !rates->down) return;
  rates->timer.reset(evtimer_new(worker_.base(), onRateTimer, this));
  if (!rates->timer) {
    logError(common::LogLevel::alert, "evtimer_new() failed: proxying without the rate limit");
    return;
  }
  rates_ = std::move(rates);
}

// What one direction may read now; 0 pauses it, with the rate timer armed
// for the earliest side to resume.
std::size_t Session::rateAllowance(bool to_upstream, std::uint64_t received, std::size_t want) {
  auto& limiter = to_upstream ? rates_->up : rates_->down;
  if (!limiter) return want;
  const common::TimePoint now = monoNow();
  const std::size_t n = limiter->allowance(now, received, want);
  if (n > 0) return n;
  const common::TimePoint at = *limiter->resumeAt();
  if (!rates_->armed_for || at < *rates_->armed_for) {
    rates_->armed_for = at;
    timeval tv = common::toTimeval(std::chrono::duration_cast<std::chrono::microseconds>(at - now));
    evtimer_add(rates_->timer.get(), &tv);
  }
  return 0;
}

void Session::onRateTimer(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<Session*>(arg);
  s->rates_->armed_for.reset();
  if (s->phase_ == Phase::proxying) s->relayBoth();
}

// The relay's recv()/send(), through TLS on a side that has it.
ssize_t Session::receive(Side& from, char* buf, size_t len) {
  if (from.tls) return from.tls->read(buf, len);
  return ::recv(from.fd.get(), buf, len, 0);
}

// A short result means the socket is full, as with send(): SSL_write()
// returns at most a record, so TLS writes on until all is out or it waits.
ssize_t Session::transmit(Side& to, const char* buf, size_t len) {
  if (!to.tls) return ::send(to.fd.get(), buf, len, MSG_NOSIGNAL);
  size_t done = 0;
  while (done < len) {
    ssize_t n = to.tls->write(buf + done, len - done);
    if (n <= 0) return done > 0 ? static_cast<ssize_t>(done) : n;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

// What failed, as nginx words it: the SSL call's error on a TLS side.
std::string Session::ioError(const Side& side, const char* call) const {
  if (side.tls) return side.tls->error();
  return common::SysError{call, errno}.message();
}

// proxy_half_close: the EOF passed on, after a close_notify on TLS.
void Session::shutdownWrite(Side& side) {
  if (side.tls) side.tls->shutdown();
  ::shutdown(side.fd.get(), SHUT_WR);
}

void Session::noteFirstByte() {
  awaiting_first_byte_ = false;
  record_.upstreams.back().first_byte_time = monoNow() - try_start_;
}

void Session::release(Flow& flow) {
  flow.start = flow.end = 0;
  if (flow.held) worker_.buffers().give(std::move(flow.held), block_->section.buffer_size);
}

void Session::finish(int status) {
  if (phase_ == Phase::done) return;
  phase_ = Phase::done;
  logDebug("finalize stream proxy: {}", status);  // ngx_stream_proxy_finalize's rc
  common::TimePoint now = monoNow();
  if (peer_ != nullptr) {
    UpstreamAttempt& a = record_.upstreams.back();
    a.bytes_sent = up_.written;
    a.bytes_received = down_.read;
    a.session_time = now - try_start_;
    group()->release(attempts_, false, now);
    peer_ = nullptr;
  }
  record_.status = status;
  record_.bytes_received = up_.read;
  record_.bytes_sent = down_.written;
  record_.session_time = now - start_;
  recordSessionEnd(worker_, *block_, *counters_, record_, vars_, up_.written, down_.read);
  release(up_);
  release(down_);
  // ngx_ssl_shutdown: a close_notify before the close.
  if (client_.tls) client_.tls->shutdown();
  if (upstream_.tls) upstream_.tls->shutdown();
  logDebug("close stream connection: {}", client_.fd.get());
  worker_.destroy(*this);
}

void Session::logError(common::LogLevel level, const std::string& what) {
  common::Log& log = *block_->error_log;
  if (!log.enabled(level)) return;
  if (phase_ == Phase::initializing) {
    // Before the content phase: nginx's action and context only.
    log.write(level, fmt::format("*{} {} while initializing session, client: {}, server: {}",
                                 record_.connection, what, record_.remote.hostText(),
                                 block_->listen_text));
    return;
  }
  if (phase_ == Phase::returning || phase_ == Phase::reading_proxy_protocol ||
      phase_ == Phase::handshaking) {
    // No proxy module in this session (yet): nginx's context stops at the server.
    log.write(level, fmt::format("*{} {}, client: {}, server: {}", record_.connection, what,
                                 record_.remote.hostText(), block_->listen_text));
    return;
  }
  std::string upstream = record_.upstreams.empty()
                             ? ""
                             : fmt::format(", upstream: \"{}\"", record_.upstreams.back().addr);
  // nginx's context: "*CONN what, client: A, server: B, upstream: "C",
  // bytes from/to client:R/S, bytes from/to upstream:R/S".
  log.write(level,
            fmt::format("*{} {}, client: {}, server: {}{}, bytes from/to client:{}/{}, "
                        "bytes from/to upstream:{}/{}",
                        record_.connection, what, record_.remote.hostText(), block_->listen_text,
                        upstream, up_.read, down_.written, down_.read, up_.written));
}

}  // namespace proxyd
