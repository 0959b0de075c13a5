// The PROXY protocol header a load balancer puts before the client's bytes
// (haproxy's proxy-protocol.txt: v1 text, v2 binary), read as nginx reads it
// on `listen ... proxy_protocol` (src/core/ngx_proxy_protocol.c): the same
// accepted forms, the same bounds and the same log texts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace proxyd {

// NGX_PROXY_PROTOCOL_MAX_HEADER since nginx 1.23.2: the most nginx peeks at
// once; a header is judged on at most this many bytes.
inline constexpr std::size_t kProxyProtocolMaxHeader = 4096;

// The v2 signature (12 bytes) and the fixed part after it (16 in all).
inline constexpr std::string_view kProxyProtocolV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
inline constexpr std::size_t kProxyProtocolV2Fixed = 16;

// What the header said, as nginx keeps it (ngx_proxy_protocol_t).
struct ProxyProtocolHeader {
  // v1: the text as written (nginx checks only its characters); v2: the
  // address printed (inet_ntop).
  std::string src_addr;
  std::string dst_addr;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::string tlvs;  // v2: the TLV bytes after the addresses, unparsed
  bool operator==(const ProxyProtocolHeader&) const = default;
};

struct ProxyProtocolResult {
  enum class State { need_more, done, error };
  State state = State::need_more;
  // done: the header's length, to be consumed from the connection.
  std::size_t consumed = 0;
  // done: absent when the header carries no addresses nginx keeps (v1
  // UNKNOWN, v2 LOCAL, a v2 family or transport other than TCP over IP):
  // the connection goes on with its own addresses.
  std::optional<ProxyProtocolHeader> header;
  // error: nginx's log line, at error level ("broken header: \"...\"");
  // empty where nginx logs nothing (a v2 address block that is too short).
  std::string error;
};

// Reads the header at the start of `data` (what the client sent so far).
// With `final` the bytes are all there will be, as nginx judges its one
// peek: a header cut short is an error with nginx's text. Without it, a
// prefix of a possible header is need_more, unless kProxyProtocolMaxHeader
// bytes are there already.
ProxyProtocolResult parseProxyProtocol(std::string_view data, bool final);

// An IPv6 address (16 bytes) as nginx prints it (ngx_inet6_ntop), which
// is not always inet_ntop's text ("::0.0.1.2" for ::102).
std::string nginxInet6Text(const unsigned char* bytes);

}  // namespace proxyd
