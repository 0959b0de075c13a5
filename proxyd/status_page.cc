#include "proxyd/status_page.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <fmt/format.h>

#include "proxyd/worker.h"

namespace proxyd {

StatusReply renderStatus(const std::string& method, const std::string& path,
                         const common::SocketAddress& client, const StatusSection& cfg,
                         const std::string& hostname) {
  for (const AccessRule& rule : cfg.rules) {
    if (!rule.cidr.contains(client)) continue;
    if (!rule.allow) return {403, "Forbidden", "text/plain", "403 Forbidden\n"};
    break;
  }
  if (method != "GET" && method != "HEAD") {
    return {405, "Method Not Allowed", "text/plain", "405 Method Not Allowed\n"};
  }
  if (path == "/") return {200, "OK", "text/plain", fmt::format("proxyd {} ok\n", hostname)};
  return {404, "Not Found", "text/plain", "404 Not Found\n"};
}

StatusPage::StatusPage(Worker& worker, StatusSection cfg) : worker_(worker), cfg_(std::move(cfg)) {}

common::Result<bool> StatusPage::start(common::UniqueFd fd) {
  http_.reset(evhttp_new(worker_.base()));
  if (!http_) return common::Result<bool>::fail("evhttp_new() failed");
  evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
  evhttp_set_gencb(http_.get(), onRequest, this);
  evhttp_set_timeout(http_.get(), 10);
  if (evhttp_accept_socket(http_.get(), fd.get()) != 0) {
    return common::Result<bool>::fail("evhttp_accept_socket() failed");
  }
  fd.release();  // evhttp owns and closes it now
  return true;
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
  StatusReply reply =
      renderStatus(method, path, client, self->cfg_, self->worker_.process().hostname);
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", reply.content_type.c_str());
  evhttp_add_header(headers, "Server", "proxyd");
  if (reply.code == 405) evhttp_add_header(headers, "Allow", "GET, HEAD");
  evbuffer* body = evbuffer_new();
  evbuffer_add(body, reply.body.data(), reply.body.size());
  evhttp_send_reply(req, reply.code, reply.reason.c_str(), body);
  evbuffer_free(body);
}

}  // namespace proxyd
