// Several [server]s on one listening address (nginx 1.25.5): the default
// one (`listen = ADDR default_server`, else the first in the file) takes
// the session; ssl_preread's SNI may then move it to another by
// server_name (server_names.h).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/ini_file.h"
#include "proxyd/core/config.h"
#include "proxyd/core/server_block.h"
#include "proxyd/core/server_names.h"

namespace proxyd {

// The [server]s of a configuration that listen on one socket (an address
// and a transport, ListenDirective::sameSocket).
struct AddressServers {
  common::SocketAddress addr;
  bool udp = false;
  // The socket's parameters: the `listen` that gave options (at most one
  // may), else the first.
  ListenDirective listen;
  std::vector<std::size_t> servers;  // indexes into ProxyConfig::servers, in file order
  std::size_t default_pos = 0;       // into `servers`
};
// Every listening socket, in the order of its first `listen`.
std::vector<AddressServers> serversByAddress(const ProxyConfig& cfg);

// nginx's checks of the servers of an address: two default_server are an
// error, a server_name another server there already has a warning (the
// first keeps it).
void checkVirtualServers(const ProxyConfig& cfg, common::Diagnostics& diag);

// The ready-to-run form, shared by the listeners of the address and by the
// sessions still prereading on it.
struct VirtualServers {
  std::vector<std::shared_ptr<const ServerBlock>> blocks;  // file order
  std::size_t default_pos = 0;
  ServerNames names;
  // `listen ... proxy_protocol`: every client starts with a PROXY header.
  bool proxy_protocol = false;
  bool ssl = false;  // `listen ... ssl`: sessions here start with a TLS handshake

  const std::shared_ptr<const ServerBlock>& defaultBlock() const { return blocks[default_pos]; }
  // ngx_stream_ssl_preread_servername: the block named by the SNI, or
  // nullptr to stay on the default one.
  const std::shared_ptr<const ServerBlock>* choose(std::string_view sni) const;
};
std::shared_ptr<const VirtualServers> makeVirtualServers(
    std::vector<std::shared_ptr<const ServerBlock>> blocks, std::size_t default_pos,
    bool proxy_protocol = false, bool ssl = false);

}  // namespace proxyd
