// The $ssl_* variables of a terminated session (ngx_stream_ssl_module).
#pragma once

#include <string>

#include "proxyd/core/tls_info.h"
#include "proxyd/core/variables.h"

namespace proxyd {

// Appends `v` (one of Variable::ssl_protocol .. ssl_client_v_remain); not
// found ("-") when the session has no TLS, as nginx on a plain connection.
void appendTlsVariable(std::string& out, Variable v, const TlsInfo* tls, Escape escape);

}  // namespace proxyd
