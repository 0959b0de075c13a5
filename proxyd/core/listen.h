// nginx stream's `listen` directive: the address and every parameter
// (ngx_stream_core_listen), parsed and checked as nginx checks them. What a
// parameter does to the socket or to a session is up to the listener and
// the session; this is the one place that knows the spelling.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/address.h"
#include "common/result.h"

namespace proxyd {

// so_keepalive=on|off|[IDLE]:[INTVL]:[CNT] (TCP_KEEPIDLE/KEEPINTVL/KEEPCNT;
// times in seconds, as nginx reads them).
struct KeepaliveSpec {
  bool on = false;
  std::optional<int> idle;      // seconds
  std::optional<int> interval;  // seconds
  std::optional<int> count;
  bool operator==(const KeepaliveSpec&) const = default;
};

// The socket-level parameters, as written (unset: the kernel's or nginx's default).
struct ListenSocketOptions {
  int backlog = 511;  // NGX_LISTEN_BACKLOG on Linux
  bool backlog_set = false;
  std::optional<std::size_t> rcvbuf;
  std::optional<std::size_t> sndbuf;
  std::optional<KeepaliveSpec> so_keepalive;
  std::optional<int> fastopen;  // TCP_FASTOPEN queue length
  bool deferred = false;        // TCP_DEFER_ACCEPT
  bool bind = false;            // a socket of its own even beside a wildcard
  bool reuseport = false;
  bool multipath = false;        // IPPROTO_MPTCP (nginx 1.29)
  std::optional<bool> ipv6only;  // unset: on, as nginx
  // Whether any parameter nginx counts as a "listen option" was given: two
  // servers may not both give them for one address.
  bool any() const;
  bool operator==(const ListenSocketOptions&) const = default;
};

struct ListenDirective {
  common::SocketAddress address;  // IPv4, IPv6 or UNIX ("unix:/path")
  bool udp = false;
  bool ssl = false;
  bool proxy_protocol = false;
  bool default_server = false;
  ListenSocketOptions socket;
  int line = 0;

  // A listener is one socket: the same address and transport. Two servers
  // listening on it share it (and choose by server_name).
  bool sameSocket(const ListenDirective& o) const { return udp == o.udp && address == o.address; }
  // "0.0.0.0:53 udp", "[::]:443", "unix:/run/x.sock": for messages and the status page.
  std::string toString() const;
  bool operator==(const ListenDirective&) const = default;
};

// "ADDR [PARAMETER...]": the value of `listen` split as nginx's arguments.
// Errors carry nginx's wording ("invalid parameter \"x\"", "\"ssl\" parameter
// is incompatible with \"udp\"").
common::Result<ListenDirective> parseListen(std::string_view value);

}  // namespace proxyd
