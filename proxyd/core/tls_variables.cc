#include "proxyd/core/tls_variables.h"

namespace proxyd {

namespace {

const std::string& field(Variable v, const TlsInfo& t) {
  switch (v) {
    case Variable::ssl_protocol:
      return t.protocol;
    case Variable::ssl_cipher:
      return t.cipher;
    case Variable::ssl_ciphers:
      return t.ciphers;
    case Variable::ssl_curve:
      return t.curve;
    case Variable::ssl_curves:
      return t.curves;
    case Variable::ssl_server_name:
      return t.server_name;
    case Variable::ssl_session_id:
      return t.session_id;
    case Variable::ssl_alpn_protocol:
      return t.alpn_protocol;
    case Variable::ssl_client_verify:
      return t.client_verify;
    case Variable::ssl_client_s_dn:
      return t.client_s_dn;
    case Variable::ssl_client_i_dn:
      return t.client_i_dn;
    case Variable::ssl_client_serial:
      return t.client_serial;
    case Variable::ssl_client_fingerprint:
      return t.client_fingerprint;
    case Variable::ssl_client_cert:
      return t.client_cert;
    case Variable::ssl_client_raw_cert:
      return t.client_raw_cert;
    case Variable::ssl_client_v_start:
      return t.client_v_start;
    case Variable::ssl_client_v_end:
      return t.client_v_end;
    default:
      return t.client_v_remain;
  }
}

}  // namespace

void appendTlsVariable(std::string& out, Variable v, const TlsInfo* tls, Escape escape) {
  if (tls == nullptr) {
    appendNotFound(out, escape);
    return;
  }
  if (v == Variable::ssl_session_reused) {
    out += tls->session_reused ? 'r' : '.';
    return;
  }
  appendEscaped(out, field(v, *tls), escape);
}

}  // namespace proxyd
