// One proxied UDP session (nginx stream's SOCK_DGRAM session): the datagrams
// of one client address on one listener, relayed over a connected UDP socket
// to the upstream the balancer chose, until proxy_responses / proxy_requests
// say it is done (udp_exchange.h) or proxy_timeout passes without traffic.
//
// Passive health as nginx applies it to UDP: an ICMP error on the connected
// socket (ECONNREFUSED from recv or send) and a proxy_timeout short of the
// expected responses count as a failure of the server (max_fails); a
// connect() that fails tries the next server (proxy_next_upstream).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string_view>

#include "common/clock.h"
#include "common/event.h"
#include "common/unique_fd.h"
#include "proxyd/core/server_block.h"
#include "proxyd/core/session_record.h"
#include "proxyd/core/session_variables.h"
#include "proxyd/core/udp_exchange.h"
#include "proxyd/core/upstream_group.h"

namespace proxyd {

class Worker;
struct UdpEndpoint;

class UdpSession {
 public:
  UdpSession(Worker& worker, std::shared_ptr<const ServerBlock> block,
             std::shared_ptr<UdpEndpoint> endpoint, const common::SocketAddress& client,
             const common::SocketAddress& local);
  ~UdpSession();
  UdpSession(const UdpSession&) = delete;
  UdpSession& operator=(const UdpSession&) = delete;

  // The client's first datagram: picks the upstream and sends it. May end
  // (and destroy) the session before returning.
  void start(std::string_view datagram);
  // A later datagram of the client. May end the session.
  void request(std::string_view datagram);
  // Fast stop: ends now with status 200.
  void abort() { finish(200); }
  // Graceful stop: nginx ends UDP sessions at once ("disconnected on
  // shutdown", 200).
  void shutdown();

 private:
  friend class Worker;

  static void onUpstreamReadable(evutil_socket_t, short, void* arg);
  static void onTimer(evutil_socket_t, short, void* arg);

  void proceed(std::string_view datagram);
  void returnText();
  bool chooseGroup();
  void connectNext(std::string_view datagram);
  bool openUpstream();
  void sendUpstream(std::string_view datagram);
  void readUpstream();
  void upstreamError(int err, const char* what);
  void checkDone();
  void leaveTable();
  void onTimeout();
  void armTimer(common::Duration d);
  void finish(int status);
  void logError(common::LogLevel level, const std::string& what);
  void logInfoPlain(const char* what);
  UpstreamGroup* group() const { return own_group_ ? own_group_.get() : group_; }

  Worker& worker_;
  std::shared_ptr<const ServerBlock> block_;
  std::shared_ptr<UdpEndpoint> endpoint_;
  ServerCounters* counters_;
  UdpExchange exchange_;
  common::UniqueFd upstream_;
  common::EventPtr upstream_event_;
  common::EventPtr timer_;
  UpstreamGroup* group_ = nullptr;
  PeerErrors* peer_errors_ = nullptr;
  std::unique_ptr<UpstreamGroup> own_group_;  // proxy_pass $var gave an address
  UpstreamGroup::Attempts attempts_;
  const Peer* peer_ = nullptr;
  bool in_table_ = true;
  bool ended_ = false;
  bool upstream_failed_ = false;  // nginx's pc->read->error / write->error: a failed try
  // Where answers to the client leave from: the address it sent to, on a
  // wildcard listener; empty (the socket's own) otherwise.
  common::SocketAddress source_;
  std::uint64_t upstream_sent_ = 0;
  std::uint64_t client_sent_ = 0;
  common::TimePoint start_;
  common::TimePoint try_start_;
  common::TimePoint last_activity_;
  SessionRecord record_;
  SessionVariables vars_;  // over record_: declared after it

  std::list<UdpSession>::iterator self_;  // Worker::destroy
};

}  // namespace proxyd
