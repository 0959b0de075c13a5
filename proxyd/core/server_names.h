// The choice of a [server] by name on one listening address (nginx
// 1.25.5's stream server_name, ngx_stream_find_virtual_server): an exact
// name first, then the longest "*.example.com" / ".example.com" wildcard,
// then the longest "www.example.*", then the regular expressions ("~...",
// PCRE2) in the order written.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace proxyd {

// One server_name as written, checked as nginx's server_name directive and
// ngx_hash_add_key check it: "*.x", ".x", "x.*", "~regex" or an exact name
// (lower-cased). The loader has put the host's name for "$hostname".
struct ServerName {
  enum class Kind { exact, head, tail, regex };
  Kind kind = Kind::exact;
  std::string
      key;  // exact: the name; head: "x" of "*.x"/".x"; tail: "x." of "x.*"; regex: the pattern
  bool with_self = false;  // ".x": x itself matches too
  std::string text;        // as nginx's $server_name shows it
};
common::Result<ServerName> parseServerName(std::string_view word);

// ngx_stream_validate_host: the SNI made ready for the lookup (lower case,
// the port and a trailing dot dropped); nullopt when nginx would not look
// it up (empty, "..", a blank, a control byte or '/').
std::optional<std::string> validateHost(std::string_view host);

class ServerNames {
 public:
  ServerNames();
  ~ServerNames();
  ServerNames(ServerNames&&) noexcept;
  ServerNames& operator=(ServerNames&&) noexcept;

  // Adds the (parsed) name of server `server`. False when another server
  // on this address already has it: nginx keeps the first ("conflicting
  // server name ... ignored").
  bool add(const ServerName& name, std::size_t server);
  // The server for a validated host name, if any has it.
  std::optional<std::size_t> find(std::string_view host) const;
  bool empty() const;

 private:
  struct NameRegex;
  std::map<std::string, std::size_t, std::less<>> exact_;
  std::map<std::string, std::pair<std::size_t, bool>, std::less<>>
      head_;  // key -> server, with_self
  std::map<std::string, std::size_t, std::less<>> tail_;
  std::set<std::string, std::less<>> exact_keys_;  // ".x" takes x too, as nginx's keys_hash
  std::vector<NameRegex> regex_;
};

}  // namespace proxyd
