// Where `proxy_pass $var` sends a session once its value is known (nginx's
// ngx_stream_proxy_eval and the group search of ngx_stream_proxy_handler):
// the value is parsed as nginx's ngx_parse_url does with no_resolve; a name
// (with no port) equal to an [upstream]'s uses that group, an address with a
// port becomes a one-peer group of its own, and anything else is an error
// logged as nginx logs it, with status 500.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "proxyd/core/stats.h"
#include "proxyd/core/template.h"
#include "proxyd/core/upstream_group.h"

namespace proxyd {

// A group a session can be routed to by name, with what a session needs of
// it: its live state and balancer, its peers' last errors, its hash key.
struct RouteGroup {
  std::string name;
  std::shared_ptr<UpstreamGroup> group;
  std::shared_ptr<PeerErrors> peer_errors;
  std::optional<Template> hash_key;  // for hash and consistent_hash
};

// Every group of a generation, found by name as nginx compares upstream
// hosts (case-insensitively).
class RouteGroups {
 public:
  void add(RouteGroup g) { groups_.push_back(std::move(g)); }
  const RouteGroup* find(std::string_view name) const;
  const std::vector<RouteGroup>& all() const { return groups_; }

 private:
  std::vector<RouteGroup> groups_;
};

struct PassTarget {
  // name: a host name with a port, for the [server]'s resolver (without one,
  // `error` is nginx's "no resolver defined to resolve NAME").
  enum class Kind { group, address, name, error };
  Kind kind = Kind::error;
  const RouteGroup* group = nullptr;  // Kind::group
  common::SocketAddress address;      // Kind::address
  std::string host;                   // Kind::name
  std::uint16_t port = 0;             // Kind::name
  std::string error;                  // Kind::error: nginx's message, logged at "error"
};

PassTarget resolvePassTarget(std::string_view value, const RouteGroups& groups);

}  // namespace proxyd
