// One `server = ...` line of an `[upstream NAME]` section, as configured.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/host.h"
#include "common/result.h"

namespace proxyd {

struct UpstreamServer {
  std::string name;  // the address as written, "192.0.2.11:6443" or "api.lab:6443"
  // Resolved at load (a name may give several); empty for a `resolve`
  // server, whose addresses come from the resolver at run time.
  std::vector<common::SocketAddress> addrs;
  int weight = 1;
  int max_fails = 1;  // 0: never marked failed
  std::chrono::milliseconds fail_timeout{10000};
  int max_conns = 0;  // 0: no limit
  bool backup = false;
  bool down = false;
  // nginx 1.27.3's `resolve`: the name is looked up by the [upstream]'s
  // resolver while running, as its TTL (or valid=) says.
  bool resolve = false;
  std::string service;  // service=: an SRV lookup of _SERVICE._tcp.NAME (or NAME as written)
  // The name and port to look up (`resolve`); port 0 with service=.
  std::string host;
  std::uint16_t port = 0;
  bool operator==(const UpstreamServer&) const = default;
};

// Parses "ADDR [weight=N] [max_fails=N] [fail_timeout=T] [max_conns=N]
// [backup] [down] [resolve] [service=NAME]" (nginx's `server` directive of an
// upstream block) and resolves ADDR through `host` unless it is resolved at
// run time. Errors name the bad parameter as nginx does
// ("invalid parameter \"wieght=2\"").
common::Result<UpstreamServer> parseUpstreamServer(std::string_view text,
                                                   const common::Host& host = common::realHost());

}  // namespace proxyd
