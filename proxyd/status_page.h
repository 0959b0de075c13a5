// The status page ([status] listen, port 10088 in the seed): GET / answers
// 200 "proxyd <hostname> ok" from the proxy's own event loop, which is what
// the track script checks. Served with libevent's evhttp.
#pragma once

#include <string>
#include <vector>

#include "common/event.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "proxyd/config.h"

namespace proxyd {

class Worker;

// What a request gets, decided without a socket (tested directly).
struct StatusReply {
  int code = 200;
  std::string reason = "OK";
  std::string content_type = "text/plain";
  std::string body;
};
StatusReply renderStatus(const std::string& method, const std::string& path,
                         const common::SocketAddress& client, const StatusSection& cfg,
                         const std::string& hostname);

class StatusPage {
 public:
  StatusPage(Worker& worker, StatusSection cfg);
  // Takes over a listening socket opened by Listener::open.
  common::Result<bool> start(common::UniqueFd fd);

 private:
  static void onRequest(evhttp_request* req, void* arg);

  Worker& worker_;
  StatusSection cfg_;
  common::EvHttpPtr http_;
};

}  // namespace proxyd
