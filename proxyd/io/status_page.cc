#include "proxyd/io/status_page.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "common/sys_error.h"
#include "proxyd/core/status_http.h"

namespace proxyd {

namespace {
constexpr std::chrono::milliseconds kAcceptPause{500};
}  // namespace

struct StatusPage::Connection {
  StatusPage* page = nullptr;
  Connections::iterator self;
  common::SocketAddress peer;
  std::chrono::steady_clock::time_point deadline;
  common::UniqueFd fd;
  // Events go before the socket (members are destroyed in reverse order).
  common::EventPtr read_event;
  common::EventPtr write_event;
  std::string received;         // at most kStatusMaxHeadBytes + kStatusMaxBodyBytes
  std::size_t scanned = 0;      // how far findStatusHeadEnd has looked
  std::size_t head_end = 0;     // 0 until the head is complete
  std::size_t request_end = 0;  // head_end + the body's length
  std::optional<StatusRequest> request;
  std::string out;  // the answer being written
  std::size_t sent = 0;
};

StatusPage::StatusPage(event_base* base, common::Log& log, StatusSection cfg,
                       SnapshotSource snapshot, StatusPageStats& stats)
    : base_(base), log_(log), cfg_(std::move(cfg)), snapshot_(std::move(snapshot)), stats_(stats) {}

StatusPage::~StatusPage() {
  listener_.reset();  // closes the listening socket
  while (!conns_.empty()) close(conns_.front());
  resume_.reset();
  deadline_.reset();
}

common::Result<void> StatusPage::start(common::UniqueFd fd) {
  using R = common::Result<void>;
  resume_.reset(evtimer_new(base_, onResume, this));
  deadline_.reset(evtimer_new(base_, onDeadline, this));
  if (!resume_ || !deadline_) return R::fail("evtimer_new() failed");
  // Our own accept callback: the access list is applied before a byte is
  // read, and EMFILE pauses accepting instead of making libevent's listener
  // spin on a socket that stays readable.
  listener_.reset(evconnlistener_new(base_, onAccept, this,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd.get()));
  if (!listener_) return R::fail("evconnlistener_new() failed");
  fd.release();  // the listener owns and closes it now
  evconnlistener_set_error_cb(listener_.get(), onAcceptError);
  return {};
}

// EMFILE/ENFILE on the status socket: pause accepting for 500 ms, as the
// proxy's listeners do (libevent's listener would otherwise retry at once,
// spinning on a socket that stays readable).
void StatusPage::onAcceptError(evconnlistener* l, void* arg) {
  auto* self = static_cast<StatusPage*>(arg);
  int err = EVUTIL_SOCKET_ERROR();
  if (err != EMFILE && err != ENFILE) return;
  evconnlistener_disable(l);
  self->log_.alert("status page: {}, pausing for {} ms", common::SysError{"accept()", err},
                   kAcceptPause.count());
  timeval tv = common::toTimeval(kAcceptPause);
  evtimer_add(self->resume_.get(), &tv);
}

void StatusPage::onResume(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<StatusPage*>(arg);
  if (self->listener_) evconnlistener_enable(self->listener_.get());
}

bool StatusPage::allowed(const common::SocketAddress& peer) const {
  for (const AccessRule& rule : cfg_.rules) {
    if (rule.cidr.contains(peer)) return rule.allow;
  }
  return true;
}

void StatusPage::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len, void* arg) {
  auto* self = static_cast<StatusPage*>(arg);
  common::UniqueFd owned(fd);
  common::SocketAddress peer(sa, static_cast<socklen_t>(len));
  if (!self->allowed(peer)) {
    // Closed before anything is read: a denied client costs one accept().
    ++self->stats_.denied;
    return;
  }
  self->admit(std::move(owned), peer);
}

void StatusPage::admit(common::UniqueFd fd, const common::SocketAddress& peer) {
  if (conns_.size() >= kStatusMaxConnections) {
    shed_scratch_.clear();
    for (const Connection& c : conns_) shed_scratch_.push_back(&c.peer);
    std::size_t victim = pickShedVictim(shed_scratch_, peer);
    ++stats_.shed;
    close(*std::next(conns_.begin(), static_cast<std::ptrdiff_t>(victim)));
  }
  Connection& c = conns_.emplace_back();
  c.page = this;
  c.self = std::prev(conns_.end());
  c.peer = peer;
  c.deadline = std::chrono::steady_clock::now() + kStatusRequestDeadline;
  c.fd = std::move(fd);
  ++stats_.accepted;
  ++stats_.active;
  c.read_event.reset(event_new(base_, c.fd.get(), EV_READ | EV_PERSIST, onReadable, &c));
  c.write_event.reset(event_new(base_, c.fd.get(), EV_WRITE | EV_PERSIST, onWritable, &c));
  if (!c.read_event || !c.write_event || event_add(c.read_event.get(), nullptr) != 0) {
    log_.alert("status page: event_add() failed");
    close(c);
    return;
  }
  armDeadline();
  // The request is usually there already (loopback): answer it now.
  readRequest(c);
}

void StatusPage::onReadable(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  c->page->readRequest(*c);
}

void StatusPage::onWritable(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  c->page->writeAnswer(*c);
}

void StatusPage::readRequest(Connection& c) {
  char buf[4096];
  bool eof = false;
  for (;;) {
    // Never more than the request can still need: what is beyond the head
    // limit or the announced body stays in the kernel's buffer (and makes
    // the close a reset).
    std::size_t limit = c.head_end ? c.request_end : kStatusMaxHeadBytes + 1;
    if (c.received.size() >= limit) break;
    std::size_t want = limit - c.received.size();
    ssize_t n = ::recv(c.fd.get(), buf, std::min(want, sizeof buf), 0);
    if (n > 0) {
      c.received.append(buf, static_cast<std::size_t>(n));
      if (!c.head_end) {
        std::size_t end = findStatusHeadEnd(c.received, c.scanned);
        c.scanned = c.received.size();
        if (end != std::string_view::npos && end <= kStatusMaxHeadBytes) {
          StatusHead head = parseStatusHead(std::string_view(c.received).substr(0, end));
          if (!head.request) {
            ++stats_.refused;
            answer(c, head.refusal, false);
            return;
          }
          c.head_end = end;
          c.request_end = end + head.request->body_length;
          c.request = std::move(head.request);
        } else if (end != std::string_view::npos || c.received.size() > kStatusMaxHeadBytes) {
          ++stats_.refused;
          answer(c, statusHeadTooLarge(c.received), false);
          return;
        }
      }
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    close(c);  // reset by the peer
    return;
  }
  if (c.head_end && c.received.size() >= c.request_end) {
    const StatusRequest& req = *c.request;
    std::string method = req.method == "GET" || req.method == "HEAD" ? req.method : "OTHER";
    std::optional<StatusReply> refused = admitStatusRequest(method, c.peer, cfg_.rules);
    StatusReply reply = refused ? std::move(*refused) : renderEndpoint(req.path, snapshot_());
    answer(c, reply, method == "HEAD");
    return;
  }
  if (eof) close(c);  // closed before the request was complete
}

void StatusPage::answer(Connection& c, const StatusReply& reply, bool head_only) {
  event_del(c.read_event.get());
  c.out = formatStatusResponse(reply, head_only, std::time(nullptr));
  c.sent = 0;
  writeAnswer(c);
}

void StatusPage::writeAnswer(Connection& c) {
  while (c.sent < c.out.size()) {
    ssize_t n = ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (event_add(c.write_event.get(), nullptr) != 0) close(c);
      return;
    }
    close(c);
    return;
  }
  // One request per connection ("Connection: close"): the FIN follows the
  // answer.
  close(c);
}

void StatusPage::close(Connection& c) {
  --stats_.active;
  conns_.erase(c.self);
}

void StatusPage::armDeadline() {
  if (conns_.empty() || evtimer_pending(deadline_.get(), nullptr)) return;
  auto left = conns_.front().deadline - std::chrono::steady_clock::now();
  auto us = std::max<std::chrono::microseconds>(
      std::chrono::microseconds(0), std::chrono::duration_cast<std::chrono::microseconds>(left));
  timeval tv = common::toTimeval(us);
  evtimer_add(deadline_.get(), &tv);
}

// Deadlines are in accept order: close from the front while they have
// passed, then wait for the next one.
void StatusPage::onDeadline(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<StatusPage*>(arg);
  auto now = std::chrono::steady_clock::now();
  while (!self->conns_.empty() && self->conns_.front().deadline <= now) {
    ++self->stats_.timed_out;
    self->close(self->conns_.front());
  }
  self->armDeadline();
}

}  // namespace proxyd
