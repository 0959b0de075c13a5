// nginx 1.25.5's `pass` (ngx_stream_pass_module): the accepted connection
// goes on as if it had been accepted by another listening socket of the same
// proxy, e.g. after ssl_preread routing on 443 to a server that terminates
// TLS on another port. The address is numeric (nginx does not resolve it)
// and picks a TCP listener as nginx's ngx_stream_pass_match does.
#pragma once

#include <string_view>

#include "common/address.h"
#include "common/result.h"

namespace proxyd {

// At most this many passes for one connection: more is nginx's "stream
// pass cycle" (NGX_STREAM_PASS_MAX_PASSES).
inline constexpr unsigned kMaxPasses = 10;

// "192.0.2.1:8443", "[::1]:8443", "unix:/path". The error is nginx's reason
// without its context: "has no port", "has no addresses", "invalid host".
common::Result<common::SocketAddress> parsePassAddress(std::string_view text);

// Whether a listener on `listening` takes a connection passed to `target`:
// a listener on a specific address only that address, a wildcard one
// every address of its family with its port.
bool passMatches(const common::SocketAddress& listening, const common::SocketAddress& target);

}  // namespace proxyd
