// One `server = ...` line of an `[upstream NAME]` section, as configured.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/result.h"

namespace proxyd {

struct UpstreamServer {
  std::string name;  // the address as written, "192.0.2.11:6443" or "api.lab:6443"
  std::vector<common::SocketAddress> addrs;  // resolved at load; a name may give several
  int weight = 1;
  int max_fails = 1;  // 0: never marked failed
  std::chrono::milliseconds fail_timeout{10000};
  int max_conns = 0;  // 0: no limit
  bool backup = false;
  bool down = false;
  bool operator==(const UpstreamServer&) const = default;
};

// Parses "ADDR [weight=N] [max_fails=N] [fail_timeout=T] [max_conns=N]
// [backup] [down]" (nginx's `server` directive of an upstream block) and
// resolves ADDR. Errors name the bad parameter as nginx does
// ("invalid parameter \"wieght=2\"").
common::Result<UpstreamServer> parseUpstreamServer(std::string_view text);

}  // namespace proxyd
