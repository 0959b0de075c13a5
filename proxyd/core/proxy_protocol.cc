// Follows ngx_proxy_protocol_read / _v2_read of nginx 1.23.2+ (4096-byte
// bound, only the first line of a broken v1 header logged). nginx's
// decisions, which are looser or stricter than the text of the spec:
//  - v1 addresses are only checked for their characters (hex digits, '.'
//    and ':'), so "PROXY TCP4 fff ..." is accepted; an empty one too;
//  - v1 ports are decimal 0..65535, leading zeros allowed;
//  - "PROXY UNKNOWN" is followed by anything up to the first CRLF;
//  - v2 with another command than PROXY, another transport than STREAM or
//    a family other than INET/INET6 (AF_UNIX among them) is skipped whole,
//    and the connection keeps its own addresses.
#include "proxyd/core/proxy_protocol.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

#include <fmt/format.h>

namespace proxyd {
namespace {

using State = ProxyProtocolResult::State;

std::uint16_t be16(const unsigned char* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::string inet4Text(const unsigned char* p) {
  return fmt::format("{}.{}.{}.{}", p[0], p[1], p[2], p[3]);
}

// A v1 read that stops at a byte nginx refuses (error), or at the end of
// what has arrived (short: more bytes might make it valid).
class V1Reader {
 public:
  explicit V1Reader(std::string_view data) : d_(data) {}

  bool short_ = false;  // ran out of bytes before a decision

  // ngx_proxy_protocol_read_addr: up to a space, of [0-9a-fA-F:.] only.
  bool readAddr(std::string& out) {
    const std::size_t start = p_;
    for (;;) {
      if (p_ == d_.size()) return outOfBytes();
      const char ch = d_[p_++];
      if (ch == ' ') break;
      const bool ok = ch == ':' || ch == '.' || (ch >= 'a' && ch <= 'f') ||
                      (ch >= 'A' && ch <= 'F') || (ch >= '0' && ch <= '9');
      if (!ok) return false;
    }
    out.assign(d_.substr(start, p_ - start - 1));
    return true;
  }

  // ngx_proxy_protocol_read_port: up to `sep`, then ngx_atoi in 0..65535.
  bool readPort(std::uint16_t& out, char sep) {
    const std::size_t start = p_;
    for (;;) {
      if (p_ == d_.size()) return outOfBytes();
      if (d_[p_++] == sep) break;
    }
    const std::string_view digits = d_.substr(start, p_ - start - 1);
    if (digits.empty()) return false;
    unsigned value = 0;
    for (const char c : digits) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 65535) return false;
    }
    out = static_cast<std::uint16_t>(value);
    return true;
  }

  bool readLf() {
    if (p_ == d_.size()) return outOfBytes();
    return d_[p_++] == '\n';
  }

  // "PROXY UNKNOWN...": anything up to the first CRLF.
  bool skipLine() {
    for (; p_ + 1 < d_.size(); ++p_) {
      if (d_[p_] == '\r' && d_[p_ + 1] == '\n') {
        p_ += 2;
        return true;
      }
    }
    return outOfBytes();
  }

  void skip(std::size_t n) { p_ += n; }
  std::size_t pos() const { return p_; }

 private:
  bool outOfBytes() {
    short_ = true;
    return false;
  }
  std::string_view d_;
  std::size_t p_ = 0;
};

bool startsAsPrefix(std::string_view data, std::string_view expected) {
  const std::size_t n = std::min(data.size(), expected.size());
  return data.substr(0, n) == expected.substr(0, n);
}

// nginx logs the input up to its first CR or LF.
ProxyProtocolResult brokenHeader(std::string_view data) {
  const std::size_t end = std::min(data.find_first_of("\r\n"), data.size());
  ProxyProtocolResult r;
  r.state = State::error;
  r.error = fmt::format("broken header: \"{}\"", data.substr(0, end));
  return r;
}

ProxyProtocolResult need(bool final, std::string_view data) {
  if (final) return brokenHeader(data);
  return ProxyProtocolResult{};
}

ProxyProtocolResult parseV1(std::string_view data, bool final) {
  // Too short to decide when it is a beginning of "PROXY " or of the v2
  // signature.
  if (data.size() < 8 || data.substr(0, 6) != "PROXY ") {
    const bool prefix =
        (data.size() < 8 && startsAsPrefix(data, "PROXY ")) ||
        (data.size() < kProxyProtocolV2Fixed && startsAsPrefix(data, kProxyProtocolV2Signature));
    return prefix ? need(final, data) : brokenHeader(data);
  }
  const std::string_view rest = data.substr(6);
  V1Reader in(data);
  in.skip(6);
  ProxyProtocolResult r;
  if (rest.size() >= 7 && rest.substr(0, 7) == "UNKNOWN") {
    in.skip(7);
    if (!in.skipLine()) return in.short_ ? need(final, data) : brokenHeader(data);
    r.state = State::done;
    r.consumed = in.pos();
    return r;
  }
  if (rest.size() < 7 && (startsAsPrefix(rest, "UNKNOWN") && !final)) return {};
  if (rest.size() < 5 || rest.substr(0, 3) != "TCP" || (rest[3] != '4' && rest[3] != '6') ||
      rest[4] != ' ') {
    const bool prefix = startsAsPrefix(rest, "TCP4 ") || startsAsPrefix(rest, "TCP6 ");
    return rest.size() < 5 && prefix ? need(final, data) : brokenHeader(data);
  }
  in.skip(5);
  ProxyProtocolHeader h;
  if (in.readAddr(h.src_addr) && in.readAddr(h.dst_addr) && in.readPort(h.src_port, ' ') &&
      in.readPort(h.dst_port, '\r') && in.readLf()) {
    r.state = State::done;
    r.consumed = in.pos();
    r.header = std::move(h);
    return r;
  }
  return in.short_ ? need(final, data) : brokenHeader(data);
}

ProxyProtocolResult parseV2(std::string_view data, bool final) {
  const auto* b = reinterpret_cast<const unsigned char*>(data.data());
  ProxyProtocolResult r;
  r.state = State::error;
  const unsigned version = b[12] >> 4;
  if (version != 2) {
    r.error = fmt::format("unknown PROXY protocol version: {}", version);
    return r;
  }
  const std::size_t len = be16(b + 14);
  const std::size_t end = kProxyProtocolV2Fixed + len;
  if (data.size() < end) {
    if (!final && end <= kProxyProtocolMaxHeader) return ProxyProtocolResult{};
    r.error = "header is too large";
    return r;
  }
  r.state = State::done;
  r.consumed = end;
  const unsigned command = b[12] & 0x0f;
  const unsigned transport = b[13] & 0x0f;
  const unsigned family = b[13] >> 4;
  // Only PROXY over STREAM of INET or INET6 carries addresses for nginx.
  if (command != 1 || transport != 1 || (family != 1 && family != 2)) return r;
  const std::size_t addrs = family == 1 ? 12 : 36;
  if (len < addrs) {
    // nginx fails the connection here without a word.
    r.state = State::error;
    r.consumed = 0;
    return r;
  }
  const unsigned char* a = b + kProxyProtocolV2Fixed;
  ProxyProtocolHeader h;
  if (family == 1) {
    h.src_addr = inet4Text(a);
    h.dst_addr = inet4Text(a + 4);
  } else {
    h.src_addr = nginxInet6Text(a);
    h.dst_addr = nginxInet6Text(a + 16);
  }
  h.src_port = be16(a + addrs - 4);
  h.dst_port = be16(a + addrs - 2);
  h.tlvs.assign(data.substr(kProxyProtocolV2Fixed + addrs, len - addrs));
  r.header = std::move(h);
  return r;
}

}  // namespace

ProxyProtocolResult parseProxyProtocol(std::string_view data, bool final) {
  if (data.size() >= kProxyProtocolMaxHeader) {
    data = data.substr(0, kProxyProtocolMaxHeader);
    final = true;
  }
  if (data.size() >= kProxyProtocolV2Fixed &&
      data.substr(0, kProxyProtocolV2Signature.size()) == kProxyProtocolV2Signature) {
    return parseV2(data, final);
  }
  return parseV1(data, final);
}

// ngx_inet6_ntop: the longest run (of at least two) of zero groups is
// "::", the first of equal runs; ::ffff:a.b.c.d, ::a.b.c.d and (unless it
// is ::1 or ends in a zero byte) ::N print the last four bytes dotted.
std::string nginxInet6Text(const unsigned char* p) {
  int zero = -1, max = 1, run = 0, last = -1;
  for (int i = 0; i < 16; i += 2) {
    if (p[i] != 0 || p[i + 1] != 0) {
      if (max < run) {
        zero = last;
        max = run;
      }
      run = 0;
      continue;
    }
    if (run++ == 0) last = i;
  }
  if (max < run) {
    zero = last;
    max = run;
  }
  std::string out;
  int n = 16;
  if (zero == 0) {
    if ((max == 5 && p[10] == 0xff && p[11] == 0xff) || max == 6 ||
        (max == 7 && p[14] != 0 && p[15] != 1)) {
      n = 12;
    }
    out.push_back(':');
  }
  for (int i = 0; i < n; i += 2) {
    if (i == zero) {
      out.push_back(':');
      i += (max - 1) * 2;
      continue;
    }
    out += fmt::format("{:x}", p[i] * 256 + p[i + 1]);
    if (i < 14) out.push_back(':');
  }
  if (n == 12) out += fmt::format("{}.{}.{}.{}", p[12], p[13], p[14], p[15]);
  return out;
}

}  // namespace proxyd
