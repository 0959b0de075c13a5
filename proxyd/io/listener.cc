#include "proxyd/io/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/sys_error.h"
#include "proxyd/io/listen_options.h"
#include "proxyd/io/session.h"
#include "proxyd/io/worker.h"

namespace proxyd {

namespace {
// One accept per readiness, as nginx without multi_accept: the listening
// event is level-triggered, so connections still queued are reported again
// by the next epoll_wait, which the loop makes anyway. Accepting until
// EAGAIN would cost a failing accept4() on every wakeup.
constexpr int kAcceptBatch = 1;
}  // namespace

common::Result<common::UniqueFd> Listener::open(const common::SocketAddress& addr,
                                                const ListenSocketOptions& options,
                                                std::vector<std::string>* warnings) {
  using R = common::Result<common::UniqueFd>;
  common::UniqueFd fd(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return R::fail(common::SysError{"socket()", errno}.message());
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Every worker has its own socket on the address: nginx's `reuseport`,
  // always (the parameter is accepted and changes nothing).
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  // Accepted sockets inherit TCP_NODELAY from the listener on Linux: one
  // setsockopt() per listener instead of one per session.
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // nginx binds "[::]:port" IPv6-only by default, so that "port" and
  // "[::]:port" can both be listened on.
  auto before = configureBeforeBind(fd.get(), addr, options);
  if (!before) return R::fail(before.error());
  if (::bind(fd.get(), addr.sa(), addr.len()) != 0) {
    int err = errno;
    return R::fail(common::SysError{"bind() to " + addr.toString(), err}.message());
  }
  if (::listen(fd.get(), options.backlog) != 0) {
    int err = errno;
    return R::fail(common::SysError{
        fmt::format("listen() to {}, backlog {}", addr.toString(), options.backlog), err}
                       .message());
  }
  auto after = configureListening(fd.get(), addr, options);
  if (warnings != nullptr) {
    warnings->insert(warnings->end(), before->begin(), before->end());
    warnings->insert(warnings->end(), after.begin(), after.end());
  }
  return fd;
}

Listener::Listener(Worker& worker, std::shared_ptr<const VirtualServers> servers,
                   common::UniqueFd fd, const common::SocketAddress& addr)
    : worker_(worker), fd_(std::move(fd)), addr_(addr), bound_wildcard_(addr.isWildcard()) {
  setServers(std::move(servers));
}

void Listener::setServers(std::shared_ptr<const VirtualServers> servers) {
  servers_ = std::move(servers);
  need_local_ = false;
  for (const auto& block : servers_->blocks) {
    need_local_ = need_local_ || (bound_wildcard_ && block->logsUse(Variable::server_addr));
  }
}

Listener::~Listener() {
  event_.reset();
}

common::Result<void> Listener::enable() {
  if (!event_) {
    event_.reset(event_new(worker_.base(), fd_.get(), EV_READ | EV_PERSIST, onAccept, this));
    if (!event_) return common::Result<void>::fail("event_new() failed for a listener");
  }
  if (enabled_) return {};
  if (event_add(event_.get(), nullptr) != 0) {
    return common::Result<void>::fail("event_add() failed for a listener");
  }
  enabled_ = true;
  return {};
}

void Listener::disable() {
  if (event_ && enabled_) event_del(event_.get());
  enabled_ = false;
}

void Listener::onAccept(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  Worker& worker = self->worker_;
  const bool need_local = self->need_local_;
  for (int i = 0; i < kAcceptBatch; ++i) {
    common::SocketAddress remote;
    *remote.lenPtr() = common::SocketAddress::capacity();
    int cfd = ::accept4(fd, remote.sa(), remote.lenPtr(), SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED) return;
      if (err == EMFILE || err == ENFILE) {
        // Out of descriptors: stop accepting for a while rather than spin on
        // a listener that stays readable (as nginx does).
        worker.pauseAccepting(common::SysError{"accept4()", err}.message());
        return;
      }
      worker.log().error("{}", common::SysError{"accept4()", err});
      return;
    }
    worker.counters().accepted.add();
    if (worker.descriptorReserved(cfd + 1)) {
      // No room below the control thread's reserve for this session's
      // upstream socket (the kernel gives the lowest free number): as out
      // of descriptors (EMFILE), except that this one was accepted and is
      // closed.
      ::close(cfd);
      worker.pauseAccepting(
          fmt::format("accept4() gave descriptor {}: no room for its upstream socket below the "
                      "descriptors kept for the status page (from {} up)",
                      cfd, worker.descriptorCeiling()));
      return;
    }
    if (!worker.admitSession()) {
      // nginx closes a connection it has no room for ("worker_connections
      // are not enough"): accepted, not handled.
      ::close(cfd);
      continue;
    }
    worker.counters().handled.add();
    common::SocketAddress local = self->addr_;
    if (need_local) {
      *local.lenPtr() = common::SocketAddress::capacity();
      ::getsockname(cfd, local.sa(), local.lenPtr());
    }
    self->worker_.openSession(self->servers_, common::UniqueFd(cfd), remote, local)
        .start();  // may end the session at once: do not touch it after
  }
}

}  // namespace proxyd
