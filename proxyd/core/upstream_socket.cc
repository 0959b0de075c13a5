#include "proxyd/core/upstream_socket.h"

#include <fmt/format.h>

#include "common/config_text.h"

namespace proxyd {

namespace {

// ngx_parse_addr: an address without a port (and without brackets).
std::optional<common::SocketAddress> bareAddress(std::string_view text) {
  // nginx takes no "%scope" here.
  if (text.find('%') != std::string_view::npos) return std::nullopt;
  auto a = common::SocketAddress::fromNumeric(text, 0);
  if (!a) return std::nullopt;
  return *a;
}

std::optional<std::uint16_t> portOf(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n < 1 || n > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(n);
}

}  // namespace

std::optional<common::SocketAddress> parseBindAddress(std::string_view text) {
  if (auto a = bareAddress(text)) return a;
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    // The first colon, as nginx: an IPv6 address without brackets was
    // taken whole above.
    auto colon = text.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto p = portOf(port);
  auto a = bareAddress(host);
  if (!p || !a) return std::nullopt;
  a->setPort(*p);
  return a;
}

common::Result<std::optional<ProxyBind>> parseProxyBind(std::string_view value) {
  using R = common::Result<std::optional<ProxyBind>>;
  auto words = common::splitWords(value);
  if (words.empty() || words.size() > 2) {
    return R::fail("invalid number of arguments in \"proxy_bind\" directive");
  }
  if (words.size() == 1 && words[0] == "off") return std::optional<ProxyBind>{};
  ProxyBind bind;
  bind.value = words[0];
  if (!bind.hasVariables()) {
    bind.address = parseBindAddress(bind.value);
    if (!bind.address) return R::fail(fmt::format("invalid address \"{}\"", bind.value));
  }
  if (words.size() == 2) {
    if (words[1] != "transparent")
      return R::fail(fmt::format("invalid parameter \"{}\"", words[1]));
    bind.transparent = true;
  }
  return std::optional<ProxyBind>{std::move(bind)};
}

}  // namespace proxyd
