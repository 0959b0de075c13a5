// A `listen ... udp` socket of one worker (SO_REUSEPORT: the kernel spreads
// datagrams over the workers by the 4-tuple's hash, so one client's
// datagrams reach one worker, where its session is). Each wakeup reads one
// recvmmsg() batch; each datagram goes to the session of its client
// address, or starts one (nginx's ngx_event_recvmsg).
#pragma once

#include <memory>

#include "common/address.h"
#include "common/event.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "proxyd/core/udp_session_table.h"
#include "proxyd/core/virtual_servers.h"

namespace proxyd {

class Worker;
class UdpSession;

// The socket and its sessions by client address, shared by the listener and
// its sessions: a session still answers its client through it after a
// reload has closed the listener.
struct UdpEndpoint {
  UdpEndpoint(common::UniqueFd f, const common::SocketAddress& a, std::size_t capacity)
      : fd(std::move(f)), addr(a), sessions(capacity) {}
  common::UniqueFd fd;
  common::SocketAddress addr;
  UdpSessionTable<UdpSession> sessions;
};

class UdpListener {
 public:
  // Opens and binds a datagram socket (SO_REUSEADDR, SO_REUSEPORT,
  // IPV6_V6ONLY on "[::]" as nginx; on a wildcard address the packet info
  // of each datagram, for its local address). An address in use is an
  // error naming it.
  static common::Result<common::UniqueFd> open(const common::SocketAddress& addr);

  UdpListener(Worker& worker, std::shared_ptr<const VirtualServers> servers, common::UniqueFd fd,
              const common::SocketAddress& addr);
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  common::Result<void> enable();
  void disable();

  const common::SocketAddress& address() const { return endpoint_->addr; }
  std::size_t sessions() const { return endpoint_->sessions.size(); }
  void setServers(std::shared_ptr<const VirtualServers> servers) { servers_ = std::move(servers); }

 private:
  static void onReadable(evutil_socket_t fd, short what, void* arg);
  void dispatch(const common::SocketAddress& client, const common::SocketAddress& local,
                std::string_view datagram);

  Worker& worker_;
  std::shared_ptr<const VirtualServers> servers_;
  std::shared_ptr<UdpEndpoint> endpoint_;
  common::EventPtr event_;
  bool wildcard_;
  bool enabled_ = false;
};

}  // namespace proxyd
