#include "proxyd/status_page.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace proxyd {

namespace {
constexpr std::chrono::milliseconds kAcceptPause{500};
}  // namespace

StatusPage::StatusPage(event_base* base, common::Log& log, StatusSection cfg,
                       SnapshotSource snapshot)
    : base_(base), log_(log), cfg_(std::move(cfg)), snapshot_(std::move(snapshot)) {}

StatusPage::~StatusPage() {
  if (http_) pages().erase(http_.get());
  resume_.reset();
  http_.reset();  // frees the bound listener and its socket
}

common::Result<bool> StatusPage::start(common::UniqueFd fd) {
  using R = common::Result<bool>;
  http_.reset(evhttp_new(base_));
  if (!http_) return R::fail("evhttp_new() failed");
  // Every method reaches onRequest, which answers 405 with "Allow" itself.
  evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
  evhttp_set_gencb(http_.get(), onRequest, this);
  evhttp_set_timeout(http_.get(), 10);
  // Our own evconnlistener, so that EMFILE pauses accepting instead of
  // making libevent's default listener spin on a readable socket.
  listener_ = evconnlistener_new(base_, nullptr, nullptr, LEV_OPT_CLOSE_ON_FREE, -1, fd.get());
  if (listener_ == nullptr) return R::fail("evconnlistener_new() failed");
  fd.release();  // the listener owns and closes it now
  evhttp_bound_socket* bound = evhttp_bind_listener(http_.get(), listener_);
  if (bound == nullptr) {
    evconnlistener_free(listener_);
    listener_ = nullptr;
    return R::fail("evhttp_bind_listener() failed");
  }
  evconnlistener_set_error_cb(listener_, onAcceptError);
  pages()[http_.get()] = this;
  resume_.reset(evtimer_new(base_, onResume, this));
  if (!resume_) return R::fail("evtimer_new() failed");
  return true;
}

// EMFILE/ENFILE on the status socket: pause accepting for 500 ms, as the
// proxy's listeners do (libevent's listener would otherwise retry at once,
// spinning on a socket that stays readable).
void StatusPage::onAcceptError(evconnlistener* l, void* arg) {
  // evhttp_bind_listener made the listener's argument the evhttp.
  auto it = pages().find(static_cast<evhttp*>(arg));
  if (it == pages().end()) return;
  StatusPage* self = it->second;
  int err = EVUTIL_SOCKET_ERROR();
  if (err != EMFILE && err != ENFILE) return;
  evconnlistener_disable(l);
  self->log_.alert("status page: accept() failed ({}: {}), pausing for {} ms", err,
                   std::strerror(err), kAcceptPause.count());
  timeval tv = common::toTimeval(kAcceptPause);
  evtimer_add(self->resume_.get(), &tv);
}

std::map<evhttp*, StatusPage*>& StatusPage::pages() {
  static std::map<evhttp*, StatusPage*> map;
  return map;
}

void StatusPage::onResume(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<StatusPage*>(arg);
  if (self->listener_ != nullptr) evconnlistener_enable(self->listener_);
}

void StatusPage::onRequest(evhttp_request* req, void* arg) {
  auto* self = static_cast<StatusPage*>(arg);
  std::string method;
  switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
      method = "GET";
      break;
    case EVHTTP_REQ_HEAD:
      method = "HEAD";
      break;
    default:
      method = "OTHER";
      break;
  }
  const char* uri = evhttp_request_get_uri(req);
  std::string path = uri ? uri : "/";
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);

  common::SocketAddress client;
  evhttp_connection* conn = evhttp_request_get_connection(req);
  if (conn != nullptr) {
    const sockaddr* sa = evhttp_connection_get_addr(conn);
    if (sa != nullptr) {
      client = common::SocketAddress(
          sa, sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    }
  }
  std::optional<StatusReply> refused = admitStatusRequest(method, client, self->cfg_.rules);
  StatusReply reply = refused ? std::move(*refused) : renderEndpoint(path, self->snapshot_());
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", reply.content_type.c_str());
  evhttp_add_header(headers, "Server", "proxyd");
  evhttp_add_header(headers, "Cache-Control", "no-cache");
  if (reply.allow_header) evhttp_add_header(headers, "Allow", "GET, HEAD");
  if (method == "HEAD") {
    // evhttp would send the body after HEAD's headers: send the length only.
    evhttp_add_header(headers, "Content-Length", std::to_string(reply.body.size()).c_str());
    evhttp_send_reply(req, reply.code, reply.reason.c_str(), nullptr);
    return;
  }
  evbuffer* body = evbuffer_new();
  evbuffer_add(body, reply.body.data(), reply.body.size());
  evhttp_send_reply(req, reply.code, reply.reason.c_str(), body);
  evbuffer_free(body);
}

}  // namespace proxyd
