// What a terminated TLS session negotiated, as the $ssl_* variables show it
// (ngx_stream_ssl_module). Filled once, when the handshake is done, by
// sessions on a `listen ... ssl` address only.
#pragma once

#include <string>

namespace proxyd {

struct TlsInfo {
  std::string protocol;         // $ssl_protocol: "TLSv1.3"
  std::string cipher;           // $ssl_cipher: "TLS_AES_256_GCM_SHA384"
  std::string ciphers;          // $ssl_ciphers: the client's, ':'-joined
  std::string curve;            // $ssl_curve: the negotiated group
  std::string curves;           // $ssl_curves: the client's, ':'-joined
  std::string server_name;      // $ssl_server_name: the SNI, "" without one
  std::string session_id;       // $ssl_session_id: hex
  bool session_reused = false;  // $ssl_session_reused: "r" or "."
  std::string alpn_protocol;    // $ssl_alpn_protocol
  // The client certificate (ssl_verify_client): empty without one, except
  // client_verify ("NONE", "SUCCESS", "FAILED:reason").
  std::string client_verify = "NONE";
  std::string client_s_dn;
  std::string client_i_dn;
  std::string client_serial;
  std::string client_fingerprint;
  std::string client_cert;      // PEM, lines after the first tab-indented
  std::string client_raw_cert;  // PEM
  std::string client_v_start;
  std::string client_v_end;
  std::string client_v_remain;
};

}  // namespace proxyd
