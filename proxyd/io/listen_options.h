// nginx's listen parameters on a listening socket (ngx_open_listening_sockets
// and ngx_configure_listening_sockets), plus IP_FREEBIND on an address this
// node may not hold yet (a VIP that vrrpd brings later).
#pragma once

#include <string>
#include <vector>

#include "common/address.h"
#include "common/result.h"
#include "proxyd/core/listen.h"

namespace proxyd {

// Before bind(): ipv6only, IP_FREEBIND on a specific IP address, rcvbuf and
// sndbuf. A failure here is an error naming the socket (nginx: emerg, the
// start fails) only for what the socket cannot go without; the rest are
// warnings ("..., ignored"), returned for the caller to log.
common::Result<std::vector<std::string>> configureBeforeBind(int fd,
                                                             const common::SocketAddress& addr,
                                                             const ListenSocketOptions& o);

// After listen(): so_keepalive, fastopen and deferred, which accepted
// sockets inherit (Linux). Also run on a kept socket at a reload, as nginx
// configures every listening socket of a new cycle. Returns the warnings.
std::vector<std::string> configureListening(int fd, const common::SocketAddress& addr,
                                            const ListenSocketOptions& o);

}  // namespace proxyd
