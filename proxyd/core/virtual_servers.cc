#include "proxyd/core/virtual_servers.h"

#include <fmt/format.h>

#include <algorithm>

namespace proxyd {

std::vector<AddressServers> serversByAddress(const ProxyConfig& cfg) {
  std::vector<AddressServers> out;
  for (std::size_t i = 0; i < cfg.servers.size(); ++i) {
    const ServerSection& sec = cfg.servers[i];
    for (const common::SocketAddress& addr : sec.listen) {
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const AddressServers& a) { return a.addr == addr; });
      if (it == out.end()) it = out.insert(out.end(), AddressServers{addr, {}, 0});
      if (std::find(it->servers.begin(), it->servers.end(), i) != it->servers.end()) continue;
      bool is_default = std::find(sec.default_server.begin(), sec.default_server.end(), addr) !=
                        sec.default_server.end();
      // The first default_server wins; checkVirtualServers rejects a second.
      bool had_default = std::any_of(it->servers.begin(), it->servers.end(), [&](std::size_t k) {
        const auto& d = cfg.servers[k].default_server;
        return std::find(d.begin(), d.end(), addr) != d.end();
      });
      if (is_default && !had_default) it->default_pos = it->servers.size();
      it->servers.push_back(i);
    }
  }
  return out;
}

void checkVirtualServers(const ProxyConfig& cfg, common::Diagnostics& diag) {
  for (const AddressServers& a : serversByAddress(cfg)) {
    const std::string addr_text = a.addr.toString();
    bool have_default = false;
    ServerNames names;
    for (std::size_t k : a.servers) {
      const ServerSection& sec = cfg.servers[k];
      const auto& d = sec.default_server;
      if (std::find(d.begin(), d.end(), a.addr) != d.end()) {
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
    std::vector<std::shared_ptr<const ServerBlock>> blocks, std::size_t default_pos) {
  auto vs = std::make_shared<VirtualServers>();
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    for (const std::string& text : blocks[k]->section.server_names) {
      if (auto name = parseServerName(text)) vs->names.add(*name, k);
    }
  }
  vs->blocks = std::move(blocks);
  vs->default_pos = default_pos;
  return vs;
}

}  // namespace proxyd
