#include "proxyd/core/pass_address.h"

#include <fmt/format.h>

namespace proxyd {

common::Result<common::SocketAddress> parsePassAddress(std::string_view text) {
  using R = common::Result<common::SocketAddress>;
  if (text.substr(0, 5) == "unix:") return common::SocketAddress::fromUnixPath(text.substr(5));
  // Without listen's rule, "8443" is a host with no port, as in nginx.
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    return R::fail("has no port");
  }
  auto hp = common::splitHostPort(text, false);
  if (!hp.ok()) return R::fail(hp.error());
  if (hp->port.empty()) return R::fail("has no port");
  // A wildcard ("*:8443") or a name: nothing to compare a listener with,
  // since nginx parses the address without resolving it.
  if (hp->host.empty()) return R::fail("has no addresses");
  unsigned long n = std::stoul(hp->port);
  auto addr = common::SocketAddress::fromNumeric(hp->host, static_cast<std::uint16_t>(n));
  if (!addr.ok()) return R::fail("has no addresses");
  return addr;
}

bool passMatches(const common::SocketAddress& listening, const common::SocketAddress& target) {
  if (!listening.isWildcard()) return listening == target;
  return listening.family() == target.family() && listening.port() == target.port();
}

}  // namespace proxyd
