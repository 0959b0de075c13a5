// The ClientHello as ssl_preread reads it, without terminating TLS (nginx's
// ngx_stream_ssl_preread_parse_record), incremental: fed the bytes read from
// the start of the connection so far, it says whether it needs more, has the
// answer, or gave up (not TLS, or malformed: nginx then goes on with the
// $ssl_preread_* variables empty).
#pragma once

#include <string>
#include <string_view>

#include "proxyd/core/session_record.h"

namespace proxyd {

struct ClientHelloResult {
  enum class State { need_more, done, declined };
  State state = State::need_more;
  PrereadInfo info;    // when done (and what was read before giving up, as nginx)
  std::string reason;  // declined: nginx's debug reason, e.g. "ssl_preread: not a handshake"
};

ClientHelloResult parseClientHello(std::string_view data);

}  // namespace proxyd
