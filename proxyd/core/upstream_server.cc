#include "proxyd/core/upstream_server.h"

#include <fmt/format.h>

#include <climits>

#include "common/config_text.h"
#include "common/duration.h"
#include "proxyd/core/value_limits.h"

namespace proxyd {

using common::splitWords;
namespace {

using common::Result;

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A NAME=VALUE parameter, bounded by the limits table (value_limits.cc).
Result<std::int64_t> parseParam(std::string_view what, std::string_view value) {
  return common::parseLimited(limitOf("upstream", "server", what), value, what);
}

// service=NAME: nginx's checks (ngx_stream_upstream_server), then the SRV
// name is kept for the resolver: "_http._tcp.NAME" from service=http, or the
// service as written when it starts with '_' ("_sip._udp").
Result<UpstreamServer> runTimeService(UpstreamServer server, std::string_view addr) {
  if (!server.resolve) {
    return Result<UpstreamServer>::fail(
        fmt::format("service upstream \"{}\" requires \"resolve\" parameter", addr));
  }
  if (addr.find(':') != std::string_view::npos) {
    return Result<UpstreamServer>::fail(
        fmt::format("service upstream \"{}\" may not have port", addr));
  }
  if (common::SocketAddress::fromNumeric(addr, 0)) {
    return Result<UpstreamServer>::fail(
        fmt::format("service upstream \"{}\" requires domain name", addr));
  }
  server.host = std::string(addr);
  return server;
}

}  // namespace

Result<UpstreamServer> parseUpstreamServer(std::string_view text, const common::Host& host) {
  std::vector<std::string> words = splitWords(text);
  if (words.empty()) return Result<UpstreamServer>::fail("no address in \"server\"");

  UpstreamServer server;
  server.name = std::string(words[0]);

  // Parameters first, then the address, in the order of
  // ngx_stream_upstream_server(): a typo is reported before any lookup.
  for (std::size_t i = 1; i < words.size(); ++i) {
    std::string_view w = words[i];
    if (startsWith(w, "weight=")) {
      // nginx refuses weight=0; the cap keeps the ketama ring (160 points per
      // weight unit) and the int arithmetic of the balancers in bounds.
      auto v = parseParam("weight", w.substr(7));
      if (!v) return Result<UpstreamServer>::fail(v.error());
      server.weight = static_cast<int>(*v);
    } else if (startsWith(w, "max_fails=")) {
      auto v = parseParam("max_fails", w.substr(10));
      if (!v) return Result<UpstreamServer>::fail(v.error());
      server.max_fails = static_cast<int>(*v);
    } else if (startsWith(w, "fail_timeout=")) {
      auto v = parseParam("fail_timeout", w.substr(13));
      if (!v) return Result<UpstreamServer>::fail(v.error());
      server.fail_timeout = std::chrono::milliseconds(*v);
    } else if (startsWith(w, "max_conns=")) {
      auto v = parseParam("max_conns", w.substr(10));
      if (!v) return Result<UpstreamServer>::fail(v.error());
      server.max_conns = static_cast<int>(*v);
    } else if (w == "backup") {
      // Whether the balancing method allows it is the config loader's check
      // (UpstreamGroup::allowsBackup), as nginx's flags check is per method.
      server.backup = true;
    } else if (w == "down") {
      server.down = true;
    } else if (w == "resolve") {
      server.resolve = true;
    } else if (startsWith(w, "service=")) {
      server.service = std::string(w.substr(8));
      if (server.service.empty()) return Result<UpstreamServer>::fail("service is empty");
    } else {
      return Result<UpstreamServer>::fail(
          fmt::format("invalid parameter \"{}\" (expected weight=, max_fails=, fail_timeout=, "
                      "max_conns=, backup, down, resolve or service=)",
                      w));
    }
  }

  if (common::hasUnixPrefix(words[0])) {
    // ngx_parse_unix_domain_url: the rest is the socket file, as written.
    auto a = common::SocketAddress::fromUnixPath(std::string_view(words[0]).substr(5));
    if (!a)
      return Result<UpstreamServer>::fail(
          fmt::format("{} in upstream \"{}\"", a.error(), words[0]));
    server.addrs.push_back(*a);
    return server;
  }
  if (!server.service.empty()) return runTimeService(std::move(server), words[0]);
  auto hp = common::splitHostPort(words[0], /*port_required=*/true);
  if (!hp) return Result<UpstreamServer>::fail(hp.error());  // names the address already
  if (hp->host.empty()) {
    return Result<UpstreamServer>::fail(fmt::format("no host in upstream \"{}\"", words[0]));
  }
  auto port = common::parseUnsigned(hp->port, 65535);
  if (!port || *port == 0) {
    return Result<UpstreamServer>::fail(fmt::format("invalid port in upstream \"{}\"", words[0]));
  }
  if (server.resolve && !common::SocketAddress::fromNumeric(hp->host, 0)) {
    // As nginx 1.27.3: not looked up at load at all; the resolver gives the
    // addresses once running (until then the group has none).
    server.host = hp->host;
    server.port = static_cast<std::uint16_t>(*port);
    return server;
  }
  server.resolve = false;  // an address literal never changes
  auto addrs = host.resolveName(hp->host, static_cast<std::uint16_t>(*port));
  if (!addrs) {
    // nginx: host not found in upstream "NAME"; we add the resolver's reason.
    return Result<UpstreamServer>::fail(
        fmt::format("host not found in upstream \"{}\" ({})", words[0], addrs.error()));
  }
  if (addrs->empty()) {
    return Result<UpstreamServer>::fail(fmt::format("host not found in upstream \"{}\"", words[0]));
  }
  server.addrs = std::move(*addrs);
  return server;
}

}  // namespace proxyd
