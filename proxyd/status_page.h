// The status page ([status] listen, port 10088 in the seed), served with
// libevent's evhttp on the control loop: GET / answers 200 "proxyd <hostname>
// ok" while every worker loop is alive (what the track script checks), and
// /stub_status, /status, /metrics and /ready report the counters. The
// answers themselves are pure functions (status_render.h).
#pragma once

#include <event2/listener.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/event.h"
#include "common/log.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "proxyd/config.h"
#include "proxyd/status_render.h"

namespace proxyd {

struct EvConnListenerDeleter {
  void operator()(evconnlistener* l) const { evconnlistener_free(l); }
};
using EvConnListenerPtr = std::unique_ptr<evconnlistener, EvConnListenerDeleter>;

class StatusPage {
 public:
  using SnapshotSource = std::function<StatsSnapshot()>;

  StatusPage(event_base* base, common::Log& log, StatusSection cfg, SnapshotSource snapshot);
  ~StatusPage();
  StatusPage(const StatusPage&) = delete;
  StatusPage& operator=(const StatusPage&) = delete;

  // Takes over a listening socket opened by Listener::open.
  common::Result<bool> start(common::UniqueFd fd);
  // A reload with the same address: new access rules, same socket.
  void setConfig(StatusSection cfg) { cfg_ = std::move(cfg); }
  const StatusSection& config() const { return cfg_; }

 private:
  static void onRequest(evhttp_request* req, void* arg);
  static void onAcceptError(evconnlistener* l, void* arg);
  static void onResume(evutil_socket_t, short, void* arg);
  // The pages by their evhttp, for onAcceptError (whose argument is the
  // evhttp). Only the control thread touches it.
  static std::map<evhttp*, StatusPage*>& pages();

  event_base* base_;
  common::Log& log_;
  StatusSection cfg_;
  SnapshotSource snapshot_;
  common::EvHttpPtr http_;
  evconnlistener* listener_ = nullptr;  // owned by http_ (evhttp_bind_listener)
  common::EventPtr resume_;
};

}  // namespace proxyd
