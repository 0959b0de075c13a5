// A listening socket of one [server] on one worker, accepting sessions.
// Each worker has its own socket per address (SO_REUSEPORT): the kernel
// spreads new connections over the workers.
#pragma once

#include <memory>

#include "common/address.h"
#include "common/event.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "proxyd/core/server_block.h"

namespace proxyd {

class Worker;

class Listener {
 public:
  // Opens, binds and listens (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY on
  // "[::]" as nginx, TCP_NODELAY inherited by accepted sockets). An address
  // in use is an error naming it.
  static common::Result<common::UniqueFd> open(const common::SocketAddress& addr,
                                               int backlog = 511);

  Listener(Worker& worker, std::shared_ptr<const ServerBlock> block, common::UniqueFd fd,
           const common::SocketAddress& addr);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  common::Result<void> enable();
  void disable();

  const common::SocketAddress& address() const { return addr_; }
  // After a reload: new sessions on this (kept) socket use `block`;
  // running ones keep the block they were accepted by.
  void setBlock(std::shared_ptr<const ServerBlock> block) { block_ = std::move(block); }

 private:
  static void onAccept(evutil_socket_t fd, short what, void* arg);

  Worker& worker_;
  std::shared_ptr<const ServerBlock> block_;
  common::UniqueFd fd_;
  common::SocketAddress addr_;
  common::EventPtr event_;
  bool bound_wildcard_;
  bool enabled_ = false;
};

}  // namespace proxyd
