#include "proxyd/core/resolver_spec.h"

#include <fmt/format.h>

#include "common/config_text.h"
#include "common/duration.h"

namespace proxyd {
namespace {

using R = common::Result<ResolverSpec>;

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// ipv4=on|off, ipv6=on|off (ngx_resolver_create).
common::Result<bool> onOff(std::string_view word, std::string_view value) {
  if (value == "on") return true;
  if (value == "off") return false;
  return common::Result<bool>::fail(fmt::format("invalid parameter: {}", word));
}

// An address with an optional port: "127.0.0.1", "127.0.0.1:5353", "[::1]",
// "[::1]:5353", "::1". nginx also takes names (resolved at load); proxyd
// wants addresses, so that the resolver never depends on a resolver.
common::Result<common::SocketAddress> serverAddress(std::string_view word) {
  using A = common::Result<common::SocketAddress>;
  std::string host(word);
  std::uint16_t port = 53;
  if (word.find(':') == word.rfind(':') || word.front() == '[') {
    // One colon (v4:port) or a bracketed v6 address, with or without a port.
    if (word.front() == '[' && word.back() == ']') {
      host = std::string(word.substr(1, word.size() - 2));
    } else if (word.find(':') != std::string_view::npos) {
      auto hp = common::splitHostPort(word, /*port_required=*/true);
      if (!hp) return A::fail(fmt::format("invalid port in resolver \"{}\"", word));
      auto p = common::parseUnsigned(hp->port, 65535);
      if (!p || *p == 0) return A::fail(fmt::format("invalid port in resolver \"{}\"", word));
      host = hp->host;
      port = static_cast<std::uint16_t>(*p);
    }
  }
  auto addr = common::SocketAddress::fromNumeric(host, port);
  if (!addr) {
    return A::fail(
        fmt::format("invalid resolver address \"{}\" (expected an IP address with "
                    "an optional port)",
                    word));
  }
  return addr;
}

}  // namespace

R parseResolverSpec(std::string_view text) {
  ResolverSpec spec;
  for (const std::string& w : common::splitWords(text)) {
    if (startsWith(w, "valid=")) {
      auto d = common::parseDuration(std::string_view(w).substr(6));
      if (!d || *d < std::chrono::seconds(1)) {
        return R::fail(fmt::format("invalid parameter: {}", w));
      }
      spec.valid = std::chrono::duration_cast<std::chrono::seconds>(*d);
    } else if (startsWith(w, "ipv4=")) {
      auto v = onOff(w, std::string_view(w).substr(5));
      if (!v) return R::fail(v.error());
      spec.ipv4 = *v;
    } else if (startsWith(w, "ipv6=")) {
      auto v = onOff(w, std::string_view(w).substr(5));
      if (!v) return R::fail(v.error());
      spec.ipv6 = *v;
    } else if (startsWith(w, "status_zone=")) {
      return R::fail(fmt::format("invalid parameter: {} (status_zone is NGINX Plus only)", w));
    } else {
      auto addr = serverAddress(w);
      if (!addr) return R::fail(addr.error());
      spec.servers.push_back(*addr);
    }
  }
  if (!spec.ipv4 && !spec.ipv6) return R::fail("\"ipv4\" and \"ipv6\" cannot both be \"off\"");
  if (spec.servers.empty()) return R::fail("resolver: no address (expected ADDRESS[:PORT] ...)");
  return spec;
}

}  // namespace proxyd
