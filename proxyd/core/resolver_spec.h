// nginx's `resolver` directive as written in proxyd.ini ([main] for every
// [server] and [upstream], overridden by theirs), and `resolver_timeout`:
//   resolver = 127.0.0.1:5353 [::1] valid=30s ipv4=on ipv6=off
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/result.h"

namespace proxyd {

struct ResolverSpec {
  std::vector<common::SocketAddress> servers;  // port 53 unless written
  // valid=: how long an answer is used, overriding its TTL; none: the TTL.
  std::optional<std::chrono::seconds> valid;
  bool ipv4 = true;  // ask for A records
  bool ipv6 = true;  // ask for AAAA records (nginx's default since 1.5.8)
  bool operator==(const ResolverSpec&) const = default;
};

// nginx's default resolver_timeout.
inline constexpr std::chrono::milliseconds kDefaultResolverTimeout{30000};

// Parses the value of `resolver`; errors in nginx's words ("invalid
// parameter: ipv4=maybe").
common::Result<ResolverSpec> parseResolverSpec(std::string_view text);

}  // namespace proxyd
