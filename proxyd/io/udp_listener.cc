#include "proxyd/io/udp_listener.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

#include "common/sys_error.h"
#include "proxyd/io/datagram_batch.h"
#include "proxyd/io/udp_session.h"
#include "proxyd/io/worker.h"

namespace proxyd {

common::Result<common::UniqueFd> UdpListener::open(const common::SocketAddress& addr) {
  using R = common::Result<common::UniqueFd>;
  common::UniqueFd fd(::socket(addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return R::fail(common::SysError{"socket()", errno}.message());
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (addr.family() == AF_INET6) {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (addr.isWildcard() && addr.family() == AF_INET) {
    ::setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  } else if (addr.isWildcard()) {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  }
  if (::bind(fd.get(), addr.sa(), addr.len()) != 0) {
    int err = errno;
    return R::fail(common::SysError{"bind() to " + addr.toString() + " (udp)", err}.message());
  }
  return fd;
}

UdpListener::UdpListener(Worker& worker, std::shared_ptr<const VirtualServers> servers,
                         common::UniqueFd fd, const common::SocketAddress& addr)
    : worker_(worker),
      servers_(std::move(servers)),
      // worker_connections bounds the sessions of the worker as a whole;
      // this table has no smaller bound of its own.
      endpoint_(std::make_shared<UdpEndpoint>(std::move(fd), addr, SIZE_MAX)),
      wildcard_(addr.isWildcard()) {}

UdpListener::~UdpListener() {
  event_.reset();
}

common::Result<void> UdpListener::enable() {
  if (!event_) {
    // Level-triggered: datagrams left after one batch wake the next pass.
    event_.reset(
        event_new(worker_.base(), endpoint_->fd.get(), EV_READ | EV_PERSIST, onReadable, this));
    if (!event_) return common::Result<void>::fail("event_new() failed for a UDP listener");
  }
  if (enabled_) return {};
  if (event_add(event_.get(), nullptr) != 0) {
    return common::Result<void>::fail("event_add() failed for a UDP listener");
  }
  enabled_ = true;
  return {};
}

void UdpListener::disable() {
  if (event_ && enabled_) event_del(event_.get());
  enabled_ = false;
}

// One recvmmsg() batch per wakeup.
void UdpListener::onReadable(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<UdpListener*>(arg);
  DatagramBatch& batch = self->worker_.datagrams();
  int n;
  do {
    n = ::recvmmsg(fd, batch.forReceive(true), DatagramBatch::kCount, 0, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    // An ICMP error for something sent from this socket (an answer to a
    // client that has gone) is reported here: nothing to do with it.
    if (err != EAGAIN && err != EWOULDBLOCK && err != ECONNREFUSED) {
      self->worker_.log().error("{}", common::SysError{"recvmmsg()", err});
    }
    return;
  }
  for (int i = 0; i < n; ++i) {
    const mmsghdr& m = batch.msgs()[i];
    if (m.msg_hdr.msg_flags & MSG_TRUNC) {
      // Over nginx's 65535 bytes (possible only with IPv6 jumbograms).
      self->worker_.counters().udp_dropped.add();
      continue;
    }
    common::SocketAddress client(reinterpret_cast<const sockaddr*>(&batch.name(i)),
                                 m.msg_hdr.msg_namelen);
    common::SocketAddress local;
    if (self->wildcard_) local = batch.localOf(i, self->endpoint_->addr.port());
    self->dispatch(client, local, std::string_view(batch.data(i), m.msg_len));
  }
}

// Sessions are keyed by the client's address alone: on a wildcard listener
// a client that sends from one port to two local addresses has one session
// (nginx keys by both).
void UdpListener::dispatch(const common::SocketAddress& client, const common::SocketAddress& local,
                           std::string_view datagram) {
  if (UdpSession* s = endpoint_->sessions.find(client)) return s->request(datagram);
  worker_.counters().accepted.add();
  if (!worker_.admitSession()) {
    // nginx drops the datagram it has no connection for.
    worker_.counters().udp_dropped.add();
    return;
  }
  worker_.counters().handled.add();
  UdpSession& s = worker_.openUdpSession(servers_->defaultBlock(), endpoint_, client, local);
  endpoint_->sessions.insert(client, &s);  // find() said the address has none
  s.start(datagram);                       // may end the session at once
}

}  // namespace proxyd
