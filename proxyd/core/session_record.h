// What one proxied session did, as the access log and the hash key see it.
// Filled by the session as it goes; rendered by LogFormat when it ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/clock.h"
#include "proxyd/core/proxy_protocol.h"
#include "proxyd/core/tls_info.h"

namespace proxyd {

// One try of one upstream server (nginx keeps one state entry per try).
struct UpstreamAttempt {
  std::string addr;                  // "127.0.0.1:16443", or the group name when none was live
  std::uint64_t bytes_sent = 0;      // to the upstream
  std::uint64_t bytes_received = 0;  // from the upstream
  // Time to establish the connection; empty ("-") when it was never established.
  std::optional<common::Duration> connect_time;
  // Time from the start of the try to the first byte from the upstream.
  std::optional<common::Duration> first_byte_time;
  // Time from the start of the try to its end.
  std::optional<common::Duration> session_time;
};

// What ssl_preread read from the client's ClientHello.
struct PrereadInfo {
  std::string protocol;        // "TLSv1.2", "TLSv1.3", ... or "" if not TLS
  std::string server_name;     // SNI, "" when the hello has none
  std::string alpn_protocols;  // "h2,http/1.1", "" when the hello has none
};

// $limit_conn_status (ngx_stream_limit_conn_module); none: not found.
enum class LimitConnStatus : std::uint8_t { none, passed, rejected, rejected_dry_run };
// What `listen ... proxy_protocol` read, and what realip made of it.
struct ProxyProtocolInfo {
  std::optional<ProxyProtocolHeader> header;  // none: UNKNOWN, LOCAL (no addresses)
  // set_real_ip_from applied: the connection's own peer ($realip_remote_*);
  // `remote` is then the header's source.
  std::optional<common::SocketAddress> realip_peer;
};

struct SessionRecord {
  std::uint64_t connection = 0;      // $connection: serial number of the client connection
  common::SocketAddress remote;      // client address
  common::SocketAddress local;       // $server_addr/$server_port (the listening side)
  int status = 200;                  // nginx stream $status
  bool udp = false;                  // $protocol: a session of a `listen ... udp`
  std::uint64_t bytes_sent = 0;      // to the client
  std::uint64_t bytes_received = 0;  // from the client
  common::Duration session_time{};   // monotonic, from accept to end
  std::chrono::system_clock::time_point end_time{};  // wall clock when the line is written
  std::vector<UpstreamAttempt> upstreams;  // empty: never got as far as choosing one ("-")
  std::string_view server_name;            // $server_name: the [server]'s first server_name
  // Before (or without) ssl_preread none, and the $ssl_preread_* variables
  // are not found; a pointer, so that sessions without preread stay small.
  std::shared_ptr<const PrereadInfo> preread;
  // Set by limit_conn in the preaccess phase.
  LimitConnStatus limit_conn_status = LimitConnStatus::none;
  // Only on `listen ... proxy_protocol`, once the header is read.
  std::shared_ptr<const ProxyProtocolInfo> proxy_protocol;
  // Only on a `listen ... ssl` address, once the handshake is done; the
  // $ssl_* variables are not found otherwise.
  std::shared_ptr<const TlsInfo> tls;
};

}  // namespace proxyd
