#include "proxyd/core/server_names.h"

#include "common/config_text.h"

#include "proxyd/core/regex.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace proxyd {

namespace {

// As ngx_stream_core_server_name: case-insensitive when the pattern has an
// upper-case letter.
common::Result<Regex> compileRegex(const std::string& pattern) {
  bool caseless = std::any_of(pattern.begin(), pattern.end(),
                              [](unsigned char c) { return c >= 'A' && c <= 'Z'; });
  return Regex::compile(pattern, caseless);
}

// Longest match first: among the wildcards whose key the host ends with
// (head) or starts with (tail), nginx's wildcard hash finds the most
// specific one.
bool endsWithLabel(std::string_view host, std::string_view key, bool with_self) {
  if (host.size() == key.size()) return with_self && host == key;
  return host.size() > key.size() && host.substr(host.size() - key.size()) == key &&
         host[host.size() - key.size() - 1] == '.';
}

}  // namespace

struct ServerNames::NameRegex {
  Regex regex;
  std::size_t server = 0;
};

common::Result<ServerName> parseServerName(std::string_view word) {
  using R = common::Result<ServerName>;
  ServerName n;
  if (!word.empty() && ((word[0] == '*' && (word.size() < 3 || word[1] != '.')) ||
                        (word[0] == '.' && word.size() < 2))) {
    return R::fail(fmt::format("server name \"{}\" is invalid", word));
  }
  if (!word.empty() && word[0] == '~') {
    if (word.size() == 1) return R::fail(fmt::format("empty regex in server name \"{}\"", word));
    n.kind = ServerName::Kind::regex;
    n.key = std::string(word.substr(1));
    n.text = std::string(word);
    auto code = compileRegex(n.key);
    if (!code) return R::fail(code.error());
    return n;
  }
  std::string name = common::asciiLower(word);
  n.text = name;
  // ngx_hash_add_key's checks of a wildcard key.
  if (std::count(name.begin(), name.end(), '*') > 1 || name.find("..") != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return R::fail(fmt::format("invalid server name or wildcard \"{}\"", name));
  }
  if (name.size() > 1 && name[0] == '.') {
    n.kind = ServerName::Kind::head;
    n.key = name.substr(1);
    n.with_self = true;
    n.text = name.substr(1);  // $server_name drops the dot
  } else if (name.size() > 2 && name.compare(0, 2, "*.") == 0) {
    n.kind = ServerName::Kind::head;
    n.key = name.substr(2);
  } else if (name.size() > 2 && name.compare(name.size() - 2, 2, ".*") == 0) {
    n.kind = ServerName::Kind::tail;
    n.key = name.substr(0, name.size() - 1);
  } else if (name.find('*') != std::string::npos) {
    return R::fail(fmt::format("invalid server name or wildcard \"{}\"", name));
  } else {
    n.key = name;
  }
  return n;
}

std::optional<std::string> validateHost(std::string_view host) {
  std::size_t dot_pos = host.size();
  std::size_t host_len = host.size();
  enum { usual, literal, rest } state = usual;
  for (std::size_t i = 0; i < host.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(host[i]);
    switch (ch) {
      case '.':
        if (dot_pos == i - 1) return std::nullopt;
        dot_pos = i;
        break;
      case ':':
        if (state == usual) {
          host_len = i;
          state = rest;
        }
        break;
      case '[':
        if (i == 0) state = literal;
        break;
      case ']':
        if (state == literal) {
          host_len = i + 1;
          state = rest;
        }
        break;
      default:
        if (ch == '/' || ch <= 0x20 || ch == 0x7f) return std::nullopt;
        break;
    }
  }
  if (dot_pos == host_len - 1) --host_len;
  if (host_len == 0) return std::nullopt;
  return common::asciiLower(host.substr(0, host_len));
}

ServerNames::ServerNames() = default;
ServerNames::~ServerNames() = default;
ServerNames::ServerNames(ServerNames&&) noexcept = default;
ServerNames& ServerNames::operator=(ServerNames&&) noexcept = default;

// The conflicts are ngx_hash_add_key's: ".x" collides with the exact x and
// with "*.x"; each kind with its own kind.
bool ServerNames::add(const ServerName& name, std::size_t server) {
  switch (name.kind) {
    case ServerName::Kind::exact:
      if (!exact_keys_.insert(name.key).second) return false;
      exact_.emplace(name.key, server);
      return true;
    case ServerName::Kind::head:
      if (name.with_self && !exact_keys_.insert(name.key).second) return false;
      return head_.emplace(name.key, std::make_pair(server, name.with_self)).second;
    case ServerName::Kind::tail:
      return tail_.emplace(name.key, server).second;
    case ServerName::Kind::regex: {
      auto code = compileRegex(name.key);
      if (!code) return false;  // parseServerName has said why
      regex_.push_back(NameRegex{std::move(*code), server});
      return true;
    }
  }
  return false;
}

std::optional<std::size_t> ServerNames::find(std::string_view host) const {
  if (auto it = exact_.find(host); it != exact_.end()) return it->second;
  const std::pair<const std::string, std::pair<std::size_t, bool>>* best_head = nullptr;
  for (const auto& entry : head_) {
    if (endsWithLabel(host, entry.first, entry.second.second) &&
        (!best_head || entry.first.size() > best_head->first.size())) {
      best_head = &entry;
    }
  }
  if (best_head) return best_head->second.first;
  const std::pair<const std::string, std::size_t>* best_tail = nullptr;
  for (const auto& entry : tail_) {
    // "www.example.*" needs something after "www.example.".
    if (host.size() > entry.first.size() && host.substr(0, entry.first.size()) == entry.first &&
        (!best_tail || entry.first.size() > best_tail->first.size())) {
      best_tail = &entry;
    }
  }
  if (best_tail) return best_tail->second;
  if (host.empty()) return std::nullopt;
  std::vector<std::string> groups;
  for (const auto& re : regex_) {
    if (re.regex.match(host, groups) == Regex::Outcome::matched) return re.server;
  }
  return std::nullopt;
}

bool ServerNames::empty() const {
  return exact_.empty() && head_.empty() && tail_.empty() && regex_.empty();
}

}  // namespace proxyd
