// A listening socket of the [server]s of one address on one worker,
// accepting sessions (for the default one: virtual_servers.h).
// Each worker has its own socket per address (SO_REUSEPORT): the kernel
// spreads new connections over the workers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/event.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "proxyd/core/listen.h"
#include "proxyd/core/virtual_servers.h"

namespace proxyd {

class Worker;

class Listener {
 public:
  // Opens, binds and listens (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY on
  // "[::]" unless ipv6only=off, as nginx, TCP_NODELAY inherited by accepted
  // sockets, the listen parameters: listen_options.h). An address in use is
  // an error naming it; an option that fails is a warning in `warnings`.
  static common::Result<common::UniqueFd> open(const common::SocketAddress& addr,
                                               const ListenSocketOptions& options = {},
                                               std::vector<std::string>* warnings = nullptr);

  Listener(Worker& worker, std::shared_ptr<const VirtualServers> servers, common::UniqueFd fd,
           const common::SocketAddress& addr);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  common::Result<void> enable();
  void disable();

  const common::SocketAddress& address() const { return addr_; }
  const std::shared_ptr<const VirtualServers>& servers() const { return servers_; }
  // After a reload: new sessions on this (kept) socket use `servers`;
  // running ones keep the block they were accepted by.
  void setServers(std::shared_ptr<const VirtualServers> servers);

 private:
  static void onAccept(evutil_socket_t fd, short what, void* arg);

  Worker& worker_;
  std::shared_ptr<const VirtualServers> servers_;
  bool need_local_ = false;  // a log format of its servers shows $server_addr
  common::UniqueFd fd_;
  common::SocketAddress addr_;
  common::EventPtr event_;
  bool bound_wildcard_;
  bool enabled_ = false;
};

}  // namespace proxyd
