// Socket addresses, host:port text, hostname resolution and CIDR matching.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace common {

class SocketAddress {
 public:
  SocketAddress() = default;
  SocketAddress(const sockaddr* sa, socklen_t len);

  // Numeric address and port only (no name lookup): "192.0.2.1", "::1".
  static Result<SocketAddress> fromNumeric(std::string_view host, std::uint16_t port);
  // A UNIX-domain socket file, the PATH of nginx's "unix:PATH" (taken as
  // written, as nginx does). Refused as nginx refuses it: empty, or too long
  // for sun_path with its terminating NUL. Abstract names cannot be written
  // in nginx's syntax either: "unix:@x" is the file "@x".
  static Result<SocketAddress> fromUnixPath(std::string_view path);

  int family() const { return storage_.ss_family; }
  bool empty() const { return len_ == 0; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t len() const { return len_; }
  socklen_t* lenPtr() { return &len_; }
  static constexpr socklen_t capacity() { return sizeof(sockaddr_storage); }

  // The socket file of a UNIX address ("" for an unnamed or abstract peer).
  std::string unixPath() const;
  std::uint16_t port() const;
  void setPort(std::uint16_t port);
  // "192.0.2.1" / "2001:db8::1" (as nginx prints $remote_addr); a UNIX
  // address is "unix:/path", or "unix:" for an unnamed or abstract one
  // (ngx_sock_ntop).
  std::string hostText() const;
  // "192.0.2.1:80" / "[2001:db8::1]:80" (as nginx prints $upstream_addr);
  // UNIX: as hostText().
  std::string toString() const;
  bool isWildcard() const;

  bool operator==(const SocketAddress& o) const;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

struct HostPort {
  std::string host;  // without brackets; empty for "*:80" or "80"
  std::string port;  // as written
};

// Splits "host:port", "[v6]:port", "*:port" or "port" (port only). IPv6
// literals must be bracketed when a port follows. The port must be 1..65535.
Result<HostPort> splitHostPort(std::string_view text, bool port_required = true);

// Resolves host (numeric or a name, via getaddrinfo) to every address it has,
// in resolver order, each with `port`. An unresolvable name is an error whose
// text names the host and the resolver's reason.
Result<std::vector<SocketAddress>> resolve(const std::string& host, std::uint16_t port);

// nginx `listen`: "10443", "*:10443", "0.0.0.0:10443", "192.0.2.1:10443",
// "[::]:10443", "[::1]:10443", "localhost:10443", "unix:/run/x.sock". A port
// alone means all IPv4 addresses (as nginx).
Result<SocketAddress> parseListenAddress(std::string_view text);

// "unix:" in front of an address, as nginx tests it (case-insensitively).
bool hasUnixPrefix(std::string_view text);

// "127.0.0.0/8", "2001:db8::/32", a bare address (/32 or /128), or "all".
class Cidr {
 public:
  static Result<Cidr> parse(std::string_view text);
  bool contains(const SocketAddress& addr) const;
  bool matchesAll() const { return all_; }
  bool operator==(const Cidr&) const = default;

 private:
  bool all_ = false;
  int family_ = AF_UNSPEC;
  std::uint8_t bytes_[16]{};
  int prefix_ = 0;
};

}  // namespace common
