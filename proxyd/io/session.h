// One proxied TCP session: the client connection, the upstream connection
// (with nginx's retries across the group), and the relay between them.
//
// The data path is the lean shape STYLE.md asks for: each socket has one
// persistent edge-triggered event for read, write and peer-close, registered
// once; data moves with recv()/send() straight from one socket to the other
// through a scratch buffer, and only what the receiver cannot take at once
// is kept, in a per-direction buffer of at most proxy_buffer_size. While that
// buffer is full the sending side is not read (backpressure).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/event.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "proxyd/core/client_hello.h"
#include "proxyd/core/limit_conn_check.h"
#include "proxyd/core/rate_limit.h"
#include "proxyd/core/server_block.h"
#include "proxyd/core/session_record.h"
#include "proxyd/core/session_variables.h"
#include "proxyd/core/upstream_group.h"
#include "proxyd/core/virtual_servers.h"
#include "proxyd/io/tls_stream.h"

namespace proxyd {

class Worker;

class Session {
 public:
  // The session starts on the default [server] of the address (`servers`).
  Session(Worker& worker, const std::shared_ptr<const VirtualServers>& servers,
          common::UniqueFd client, const common::SocketAddress& remote,
          const common::SocketAddress& local);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts connecting to the first upstream. May end (and destroy) the
  // session before returning.
  void start();
  // Ends the session now with status 200 (fast stop).
  void abort() { finish(200); }

 private:
  friend class Worker;

  // One end of the session.
  struct Side {
    common::UniqueFd fd;
    common::EventPtr event;
    bool readable = false;
    bool writable = false;
    bool peer_closed = false;  // EPOLLRDHUP seen: read until recv() says 0
    // Spoken in TLS (listen ... ssl, proxy_ssl): the relay reads and writes
    // through it; none on a plain side, which costs one branch.
    std::unique_ptr<TlsStream> tls;
  };
  // One direction of data: what was read from `from` and not yet written
  // to the other side.
  struct Flow {
    std::unique_ptr<char[]> held;
    std::uint32_t start = 0;
    std::uint32_t end = 0;
    bool eof = false;           // the reading side said EOF
    bool shut = false;          // EOF passed on with shutdown(SHUT_WR) (half-close)
    std::uint64_t read = 0;     // bytes read from the source
    std::uint64_t written = 0;  // bytes written to the destination
    bool pending() const { return start != end; }
  };
  enum class Relay { ok, error };
  // initializing: nginx's post-accept, preaccess and access phases.
  enum class Phase {
    reading_proxy_protocol,
    initializing,
    handshaking,
    prereading,
    connecting,
    proxying,
    returning,
    done
  };
  // What only sessions of `set`/`return`/`proxy_pass $var` blocks need,
  // allocated by them alone.
  struct Routing {
    UpstreamGroup* group = nullptr;            // the one proxy_pass $var chose
    PeerErrors* peer_errors = nullptr;         // none for a group of one address
    std::unique_ptr<UpstreamGroup> own_group;  // proxy_pass $var gave an address
    std::string unsent;                        // return: what the client has not taken yet
    // proxy_pass $var gave a name: alive while its lookup runs; the answer
    // of a session that has ended finds it gone.
    std::shared_ptr<char> lookup;
  };

  static void onClientEvent(evutil_socket_t, short what, void* arg);
  static void onUpstreamEvent(evutil_socket_t, short what, void* arg);
  static void onTimer(evutil_socket_t, short what, void* arg);
  static void onRateTimer(evutil_socket_t, short what, void* arg);

  // nginx's `pass`: from the accepting session to one of the listener the
  // address names, on the same connection ($connection stays).
  void passConnection();
  void takeOverFrom(Session& passed);
  void handOver();
  void postAccept();
  // `listen ... proxy_protocol` and `proxy_protocol = on` (session_proxy_protocol.cc).
  void startProxyProtocol();
  void readProxyProtocol();
  void acceptProxyProtocol(std::optional<ProxyProtocolHeader> header, std::size_t length);
  bool sendProxyProtocol();
  void runSets();
  bool admitByLimits();
  void startRates();
  std::size_t rateAllowance(bool to_upstream, std::uint64_t received, std::size_t want);
  void startReturn();
  void discardPeeked();
  void continueReturn();
  void routeByValue();
  void resolvePassName(const std::string& host, std::uint16_t port);
  void passNameResolved(const std::string& host, std::uint16_t port, int state,
                        const std::vector<common::SocketAddress>& addrs);
  void beginUpstream(const std::optional<Template>& hash_key, unsigned max_tries);
  Routing& routing();
  // The group of this session: the block's, or what proxy_pass $var chose.
  UpstreamGroup* group() const { return routing_ ? routing_->group : block_->group.get(); }
  PeerErrors* peerErrors() const {
    return routing_ ? routing_->peer_errors : block_->peer_errors.get();
  }
  void startHandshake();
  void continueHandshake();
  ssize_t receive(Side& from, char* buf, size_t len);
  ssize_t transmit(Side& to, const char* buf, size_t len);
  std::string ioError(const Side& side, const char* call) const;
  void shutdownWrite(Side& side);
  void startPreread();
  void preread();
  ssize_t peekClient(std::string_view& data);
  void keepPartialHello(ClientHelloResult hello);
  void endPreread(ClientHelloResult hello);
  void switchServer(const std::shared_ptr<const ServerBlock>& block);
  void proceed();
  void connectNext();
  bool prepareUpstream(common::TimePoint now);
  void onConnected(common::TimePoint now);
  void connectFailed(const char* what, int err);
  void relayBoth();
  Relay relay(Side& from, Side& to, Flow& flow, bool to_upstream);
  void release(Flow& flow);
  void noteFirstByte();
  void armTimer(common::Duration d);
  void finish(int status);
  void logError(common::LogLevel level, const std::string& what);
  // nginx's stream debug lines: "*N what", without the client/server
  // context (ngx_log_error_core adds it only above debug). Formatted only
  // when a debug-level error_log is there to take them.
  template <class... Args>
  void logDebug(fmt::format_string<Args...> f, Args&&... args) {
    common::Log& log = *block_->error_log;
    if (!log.enabled(common::LogLevel::debug)) return;
    log.write(common::LogLevel::debug, fmt::format("*{} {}", record_.connection,
                                                   fmt::format(f, std::forward<Args>(args)...)));
  }

  Worker& worker_;
  std::shared_ptr<const ServerBlock> block_;
  // With ssl_preread only: the [server]s the SNI may choose from.
  std::shared_ptr<const VirtualServers> vhosts_;
  ServerCounters* counters_;  // this worker's slot of the block's counters
  Side client_;
  Side upstream_;
  Flow up_;    // client -> upstream
  Flow down_;  // upstream -> client
  common::EventPtr timer_;
  Phase phase_ = Phase::initializing;
  bool awaiting_first_byte_ = false;    // connected, nothing read from the upstream yet
  bool prereaded_ = false;              // the client's first bytes were peeked (ssl_preread)
  std::uint8_t passes_ = 0;             // how often `pass` moved the connection to here
  bool expect_proxy_protocol_ = false;  // the listener has `proxy_protocol`
  bool ssl_listen_ = false;             // accepted on a `listen ... ssl` address
  std::unique_ptr<Routing> routing_;
  // Only sessions of a [server] with limit_conn / a rate allocate these.
  std::unique_ptr<LimitConnHold> limit_hold_;
  struct Rates {
    std::optional<RateLimiter> up, down;  // client -> upstream, upstream -> client
    common::EventPtr timer;               // wakes the paused side(s)
    std::optional<common::TimePoint> armed_for;
  };
  std::unique_ptr<Rates> rates_;
  UpstreamGroup::Attempts attempts_;
  const Peer* peer_ = nullptr;
  common::TimePoint start_;
  common::TimePoint try_start_;
  common::TimePoint last_activity_;
  common::TimePoint timer_deadline_;
  SessionRecord record_;
  SessionVariables vars_;  // over record_: declared after it

  // This session's place in the worker's owning list (Worker::destroy).
  std::list<Session>::iterator self_;
};

}  // namespace proxyd
