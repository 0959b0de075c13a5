#include "proxyd/core/geo_address.h"

#include <algorithm>

namespace proxyd {

namespace {

std::array<std::uint8_t, 16> v4Bytes(std::uint32_t host_order) {
  return {static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
          static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order)};
}

// ngx_atoi: digits only, at least one (leading zeros too); any value past
// 128 is as wrong as the next, so it stops growing there.
std::optional<int> parseMaskBits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = std::min(n * 10 + (c - '0'), 1000);
  }
  return n;
}

}  // namespace

std::optional<std::uint32_t> parseNginxInet4(std::string_view text) {
  // Empty octets count as 0 ("1..2.3"), as in nginx; exactly three dots.
  std::uint32_t addr = 0;
  std::uint32_t octet = 0;
  int dots = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      octet = octet * 10 + static_cast<std::uint32_t>(c - '0');
      if (octet > 255) return std::nullopt;
    } else if (c == '.') {
      addr = (addr << 8) + octet;
      octet = 0;
      ++dots;
    } else {
      return std::nullopt;
    }
  }
  if (dots != 3) return std::nullopt;
  addr = (addr << 8) + octet;
  if (addr == 0xffffffffU) return std::nullopt;  // INADDR_NONE
  return addr;
}

std::optional<std::array<std::uint8_t, 16>> parseNginxInet6(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::array<std::uint8_t, 16> out{};
  std::size_t at = 0;               // next byte of `out` to write
  std::optional<std::size_t> zero;  // where "::" stands
  std::size_t last_group = 0;       // start of the group after the last ':'
  bool have_last_group = false;
  unsigned nibbles = 0;
  unsigned word = 0;
  int groups_left = 8;
  std::size_t i = 0;
  if (text[0] == ':') ++i;  // "::1": the first ':' of "::" (and a lone leading one) is skipped
  auto putWord = [&] {
    out[at++] = static_cast<std::uint8_t>(word >> 8);
    out[at++] = static_cast<std::uint8_t>(word & 0xff);
  };
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == ':') {
      if (nibbles) {
        last_group = i + 1;
        have_last_group = true;
        putWord();
        if (--groups_left) {
          nibbles = 0;
          word = 0;
          continue;
        }
      } else if (!zero) {
        last_group = i + 1;
        have_last_group = true;
        zero = at;
        continue;
      }
      return std::nullopt;
    }
    if (c == '.' && nibbles) {
      // An IPv4 tail: the text from the start of this group to the end.
      if (groups_left < 2 || !have_last_group) return std::nullopt;
      auto v4 = parseNginxInet4(text.substr(last_group));
      if (!v4) return std::nullopt;
      out[at++] = static_cast<std::uint8_t>(*v4 >> 24);
      out[at++] = static_cast<std::uint8_t>(*v4 >> 16);
      word = *v4 & 0xffff;
      --groups_left;
      break;
    }
    if (++nibbles > 4) return std::nullopt;
    if (c >= '0' && c <= '9') {
      word = word * 16 + static_cast<unsigned>(c - '0');
      continue;
    }
    char lower = static_cast<char>(c | 0x20);
    if (lower >= 'a' && lower <= 'f') {
      word = word * 16 + static_cast<unsigned>(lower - 'a') + 10;
      continue;
    }
    return std::nullopt;
  }
  if (nibbles == 0 && !zero) return std::nullopt;
  putWord();
  if (--groups_left) {
    if (!zero) return std::nullopt;
    // Move what follows "::" to the end; zeros in between.
    std::size_t gap = static_cast<std::size_t>(groups_left) * 2;
    std::copy_backward(out.begin() + static_cast<long>(*zero), out.begin() + static_cast<long>(at),
                       out.begin() + static_cast<long>(at + gap));
    std::fill(out.begin() + static_cast<long>(*zero), out.begin() + static_cast<long>(*zero + gap),
              0);
    return out;
  }
  if (zero) return std::nullopt;
  return out;
}

std::optional<GeoAddress> parseNginxAddress(std::string_view text) {
  if (auto v4 = parseNginxInet4(text)) return GeoAddress{false, v4Bytes(*v4)};
  if (auto v6 = parseNginxInet6(text)) return GeoAddress{true, *v6};
  return std::nullopt;
}

std::optional<GeoNetwork> parseGeoNetwork(std::string_view text) {
  GeoNetwork net;
  if (text == "255.255.255.255") {
    net.addr = GeoAddress{false, v4Bytes(0xffffffffU)};
    net.prefix = 32;
    return net;
  }
  std::size_t slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  if (auto v4 = parseNginxInet4(addr)) {
    net.addr = GeoAddress{false, v4Bytes(*v4)};
  } else if (auto v6 = parseNginxInet6(addr)) {
    net.addr = GeoAddress{true, *v6};
  } else {
    return std::nullopt;
  }
  const int max_bits = net.addr.v6 ? 128 : 32;
  if (slash == std::string_view::npos) {
    net.prefix = max_bits;
    return net;
  }
  auto bits = parseMaskBits(text.substr(slash + 1));
  if (!bits || *bits > max_bits) return std::nullopt;
  net.prefix = *bits;
  for (int i = 0; i < max_bits / 8; ++i) {
    int keep = std::clamp(net.prefix - i * 8, 0, 8);
    auto mask = static_cast<std::uint8_t>(0xff00U >> keep);
    std::uint8_t& b = net.addr.bytes[static_cast<std::size_t>(i)];
    if (b & static_cast<std::uint8_t>(~mask)) net.low_bits_set = true;
    b &= mask;
  }
  return net;
}

}  // namespace proxyd
