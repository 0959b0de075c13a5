// The socket options a [server] asks of its sessions' sockets beyond
// proxyd's defaults (proxy_socket_keepalive, proxy_bind, tcp_nodelay off), as
// ngx_event_connect_peer and ngx_tcp_nodelay set them. Sessions of a [server]
// without them never call in here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/log.h"
#include "proxyd/core/config.h"

namespace proxyd {

struct SocketNote {
  common::LogLevel level;
  std::string text;  // nginx's message, without the session's context
};

struct UpstreamSocketSetup {
  bool ok = true;                 // false: the session ends with 500, as nginx's NGX_ERROR
  std::vector<SocketNote> notes;  // to log, in order
};

// Before connect() to `peer`: SO_KEEPALIVE, then proxy_bind's transparent
// flag, IP_BIND_ADDRESS_NO_PORT and bind(). `bind_text` is the value of a
// proxy_bind with variables (empty: no bind, as nginx).
UpstreamSocketSetup prepareUpstreamSocket(int fd, const ServerSection& sec,
                                          const common::SocketAddress& peer,
                                          std::string_view bind_text);

// tcp_nodelay off: accepted sockets inherit TCP_NODELAY from the listener,
// so a [server] that wants Nagle clears it on its client's socket.
void clearClientNodelay(int fd, const common::SocketAddress& local);

}  // namespace proxyd
