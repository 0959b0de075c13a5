// How a [server] opens its upstream sockets: proxy_bind (the local address,
// maybe transparent), as ngx_stream_proxy_bind parses it. proxy_socket_keepalive
// and tcp_nodelay are plain flags of ServerSection.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/address.h"
#include "common/result.h"

namespace proxyd {

struct ProxyBind {
  std::string value;  // as written: an address, or a template with variables
  std::optional<common::SocketAddress> address;  // parsed at load when it has no variable
  // IP_TRANSPARENT / IPV6_TRANSPARENT: the address need not be this host's
  // (needs CAP_NET_ADMIN or CAP_NET_RAW, and routing back to proxyd).
  bool transparent = false;
  bool hasVariables() const { return value.find('$') != std::string::npos; }
  bool operator==(const ProxyBind&) const = default;
};

// "ADDRESS [transparent]" or "off" (nullopt). Errors as nginx's:
// "invalid address \"X\"", "invalid parameter \"X\"".
common::Result<std::optional<ProxyBind>> parseProxyBind(std::string_view value);

// ngx_parse_addr_port: "192.0.2.1", "192.0.2.1:5000", "2001:db8::1" or
// "[2001:db8::1]:5000"; nullopt for anything else (also at run time, for the
// value of a proxy_bind with variables: "invalid local address").
std::optional<common::SocketAddress> parseBindAddress(std::string_view text);

}  // namespace proxyd
