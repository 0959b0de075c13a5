// The status page ([status] listen, port 10088 in the seed), on the control
// loop: GET / answers 200 "proxyd <hostname> ok" while every worker loop is
// alive (what the track script checks), and /stub_status, /status, /metrics
// and /ready report the counters. The answers themselves are pure functions
// (status_render.h), and so are the request parsing and the limits
// (status_http.h).
//
// What a client can cost is bounded so that the track script's GET / keeps
// answering: allow/deny is applied at accept (a denied peer is closed before
// anything is read), the head and body have a size limit, each connection a
// total deadline, and at most kStatusMaxConnections are open (the oldest of
// the address holding the most is closed to admit another).
#pragma once

#include <event2/listener.h>

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/event.h"
#include "common/log.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "proxyd/core/config.h"
#include "proxyd/core/status_render.h"

namespace proxyd {

class StatusPage {
 public:
  using SnapshotSource = std::function<StatsSnapshot()>;

  // `stats` outlives the page (the proxy keeps it across reloads that move
  // the page).
  StatusPage(event_base* base, common::Log& log, StatusSection cfg, SnapshotSource snapshot,
             StatusPageStats& stats);
  ~StatusPage();
  StatusPage(const StatusPage&) = delete;
  StatusPage& operator=(const StatusPage&) = delete;

  // Takes over a listening socket opened by Listener::open.
  common::Result<void> start(common::UniqueFd fd);
  // A reload with the same address: new access rules, same socket.
  void setConfig(StatusSection cfg) { cfg_ = std::move(cfg); }
  const StatusSection& config() const { return cfg_; }

 private:
  struct Connection;
  using Connections = std::list<Connection>;

  static void onAccept(evconnlistener* l, evutil_socket_t fd, sockaddr* sa, int len, void* arg);
  static void onAcceptError(evconnlistener* l, void* arg);
  static void onResume(evutil_socket_t, short, void* arg);
  static void onDeadline(evutil_socket_t, short, void* arg);
  static void onReadable(evutil_socket_t, short, void* arg);
  static void onWritable(evutil_socket_t, short, void* arg);

  bool allowed(const common::SocketAddress& peer) const;
  void admit(common::UniqueFd fd, const common::SocketAddress& peer);
  // Reads what has arrived; answers once the request is complete.
  void readRequest(Connection& c);
  void answer(Connection& c, const StatusReply& reply, bool head_only);
  void writeAnswer(Connection& c);
  void close(Connection& c);
  void armDeadline();

  event_base* base_;
  common::Log& log_;
  StatusSection cfg_;
  SnapshotSource snapshot_;
  StatusPageStats& stats_;
  common::EvConnListenerPtr listener_;
  common::EventPtr resume_;
  common::EventPtr deadline_;
  // In accept order, so the front has the earliest deadline.
  Connections conns_;
  std::vector<const common::SocketAddress*> shed_scratch_;
};

}  // namespace proxyd
