// ngx_stream_realip_module: `set_real_ip_from` names the peers (load
// balancers) whose PROXY header is believed; for them $remote_addr and
// $remote_port, allow/deny, hash keys and geo see the header's source
// address, and $realip_remote_addr/_port keep the connection's own.
#pragma once

#include <optional>
#include <vector>

#include "common/address.h"
#include "common/result.h"
#include "proxyd/core/proxy_protocol.h"

namespace proxyd {

struct RealIpFrom {
  std::vector<common::Cidr> networks;
  bool unix_peers = false;  // "unix:": every UNIX-socket peer
  bool empty() const { return networks.empty() && !unix_peers; }
  bool operator==(const RealIpFrom&) const = default;
};

// One `set_real_ip_from` value: a CIDR, a bare address, or "unix:".
// nginx also resolves a host name there at load; a name is refused here.
common::Result<void> addRealIpFrom(RealIpFrom& from, std::string_view text);

// ngx_stream_realip_handler: the client address to use instead of `peer`,
// or none (no trusted peer, no header addresses, or a source address that
// is not a numeric IP, which nginx leaves as it is).
std::optional<common::SocketAddress> realClientAddress(const RealIpFrom& from,
                                                       const common::SocketAddress& peer,
                                                       const ProxyProtocolHeader* header);

}  // namespace proxyd
