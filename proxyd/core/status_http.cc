#include "proxyd/core/status_http.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>

namespace proxyd {

namespace {

StatusReply refuse(int code, std::string reason, std::string body) {
  return StatusReply{code, std::move(reason), "text/plain", std::move(body), false};
}

StatusReply badRequest() {
  return refuse(400, "Bad Request", "400 Bad Request\n");
}

// RFC 9110 5.6.2 token characters.
bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c >= '0' && c <= '9') continue;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos)
      continue;
    return false;
  }
  return true;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The next line of `rest` without its LF or CRLF; advances `rest`.
std::string_view nextLine(std::string_view& rest) {
  std::size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The same host, whatever the port.
bool sameHost(const common::SocketAddress& a, const common::SocketAddress& b) {
  if (a.family() != b.family()) return false;
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(b.sa())->sin_addr.s_addr;
  }
  if (a.family() == AF_INET6) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(b.sa())->sin6_addr,
                       sizeof(in6_addr)) == 0;
  }
  return false;
}

}  // namespace

std::size_t pickShedVictim(const std::vector<const common::SocketAddress*>& open_oldest_first,
                           const common::SocketAddress& incoming) {
  // Distinct hosts are few (usually one to three): a linear table.
  struct Host {
    const common::SocketAddress* addr;
    std::size_t count;
    std::size_t oldest;  // index into open_oldest_first
  };
  std::vector<Host> hosts;
  for (std::size_t i = 0; i < open_oldest_first.size(); ++i) {
    const common::SocketAddress& a = *open_oldest_first[i];
    auto it = std::find_if(hosts.begin(), hosts.end(),
                           [&](const Host& h) { return sameHost(*h.addr, a); });
    if (it == hosts.end()) {
      hosts.push_back({&a, sameHost(a, incoming) ? 2u : 1u, i});
    } else {
      ++it->count;
    }
  }
  std::size_t victim = 0, most = 0;
  for (const Host& h : hosts) {
    // Hosts are in the order of their oldest connection: ties go to the older.
    if (h.count > most) {
      most = h.count;
      victim = h.oldest;
    }
  }
  return victim;
}

std::uint64_t controlReservedFds(std::uint64_t rlimit_nofile) {
  if (rlimit_nofile >= 4 * kControlReservedFds) return kControlReservedFds;
  return rlimit_nofile / 4;
}

int workerDescriptorCeiling(std::uint64_t rlimit_nofile) {
  if (rlimit_nofile > static_cast<std::uint64_t>(INT_MAX)) return 0;
  return static_cast<int>(rlimit_nofile - controlReservedFds(rlimit_nofile));
}

std::size_t findStatusHeadEnd(std::string_view buf, std::size_t from) {
  // The empty line is "\n\n" or "\n\r\n": start two bytes back so that a
  // terminator split over two reads is found.
  std::size_t i = from >= 2 ? from - 2 : 0;
  while ((i = buf.find('\n', i)) != std::string_view::npos) {
    if (i + 1 < buf.size() && buf[i + 1] == '\n') return i + 2;
    if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
    ++i;
  }
  return std::string_view::npos;
}

StatusHead parseStatusHead(std::string_view head) {
  StatusHead out;
  out.refusal = badRequest();
  std::string_view rest = head;
  // RFC 9112 2.2: an empty line before the request line is ignored.
  if (rest.starts_with("\r\n")) {
    rest.remove_prefix(2);
  } else if (rest.starts_with("\n")) {
    rest.remove_prefix(1);
  }
  std::string_view line = nextLine(rest);
  // METHOD SP TARGET SP HTTP/1.x (RFC 9112 3).
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return out;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method) || target.empty()) return out;
  for (unsigned char c : target) {
    if (c <= ' ' || c == 0x7f) return out;
  }
  if (!version.starts_with("HTTP/") || version.size() != 8 || version[6] != '.') return out;
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    out.refusal = refuse(505, "HTTP Version Not Supported", "505 HTTP Version Not Supported\n");
    return out;
  }
  std::optional<std::size_t> length;
  while (!rest.empty()) {
    line = nextLine(rest);
    if (line.empty()) break;  // the end of the head
    // Folded lines and a space before the colon are refused (RFC 9112 5.1, 5.2).
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) return out;
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (equalsNoCase(name, "Transfer-Encoding")) {
      out.refusal = refuse(501, "Not Implemented", "501 Not Implemented\n");
      return out;
    }
    if (equalsNoCase(name, "Content-Length")) {
      if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos) {
        return out;
      }
      // More than 18 digits is beyond any limit (and would overflow).
      std::size_t n = SIZE_MAX;
      if (value.size() <= 18) {
        n = 0;
        for (char c : value) n = n * 10 + static_cast<std::size_t>(c - '0');
      }
      if (length && *length != n) return out;  // RFC 9112 6.3: differing lengths
      length = n;
    }
  }
  if (length.value_or(0) > kStatusMaxBodyBytes) {
    out.refusal = refuse(413, "Request Entity Too Large", "413 Request Entity Too Large\n");
    return out;
  }
  StatusRequest req;
  req.method = std::string(method);
  req.path = std::string(target.substr(0, target.find('?')));
  req.body_length = length.value_or(0);
  out.request = std::move(req);
  return out;
}

StatusReply statusHeadTooLarge(std::string_view received) {
  // nginx: a request line beyond large_client_header_buffers is 414, a
  // header line 400 "Request Header Or Cookie Too Large".
  std::string_view rest = received;
  while (rest.starts_with("\r\n")) rest.remove_prefix(2);
  if (rest.find('\n') == std::string_view::npos) {
    return refuse(414, "Request-URI Too Large", "414 Request-URI Too Large\n");
  }
  return refuse(400, "Bad Request", "400 Request Header Or Cookie Too Large\n");
}

std::string formatStatusResponse(const StatusReply& reply, bool head_only, std::time_t date) {
  std::tm tm{};
  gmtime_r(&date, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nServer: proxyd\r\nDate: {}, {:02} {} {} {:02}:{:02}:{:02} GMT\r\n"
      "Content-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n",
      reply.code, reply.reason, kDays[tm.tm_wday % 7], tm.tm_mday, kMonths[tm.tm_mon % 12],
      tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, reply.content_type, reply.body.size());
  if (reply.allow_header) out += "Allow: GET, HEAD\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += reply.body;
  return out;
}

}  // namespace proxyd
