// A listening socket of one [server] on one worker, accepting sessions.
#pragma once

#include <memory>

#include "common/address.h"
#include "common/event.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "proxyd/server_block.h"

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

  common::Result<bool> enable();
  void disable();

 private:
  static void onAccept(evutil_socket_t fd, short what, void* arg);
  static void onResume(evutil_socket_t fd, short what, void* arg);
  void pause();

  Worker& worker_;
  std::shared_ptr<const ServerBlock> block_;
  common::UniqueFd fd_;
  common::SocketAddress addr_;
  common::EventPtr event_;
  common::EventPtr resume_;
  bool bound_wildcard_;
};

}  // namespace proxyd
