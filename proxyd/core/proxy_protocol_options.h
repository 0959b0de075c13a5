// The [server] keys of the PROXY protocol and realip (nginx's
// proxy_protocol, proxy_protocol_timeout, set_real_ip_from). Whether a
// listener expects a header is `listen ... proxy_protocol`.
#pragma once

#include <chrono>

#include "common/ini_section_walker.h"
#include "proxyd/core/realip.h"

namespace proxyd {

struct ConfigContext;

// proxy_protocol = off | on | v2: the header sent to the upstream.
enum class ProxyProtocolSend { off, v1, v2 };

struct ProxyProtocolOptions {
  ProxyProtocolSend send = ProxyProtocolSend::off;
  // How long a `listen ... proxy_protocol` client has to send its header
  // (nginx's default 30s).
  std::chrono::milliseconds timeout{30000};
  RealIpFrom real_ip_from;
  bool operator==(const ProxyProtocolOptions&) const = default;
};

// Registers the keys on a [server]'s walker.
void addProxyProtocolKeys(common::SectionWalker& walker, const ConfigContext& ctx,
                          ProxyProtocolOptions& out);

}  // namespace proxyd
