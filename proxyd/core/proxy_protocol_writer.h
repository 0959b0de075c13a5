// The PROXY header proxyd sends to the upstream (`proxy_protocol = on|v2`),
// as nginx writes it (ngx_proxy_protocol_write, _v2_write): the client
// address (after realip) and the address it connected to.
#pragma once

#include <string>

#include "common/address.h"

namespace proxyd {

// "PROXY TCP4 192.0.2.1 198.51.100.1 51000 10443\r\n"; a client that is not
// IPv4 or IPv6 (a UNIX socket) is "PROXY UNKNOWN\r\n". At most 107 bytes.
std::string proxyProtocolV1(const common::SocketAddress& client,
                            const common::SocketAddress& local);

// v2: PROXY over STREAM with both addresses (INET6 when either side is,
// IPv4 promoted to ::ffff:a.b.c.d; INET when both are IPv4-mapped), or
// LOCAL without addresses when either side is not IP; then the CRC32C TLV
// over the whole header. (nginx adds SSL TLVs for a TLS client.)
std::string proxyProtocolV2(const common::SocketAddress& client,
                            const common::SocketAddress& local);

// ngx_sock_ntop without the port: the address text nginx prints (its own
// IPv6 form, ngx_inet6_ntop).
std::string nginxAddressText(const common::SocketAddress& addr);

}  // namespace proxyd
