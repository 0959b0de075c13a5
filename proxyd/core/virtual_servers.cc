#include "proxyd/core/virtual_servers.h"

#include <fmt/format.h>

#include <algorithm>

namespace proxyd {
namespace {

// Whether `sec` marks the socket of `l` default_server.
bool isDefaultFor(const ServerSection& sec, const ListenDirective& l) {
  return std::any_of(sec.listen.begin(), sec.listen.end(), [&](const ListenDirective& own) {
    return own.default_server && own.sameSocket(l);
  });
}

}  // namespace

std::vector<AddressServers> serversByAddress(const ProxyConfig& cfg) {
  std::vector<AddressServers> out;
  for (std::size_t i = 0; i < cfg.servers.size(); ++i) {
    for (const ListenDirective& l : cfg.servers[i].listen) {
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const AddressServers& a) { return a.listen.sameSocket(l); });
      if (it == out.end()) it = out.insert(out.end(), AddressServers{l.address, l.udp, l, {}, 0});
      if (l.socket.any()) it->listen.socket = l.socket;
      // nginx: one listen of the socket with proxy_protocol makes it expect one.
      if (l.proxy_protocol) it->listen.proxy_protocol = true;
      if (std::find(it->servers.begin(), it->servers.end(), i) != it->servers.end()) continue;
      // The first default_server wins; checkVirtualServers rejects a second.
      bool had_default = std::any_of(it->servers.begin(), it->servers.end(), [&](std::size_t k) {
        return isDefaultFor(cfg.servers[k], l);
      });
      if (l.default_server && !had_default) it->default_pos = it->servers.size();
      it->servers.push_back(i);
    }
  }
  return out;
}

void checkVirtualServers(const ProxyConfig& cfg, common::Diagnostics& diag) {
  for (const AddressServers& a : serversByAddress(cfg)) {
    const std::string addr_text = a.listen.toString();
    bool have_default = false;
    ServerNames names;
    for (std::size_t k : a.servers) {
      const ServerSection& sec = cfg.servers[k];
      if (isDefaultFor(sec, a.listen)) {
        if (have_default) {
          diag.error(cfg.path, sec.line,
                     fmt::format("a duplicate default server for {}", addr_text));
        }
        have_default = true;
      }
      // No server_name is nginx's "": a second such server on the address
      // conflicts as well.
      static const std::vector<std::string> kNone{""};
      for (const std::string& text : sec.server_names.empty() ? kNone : sec.server_names) {
        auto name = parseServerName(text);
        if (name && !names.add(*name, k)) {
          diag.warning(
              cfg.path, sec.line,
              fmt::format("conflicting server name \"{}\" on {}, ignored", text, addr_text));
        }
      }
    }
  }
}

const std::shared_ptr<const ServerBlock>* VirtualServers::choose(std::string_view sni) const {
  if (names.empty() || sni.empty()) return nullptr;
  auto host = validateHost(sni);
  if (!host) return nullptr;
  auto pos = names.find(*host);
  return pos ? &blocks[*pos] : nullptr;
}

std::shared_ptr<const VirtualServers> makeVirtualServers(
    std::vector<std::shared_ptr<const ServerBlock>> blocks, std::size_t default_pos,
    bool proxy_protocol, bool ssl) {
  auto vs = std::make_shared<VirtualServers>();
  vs->proxy_protocol = proxy_protocol;
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    for (const std::string& text : blocks[k]->section.server_names) {
      if (auto name = parseServerName(text)) vs->names.add(*name, k);
    }
  }
  vs->blocks = std::move(blocks);
  vs->default_pos = default_pos;
  vs->ssl = ssl;
  return vs;
}

}  // namespace proxyd
