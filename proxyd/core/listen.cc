#include "proxyd/core/listen.h"

#include <fmt/format.h>

#include <vector>

#include "common/config_text.h"
#include "common/duration.h"
#include "common/value_limits.h"
#include "proxyd/core/value_limits.h"

namespace proxyd {
namespace {

using common::Result;

Result<std::int64_t> limited(std::string_view option, std::string_view text) {
  return common::parseLimited(limitOf("server", "listen", option), text, option);
}

// so_keepalive=IDLE:INTVL:CNT, each part optional but not all three.
Result<KeepaliveSpec> parseKeepalive(std::string_view text) {
  auto invalid = [&](std::string why) {
    return Result<KeepaliveSpec>::fail(
        fmt::format("invalid so_keepalive value: \"{}\"{}", text, why.empty() ? "" : ": " + why));
  };
  KeepaliveSpec spec;
  spec.on = true;
  if (text == "on") return spec;
  if (text == "off") {
    spec.on = false;
    return spec;
  }
  std::vector<std::string_view> parts;
  std::size_t from = 0;
  for (int i = 0; i < 2; ++i) {
    std::size_t colon = text.find(':', from);
    if (colon == std::string_view::npos) colon = text.size();
    parts.push_back(text.substr(from, colon - from));
    from = colon < text.size() ? colon + 1 : text.size();
  }
  parts.push_back(text.substr(from));
  if (parts[0].empty() && parts[1].empty() && parts[2].empty()) return invalid({});
  // IDLE and INTVL are nginx times read in seconds ("30m" allowed); CNT a number.
  for (int i = 0; i < 2; ++i) {
    if (parts[i].empty()) continue;
    auto ms = limited(i == 0 ? "so_keepalive_idle" : "so_keepalive_interval", parts[i]);
    if (!ms.ok()) return invalid(ms.error());
    int seconds = static_cast<int>(*ms / 1000);
    (i == 0 ? spec.idle : spec.interval) = seconds;
  }
  if (!parts[2].empty()) {
    auto n = limited("so_keepalive_count", parts[2]);
    if (!n.ok()) return invalid(n.error());
    spec.count = static_cast<int>(*n);
  }
  return spec;
}

Result<common::SocketAddress> parseListenTarget(std::string_view text) {
  return common::parseListenAddress(text);  // "unix:" as well, in any case (as nginx)
}

// Applies one parameter; an error message, or "" when it was taken.
std::string applyParameter(ListenDirective& l, std::string_view p) {
  ListenSocketOptions& o = l.socket;
  auto value = [&](std::string_view name) -> std::optional<std::string_view> {
    if (p.size() > name.size() && p.substr(0, name.size()) == name && p[name.size()] == '=') {
      return p.substr(name.size() + 1);
    }
    return std::nullopt;
  };
  if (p == "default_server") {
    l.default_server = true;
  } else if (p == "udp") {
    l.udp = true;
  } else if (p == "ssl") {
    l.ssl = true;
  } else if (p == "proxy_protocol") {
    l.proxy_protocol = true;
  } else if (p == "bind") {
    o.bind = true;
  } else if (p == "deferred") {
    o.deferred = true;
  } else if (p == "reuseport") {
    o.reuseport = true;
  } else if (p == "multipath") {
    o.multipath = true;
  } else if (auto v = value("backlog")) {
    auto n = limited("backlog", *v);
    if (!n.ok()) return n.error();
    o.backlog = static_cast<int>(*n);
    o.backlog_set = true;
  } else if (auto v = value("rcvbuf")) {
    auto n = limited("rcvbuf", *v);
    if (!n.ok()) return n.error();
    o.rcvbuf = static_cast<std::size_t>(*n);
  } else if (auto v = value("sndbuf")) {
    auto n = limited("sndbuf", *v);
    if (!n.ok()) return n.error();
    o.sndbuf = static_cast<std::size_t>(*n);
  } else if (auto v = value("fastopen")) {
    auto n = limited("fastopen", *v);
    if (!n.ok()) return n.error();
    o.fastopen = static_cast<int>(*n);
  } else if (auto v = value("so_keepalive")) {
    auto spec = parseKeepalive(*v);
    if (!spec.ok()) return spec.error();
    o.so_keepalive = *spec;
  } else if (auto v = value("ipv6only")) {
    if (*v != "on" && *v != "off") return fmt::format("invalid ipv6only flags \"{}\"", *v);
    o.ipv6only = *v == "on";
  } else if (p.substr(0, 14) == "accept_filter=" || p.substr(0, 7) == "setfib=") {
    return fmt::format("parameter \"{}\" is FreeBSD's: not supported on Linux", p);
  } else {
    return fmt::format(
        "invalid parameter \"{}\" (expected default_server, ssl, udp, proxy_protocol, "
        "backlog=, rcvbuf=, sndbuf=, so_keepalive=, fastopen=, deferred, bind, ipv6only=, "
        "reuseport or multipath)",
        p);
  }
  return {};
}

// nginx refuses, with udp, the parameters only a stream socket has.
std::string checkUdp(const ListenDirective& l) {
  const ListenSocketOptions& o = l.socket;
  const char* bad = nullptr;
  if (o.fastopen) bad = "fastopen";
  if (o.backlog_set) bad = "backlog";
  if (o.deferred) bad = "deferred";
  if (o.multipath) bad = "multipath";
  if (l.ssl) bad = "ssl";
  if (o.so_keepalive) bad = "so_keepalive";
  if (l.proxy_protocol) bad = "proxy_protocol";
  return bad ? fmt::format("\"{}\" parameter is incompatible with \"udp\"", bad) : "";
}

}  // namespace

bool ListenSocketOptions::any() const {
  return backlog_set || rcvbuf || sndbuf || so_keepalive || fastopen || deferred || bind ||
         reuseport || multipath || ipv6only;
}

std::string ListenDirective::toString() const {
  return udp ? address.toString() + " udp" : address.toString();
}

Result<ListenDirective> parseListen(std::string_view value) {
  auto words = common::splitTokens(value);
  if (!words.ok()) return Result<ListenDirective>::fail(words.error());
  if (words->empty()) {
    return Result<ListenDirective>::fail("expected \"listen = ADDRESS [PARAMETER...]\"");
  }
  ListenDirective l;
  auto addr = parseListenTarget((*words)[0]);
  if (!addr.ok()) return Result<ListenDirective>::fail(addr.error());
  l.address = *addr;
  for (std::size_t i = 1; i < words->size(); ++i) {
    if (std::string e = applyParameter(l, (*words)[i]); !e.empty()) {
      return Result<ListenDirective>::fail(std::move(e));
    }
  }
  if (l.udp) {
    if (std::string e = checkUdp(l); !e.empty()) return Result<ListenDirective>::fail(e);
  }
  return l;
}

}  // namespace proxyd
