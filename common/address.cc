#include "common/address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/un.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "common/sys_error.h"

namespace common {
namespace {

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// nginx's ngx_inet6_ntop(), so that $remote_addr and $upstream_addr read the
// same as in nginx's logs: the first longest run of two or more zero groups
// becomes "::", hex in lower case, and the last 32 bits are written dotted for
// IPv4-mapped (::ffff:192.0.2.1) and IPv4-compatible (::192.0.2.1) addresses,
// including nginx's quirk for ::a.b.c.d other than ::1.
std::string inet6Text(const std::uint8_t* p) {
  int zero = -1;
  int last = -1;
  int max = 1;
  int n = 0;
  for (int i = 0; i < 16; i += 2) {
    if (p[i] || p[i + 1]) {
      if (max < n) {
        zero = last;
        max = n;
      }
      n = 0;
      continue;
    }
    if (n++ == 0) last = i;
  }
  if (max < n) {
    zero = last;
    max = n;
  }

  std::string out;
  int groups_end = 16;
  if (zero == 0) {
    if ((max == 5 && p[10] == 0xff && p[11] == 0xff) || max == 6 ||
        (max == 7 && p[14] != 0 && p[15] != 1)) {
      groups_end = 12;
    }
    out += ':';
  }
  for (int i = 0; i < groups_end; i += 2) {
    if (i == zero) {
      out += ':';
      i += (max - 1) * 2;
      continue;
    }
    out += fmt::format("{:x}", p[i] * 256 + p[i + 1]);
    if (i < 14) out += ':';
  }
  if (groups_end == 12) out += fmt::format("{}.{}.{}.{}", p[12], p[13], p[14], p[15]);
  return out;
}

bool isV4Mapped(const in6_addr& a) {
  return IN6_IS_ADDR_V4MAPPED(&a);
}

Result<HostPort> badHostPort(std::string_view text, bool port_required) {
  return Result<HostPort>::fail(
      fmt::format("invalid address \"{}\" (expected {})", text,
                  port_required ? "host:port, [IPv6]:port, *:port or a port"
                                : "host, host:port, [IPv6]:port, *:port or a port"));
}

bool validPort(std::string_view port) {
  if (!allDigits(port) || port.size() > 5) return false;
  unsigned v = 0;
  for (char c : port) v = v * 10 + static_cast<unsigned>(c - '0');
  return v >= 1 && v <= 65535;
}

std::uint16_t portNumber(std::string_view port) {
  unsigned v = 0;
  for (char c : port) v = v * 10 + static_cast<unsigned>(c - '0');
  return static_cast<std::uint16_t>(v);
}

// Network-order bytes of an address and its length: 4 or 16 (0 otherwise).
int addressBytes(const SocketAddress& a, const std::uint8_t** bytes) {
  if (a.family() == AF_INET) {
    *bytes = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr);
    return 4;
  }
  if (a.family() == AF_INET6) {
    *bytes = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_addr);
    return 16;
  }
  return 0;
}

bool prefixMatches(const std::uint8_t* a, const std::uint8_t* b, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(a, b, static_cast<std::size_t>(full)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

SocketAddress::SocketAddress(const sockaddr* sa, socklen_t len) {
  len_ = std::min<socklen_t>(len, sizeof(storage_));
  std::memcpy(&storage_, sa, len_);
}

Result<SocketAddress> SocketAddress::fromNumeric(std::string_view host, std::uint16_t port) {
  // inet_pton rather than getaddrinfo(AI_NUMERICHOST): the latter also takes
  // inet_aton's "127.1" and "0x7f.0.0.1", which nginx does not.
  std::string text(host);
  sockaddr_in sin{};
  if (inet_pton(AF_INET, text.c_str(), &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    return SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
  }
  sockaddr_in6 sin6{};
  auto pct = text.find('%');
  std::string addr = text.substr(0, pct);
  std::string scope = pct == std::string::npos ? std::string() : text.substr(pct + 1);
  if (inet_pton(AF_INET6, addr.c_str(), &sin6.sin6_addr) == 1) {
    if (pct != std::string::npos) {
      // Link-local addresses need the interface: "fe80::1%eth0" or "%2".
      if (allDigits(scope) && scope.size() < 10) {
        sin6.sin6_scope_id = static_cast<std::uint32_t>(std::stoul(scope));
      } else if (!scope.empty()) {
        sin6.sin6_scope_id = if_nametoindex(scope.c_str());
      }
      if (sin6.sin6_scope_id == 0) {
        return Result<SocketAddress>::fail(
            fmt::format("invalid address \"{}\": no interface \"{}\"", text, scope));
      }
    }
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    return SocketAddress(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sin6));
  }
  return Result<SocketAddress>::fail(
      fmt::format("invalid address \"{}\" (expected an IPv4 or IPv6 address)", text));
}

Result<SocketAddress> SocketAddress::fromUnixPath(std::string_view path) {
  sockaddr_un sun{};
  if (path.empty()) return Result<SocketAddress>::fail("no path in the unix domain socket");
  // ngx_parse_unix_domain_url: the path and its NUL must fit in sun_path.
  if (path.size() + 1 > sizeof sun.sun_path) {
    return Result<SocketAddress>::fail("too long path in the unix domain socket");
  }
  if (path.find('\0') != std::string_view::npos) {
    return Result<SocketAddress>::fail("a NUL byte in the path of the unix domain socket");
  }
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.data(), path.size());
  // The whole structure, as nginx's u->socklen: bind() and connect() stop
  // at the NUL.
  return SocketAddress(reinterpret_cast<const sockaddr*>(&sun), sizeof sun);
}

std::string SocketAddress::unixPath() const {
  if (family() != AF_UNIX) return {};
  constexpr auto offset = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path));
  // Linux may give an unnamed peer's address without any sun_path; an
  // abstract name starts with a NUL and so reads as empty, as in nginx.
  if (len_ <= offset) return {};
  const auto* sun = reinterpret_cast<const sockaddr_un*>(sa());
  return std::string(sun->sun_path, strnlen(sun->sun_path, len_ - offset));
}

std::uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa())->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa())->sin6_port);
  return 0;
}

void SocketAddress::setPort(std::uint16_t port) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(sa())->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(sa())->sin6_port = htons(port);
}

std::string SocketAddress::hostText() const {
  if (family() == AF_INET) {
    const auto* b = reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(sa())->sin_addr);
    return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]);
  }
  if (family() == AF_INET6) {
    return inet6Text(reinterpret_cast<const std::uint8_t*>(
        &reinterpret_cast<const sockaddr_in6*>(sa())->sin6_addr));
  }
  if (family() == AF_UNIX) return "unix:" + unixPath();
  return {};
}

std::string SocketAddress::toString() const {
  if (family() == AF_INET) return fmt::format("{}:{}", hostText(), port());
  if (family() == AF_INET6) return fmt::format("[{}]:{}", hostText(), port());
  if (family() == AF_UNIX) return hostText();
  return {};
}

bool SocketAddress::isWildcard() const {
  if (family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(sa())->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  if (family() == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6*>(sa())->sin6_addr;
    return IN6_IS_ADDR_UNSPECIFIED(&a);
  }
  return false;
}

bool SocketAddress::operator==(const SocketAddress& o) const {
  if (family() != o.family()) return false;
  if (family() == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(sa());
    const auto* b = reinterpret_cast<const sockaddr_in*>(o.sa());
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (family() == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(sa());
    const auto* b = reinterpret_cast<const sockaddr_in6*>(o.sa());
    return a->sin6_port == b->sin6_port && a->sin6_scope_id == b->sin6_scope_id &&
           std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(in6_addr)) == 0;
  }
  // The same socket file, whatever length each was given with.
  if (family() == AF_UNIX) return unixPath() == o.unixPath();
  return len_ == o.len_ && std::memcmp(&storage_, &o.storage_, len_) == 0;
}

Result<HostPort> splitHostPort(std::string_view text, bool port_required) {
  if (text.empty()) return badHostPort(text, port_required);
  HostPort out;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close == 1) return badHostPort(text, port_required);
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) {
      if (port_required) return badHostPort(text, port_required);
      return out;
    }
    if (rest.front() != ':') return badHostPort(text, port_required);
    out.port = std::string(rest.substr(1));
  } else if (allDigits(text)) {
    out.port = std::string(text);  // "10443": port only, as nginx's listen
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      if (port_required) return badHostPort(text, port_required);
      out.host = std::string(text);
      return out;
    }
    if (text.find(':') != colon) {
      // Two colons or more: an IPv6 literal. Without brackets it cannot carry
      // a port ("2001:db8::1:80" is ambiguous), so it is a bare host or an error.
      if (port_required) {
        return Result<HostPort>::fail(fmt::format(
            "invalid address \"{}\" (an IPv6 address needs brackets before a port: [{}]:PORT)",
            text, text));
      }
      out.host = std::string(text);
      return out;
    }
    std::string_view host = text.substr(0, colon);
    if (host.empty()) return badHostPort(text, port_required);
    if (host != "*") out.host = std::string(host);
    out.port = std::string(text.substr(colon + 1));
  }
  if (!validPort(out.port)) {
    return Result<HostPort>::fail(
        fmt::format("invalid port in \"{}\" (expected a number from 1 to 65535)", text));
  }
  return out;
}

Result<std::vector<SocketAddress>> resolve(const std::string& host, std::uint16_t port) {
  using R = Result<std::vector<SocketAddress>>;
  if (host.empty()) return R::fail("cannot resolve an empty host name");
  if (auto numeric = SocketAddress::fromNumeric(host, port); numeric.ok()) {
    return std::vector<SocketAddress>{*numeric};
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: it hides every address in a namespace that only has a
  // loopback interface, where "localhost" must still resolve.
  addrinfo* list = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    std::string_view reason = rc == EAI_SYSTEM ? SysError::errnoText(errno) : gai_strerror(rc);
    return R::fail(fmt::format("cannot resolve \"{}\": {}", host, reason));
  }
  std::vector<SocketAddress> out;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    SocketAddress a(ai->ai_addr, ai->ai_addrlen);
    a.setPort(port);
    // /etc/hosts may list an address twice; a group must not get it twice.
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  freeaddrinfo(list);
  if (out.empty()) return R::fail(fmt::format("cannot resolve \"{}\": no IP address", host));
  return out;
}

bool hasUnixPrefix(std::string_view text) {
  constexpr std::string_view prefix = "unix:";
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return a == static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
         });
}

Result<SocketAddress> parseListenAddress(std::string_view text) {
  if (hasUnixPrefix(text)) {
    auto a = SocketAddress::fromUnixPath(text.substr(5));
    if (!a) return Result<SocketAddress>::fail(fmt::format("{} in \"{}\"", a.error(), text));
    return a;
  }
  auto hp = splitHostPort(text, true);
  if (!hp.ok()) return Result<SocketAddress>::fail(hp.error());
  std::uint16_t port = portNumber(hp->port);
  // nginx: "listen 10443" and "listen *:10443" both mean 0.0.0.0:10443.
  if (hp->host.empty()) return SocketAddress::fromNumeric("0.0.0.0", port);
  auto addrs = resolve(hp->host, port);
  if (!addrs.ok()) return Result<SocketAddress>::fail(addrs.error());
  // nginx also binds only the first address of a name given to listen.
  return addrs->front();
}

Result<Cidr> Cidr::parse(std::string_view text) {
  Cidr out;
  if (text == "all") {
    out.all_ = true;
    return out;
  }
  auto bad = [&] {
    return Result<Cidr>::fail(fmt::format(
        "invalid address \"{}\" (expected an address, a network such as 192.0.2.0/24 or "
        "2001:db8::/32, or \"all\")",
        text));
  };
  std::string_view addr_text = text;
  std::string_view prefix_text;
  bool has_prefix = false;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr_text = text.substr(0, slash);
    prefix_text = text.substr(slash + 1);
    has_prefix = true;
    if (!allDigits(prefix_text) || prefix_text.size() > 3) return bad();
  }
  if (addr_text.find('%') != std::string_view::npos) return bad();
  auto addr = SocketAddress::fromNumeric(addr_text, 0);
  if (!addr.ok()) return bad();
  const std::uint8_t* bytes = nullptr;
  int size = addressBytes(*addr, &bytes);
  int max_prefix = size * 8;
  int prefix = max_prefix;
  if (has_prefix) {
    prefix = std::stoi(std::string(prefix_text));
    if (prefix > max_prefix) {
      return Result<Cidr>::fail(fmt::format(
          "invalid network \"{}\" (the prefix length must be 0 to {})", text, max_prefix));
    }
  }
  out.family_ = addr->family();
  out.prefix_ = prefix;
  std::memcpy(out.bytes_, bytes, static_cast<std::size_t>(size));
  // nginx accepts "192.0.2.1/24" (with a warning that the low bits are
  // meaningless) and matches the network; clear the host bits likewise.
  for (int bit = prefix; bit < max_prefix; ++bit) {
    out.bytes_[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  }
  return out;
}

bool Cidr::contains(const SocketAddress& addr) const {
  if (all_) return true;
  const std::uint8_t* bytes = nullptr;
  int size = addressBytes(addr, &bytes);
  if (size == 0) return false;
  if (family_ == AF_INET && addr.family() == AF_INET6) {
    // A client of a dual-stack [::] listener shows up as ::ffff:a.b.c.d;
    // nginx's access module checks it against the IPv4 rules, so do we.
    const auto& a6 = reinterpret_cast<const sockaddr_in6*>(addr.sa())->sin6_addr;
    if (!isV4Mapped(a6)) return false;
    return prefixMatches(bytes + 12, bytes_, prefix_);
  }
  if (family_ != addr.family()) return false;
  return prefixMatches(bytes, bytes_, prefix_);
}

}  // namespace common
