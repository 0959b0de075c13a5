#include "proxyd/core/proxy_pass_target.h"

#include <fmt/format.h>

#include <cstdint>

namespace proxyd {

namespace {

bool equalNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// What ngx_parse_url (no_resolve, no URI part) makes of a value.
struct ParsedUrl {
  std::string_view host;  // IPv6 with its brackets, as nginx keeps it
  int port = 0;           // 0: none given
  std::optional<common::SocketAddress> address;
  const char* error = nullptr;
};

// ngx_atoi's port: digits only, 1..65535; -1 otherwise.
int parsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return -1;
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n >= 1 && n <= 65535 ? n : -1;
}

// ngx_inet_addr: four dot-separated decimal octets (an empty one counts as
// 0, as nginx's loop does), or nothing. nginx's INADDR_NONE sentinel makes
// 255.255.255.255 a name there; the same here.
std::optional<std::string> dottedQuad(std::string_view text) {
  unsigned octets[4] = {0, 0, 0, 0};
  unsigned n = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      octets[n] = octets[n] * 10 + static_cast<unsigned>(c - '0');
      if (octets[n] > 255) return std::nullopt;
    } else if (c == '.' && n < 3) {
      ++n;
    } else {
      return std::nullopt;
    }
  }
  if (n != 3 || (octets[0] & octets[1] & octets[2] & octets[3]) == 255) return std::nullopt;
  return fmt::format("{}.{}.{}.{}", octets[0], octets[1], octets[2], octets[3]);
}

ParsedUrl parseInet6(std::string_view url) {
  ParsedUrl u;
  std::size_t close = url.find(']');
  if (close == std::string_view::npos) {
    u.error = "invalid host";
    return u;
  }
  std::string_view rest = url.substr(close + 1);
  if (rest.find('/') != std::string_view::npos || (!rest.empty() && rest[0] != ':')) {
    u.error = "invalid host";
    return u;
  }
  if (!rest.empty()) {
    u.port = parsePort(rest.substr(1));
    if (u.port < 0) {
      u.error = "invalid port";
      return u;
    }
  }
  std::string_view inner = url.substr(1, close - 1);
  if (inner.empty()) {
    u.error = "no host";
    return u;
  }
  u.host = url.substr(0, close + 1);
  auto addr = common::SocketAddress::fromNumeric(inner, static_cast<std::uint16_t>(u.port));
  if (!addr || addr->family() != AF_INET6) {
    u.error = "invalid IPv6 address";
    return u;
  }
  u.address = *addr;
  return u;
}

ParsedUrl parseInet(std::string_view url) {
  ParsedUrl u;
  std::size_t colon = url.find(':');
  if (url.find_first_of("/?") != std::string_view::npos) {
    u.error = "invalid host";
    return u;
  }
  std::string_view host = url;
  if (colon != std::string_view::npos) {
    u.port = parsePort(url.substr(colon + 1));
    if (u.port < 0) {
      u.error = "invalid port";
      return u;
    }
    host = url.substr(0, colon);
  }
  if (host.empty()) {
    u.error = "no host";
    return u;
  }
  u.host = host;
  if (auto quad = dottedQuad(host)) {
    auto addr = common::SocketAddress::fromNumeric(*quad, static_cast<std::uint16_t>(u.port));
    if (addr) u.address = *addr;
  }
  return u;
}

}  // namespace

const RouteGroup* RouteGroups::find(std::string_view name) const {
  for (const RouteGroup& g : groups_) {
    if (equalNoCase(g.name, name)) return &g;
  }
  return nullptr;
}

PassTarget resolvePassTarget(std::string_view value, const RouteGroups& groups) {
  PassTarget t;
  if (common::hasUnixPrefix(value)) {
    // ngx_parse_unix_domain_url: a socket file, connected to as written.
    auto a = common::SocketAddress::fromUnixPath(value.substr(5));
    if (!a) {
      t.error = fmt::format("{} in upstream \"{}\"", a.error(), value);
      return t;
    }
    t.kind = PassTarget::Kind::address;
    t.address = *a;
    return t;
  }
  ParsedUrl u = !value.empty() && value[0] == '[' ? parseInet6(value) : parseInet(value);
  if (u.error != nullptr) {
    t.error = fmt::format("{} in upstream \"{}\"", u.error, value);
    return t;
  }
  // An [upstream] has no port: a bare name finds it. A name with a port
  // finds a group made from `proxy_pass host:port` of another [server].
  if (const RouteGroup* g = groups.find(u.port == 0 ? u.host : value)) {
    t.kind = PassTarget::Kind::group;
    t.group = g;
    return t;
  }
  if (u.port == 0) {
    t.error = fmt::format("no port in upstream \"{}\"", u.host);
    return t;
  }
  if (!u.address) {
    // A name for the resolver; nginx without a `resolver` says this.
    t.kind = PassTarget::Kind::name;
    t.host = u.host;
    t.port = u.port;
    t.error = fmt::format("no resolver defined to resolve {}", u.host);
    return t;
  }
  t.kind = PassTarget::Kind::address;
  t.address = *u.address;
  return t;
}

}  // namespace proxyd
