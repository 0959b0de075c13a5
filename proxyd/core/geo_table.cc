#include "proxyd/core/geo_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace proxyd {

namespace {

constexpr std::uint32_t kInaddrNone = 0xffffffffU;

int bitAt(const std::uint8_t* key, int i) {
  return (key[i / 8] >> (7 - i % 8)) & 1;
}

std::uint32_t v4Of(const std::uint8_t* b) {
  return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}

bool isV4Mapped(const std::uint8_t* b) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kPrefix, sizeof kPrefix) == 0;
}

std::string dotted(std::uint32_t high, std::uint32_t low) {
  return fmt::format("{}.{}.{}.{}", high >> 8, high & 0xff, low >> 8, low & 0xff);
}

}  // namespace

// ------------------------------------------------------------ PrefixTrie

std::int32_t PrefixTrie::walk(const std::uint8_t* key, int bits) const {
  std::int32_t node = 0;
  for (int i = 0; i < bits && node >= 0; ++i) {
    node = nodes_[static_cast<std::size_t>(node)].child[bitAt(key, i)];
  }
  return node;
}

std::int32_t PrefixTrie::at(const std::uint8_t* key, int bits) const {
  std::int32_t node = walk(key, bits);
  return node < 0 ? kNone : nodes_[static_cast<std::size_t>(node)].value;
}

void PrefixTrie::set(const std::uint8_t* key, int bits, std::int32_t value) {
  std::size_t node = 0;
  for (int i = 0; i < bits; ++i) {
    const int b = bitAt(key, i);
    if (nodes_[node].child[b] < 0) {
      nodes_[node].child[b] = static_cast<std::int32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    node = static_cast<std::size_t>(nodes_[node].child[b]);
  }
  nodes_[node].value = value;
}

bool PrefixTrie::erase(const std::uint8_t* key, int bits) {
  std::int32_t node = walk(key, bits);
  if (node < 0 || nodes_[static_cast<std::size_t>(node)].value == kNone) return false;
  nodes_[static_cast<std::size_t>(node)].value = kNone;
  return true;
}

std::int32_t PrefixTrie::longest(const std::uint8_t* key, int bits) const {
  std::int32_t found = kNone;
  std::int32_t node = 0;
  for (int i = 0; node >= 0; ++i) {
    const Node& n = nodes_[static_cast<std::size_t>(node)];
    if (n.value != kNone) found = n.value;
    if (i == bits) break;
    node = n.child[bitAt(key, i)];
  }
  return found;
}

// ------------------------------------------------------------ Geo

const std::string& Geo::valueOfV4(std::uint32_t addr) const {
  if (ranges_) {
    auto it = blocks_.find(static_cast<std::uint16_t>(addr >> 16));
    if (it != blocks_.end()) {
      // Sorted and disjoint: the last range starting at or below the address.
      const auto low = static_cast<std::uint16_t>(addr & 0xffff);
      const auto& ranges = it->second;
      auto after = std::upper_bound(ranges.begin(), ranges.end(), low,
                                    [](std::uint16_t a, const Range& r) { return a < r.start; });
      if (after != ranges.begin() && low <= std::prev(after)->end) {
        return values_[std::prev(after)->value];
      }
    }
    return values_[range_default_];
  }
  const std::uint8_t key[4] = {
      static_cast<std::uint8_t>(addr >> 24), static_cast<std::uint8_t>(addr >> 16),
      static_cast<std::uint8_t>(addr >> 8), static_cast<std::uint8_t>(addr)};
  std::int32_t v = v4_.longest(key, 32);
  return values_[v == PrefixTrie::kNone ? 0 : static_cast<std::size_t>(v)];
}

const std::string& Geo::valueOf(const std::optional<GeoAddress>& addr) const {
  if (!addr) return valueOfV4(kInaddrNone);
  if (!addr->v6) return valueOfV4(v4Of(addr->bytes.data()));
  if (isV4Mapped(addr->bytes.data())) return valueOfV4(v4Of(addr->bytes.data() + 12));
  // Ranges are IPv4 only: any other IPv6 address is nginx's INADDR_NONE there.
  if (ranges_) return valueOfV4(kInaddrNone);
  std::int32_t v = v6_.longest(addr->bytes.data(), 128);
  return values_[v == PrefixTrie::kNone ? 0 : static_cast<std::size_t>(v)];
}

const std::string& Geo::valueOf(const common::SocketAddress& addr) const {
  GeoAddress a;
  if (addr.family() == AF_INET) {
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(addr.sa())->sin_addr, 4);
  } else if (addr.family() == AF_INET6) {
    a.v6 = true;
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(addr.sa())->sin6_addr, 16);
  } else {
    return valueOf(std::nullopt);
  }
  return valueOf(a);
}

bool Geo::evaluate(SessionVariables& vars, std::string& out) const {
  if (!source_) {
    out += valueOf(vars.record().remote);
    return true;
  }
  std::string text;
  source_->render(vars, text);
  out += valueOf(parseNginxAddress(text));
  return true;
}

// ------------------------------------------------------------ GeoBuilder

std::uint32_t GeoBuilder::intern(const std::string& value) {
  auto [it, added] = interned_.emplace(value, static_cast<std::uint32_t>(geo_->values_.size()));
  if (added) geo_->values_.push_back(value);
  return it->second;
}

GeoBuilder::Outcome GeoBuilder::setRanges() {
  Outcome out;
  if (have_networks_) {
    out.error = "the \"ranges\" directive must be the first directive inside \"geo\" block";
  } else {
    geo_->ranges_ = true;
  }
  return out;
}

GeoBuilder::Outcome GeoBuilder::apply(const std::vector<std::string>& words) {
  Outcome out;
  if (words.size() == 1 && words[0] == "ranges") return setRanges();
  if (words.size() != 2) {
    out.error = "invalid number of the geo parameters";
    return out;
  }
  if (words[0] != "default") {
    if (entries_ >= kMaxGeoEntries) {
      out.error = fmt::format("too many geo entries (at most {})", kMaxGeoEntries);
      return out;
    }
    ++entries_;
  }
  if (geo_->ranges_) {
    applyRange(words, out);
  } else {
    applyNetwork(words, out);
  }
  return out;
}

void GeoBuilder::applyNetwork(const std::vector<std::string>& words, Outcome& out) {
  have_networks_ = true;
  if (words[0] == "default") {
    GeoNetwork all;
    addNetwork(all, words[1], words[0], out);
    all.addr.v6 = true;
    addNetwork(all, words[1], words[0], out);
    return;
  }
  const bool del = words[0] == "delete";
  const std::string& text = del ? words[1] : words[0];
  auto net = parseGeoNetwork(text);
  if (!net) {
    out.error = fmt::format("invalid network \"{}\"", text);
    return;
  }
  if (net->low_bits_set) {
    out.warnings.push_back(fmt::format("low address bits of {} are meaningless", text));
  }
  if (del) {
    deleteNetwork(*net, text, out);
  } else {
    addNetwork(*net, words[1], text, out);
  }
}

void GeoBuilder::addNetwork(const GeoNetwork& net, const std::string& value,
                            const std::string& text, Outcome& out) {
  PrefixTrie& trie = net.addr.v6 ? geo_->v6_ : geo_->v4_;
  const std::uint8_t* key = net.addr.bytes.data();
  const std::uint32_t v = intern(value);
  if (trie.at(key, net.prefix) != PrefixTrie::kNone) {
    // nginx names the value a lookup of the network's address finds, which
    // may be a longer prefix's.
    std::int32_t old = trie.longest(key, net.addr.v6 ? 128 : 32);
    out.warnings.push_back(fmt::format("duplicate network \"{}\", value: \"{}\", old value: \"{}\"",
                                       text, value, geo_->values_[static_cast<std::size_t>(old)]));
  }
  trie.set(key, net.prefix, static_cast<std::int32_t>(v));
}

void GeoBuilder::deleteNetwork(const GeoNetwork& net, const std::string& text, Outcome& out) {
  PrefixTrie& trie = net.addr.v6 ? geo_->v6_ : geo_->v4_;
  if (!trie.erase(net.addr.bytes.data(), net.prefix)) {
    out.warnings.push_back(fmt::format("no network \"{}\" to delete", text));
  }
}

void GeoBuilder::applyRange(const std::vector<std::string>& words, Outcome& out) {
  if (words[0] == "default") {
    if (have_range_default_) {
      out.warnings.push_back(
          fmt::format("duplicate default geo range value: \"{}\", old value: \"{}\"", words[1],
                      geo_->values_[geo_->range_default_]));
    }
    geo_->range_default_ = intern(words[1]);
    have_range_default_ = true;
    return;
  }
  const bool del = words[0] == "delete";
  const std::string& text = del ? words[1] : words[0];
  const std::size_t dash = text.find('-');
  std::optional<std::uint32_t> start, end;
  if (dash != std::string::npos) {
    start = parseNginxInet4(std::string_view(text).substr(0, dash));
    end = parseNginxInet4(std::string_view(text).substr(dash + 1));
  }
  if (!start || !end || *start > *end) {
    out.error = fmt::format("invalid range \"{}\"", text);
    return;
  }
  if (del) {
    if (!deleteRange(*start, *end)) {
      out.warnings.push_back(fmt::format("no address range \"{}\" to delete", text));
    }
    return;
  }
  addRange(*start, *end, words[1], text, out);
}

// Block by block (the upper 16 bits), as nginx stores ranges: a new range
// may fall inside one range of the block (which it splits) or between
// ranges, but not across one's edge.
void GeoBuilder::addRange(std::uint32_t start, std::uint32_t end, const std::string& value,
                          const std::string& text, Outcome& out) {
  const std::uint32_t v = intern(value);
  for (std::uint64_t n = start; n <= end; n = (n + 0x10000) & 0xffff0000U) {
    const auto h = static_cast<std::uint16_t>(n >> 16);
    const auto s = static_cast<std::uint16_t>(n == start ? n & 0xffff : 0);
    const auto e = static_cast<std::uint16_t>((n | 0xffff) > end ? end & 0xffff : 0xffff);
    std::vector<Geo::Range>& block = geo_->blocks_[h];
    // The last range that starts at or before e.
    std::size_t i = block.size();
    while (i > 0 && e < block[i - 1].start) --i;
    if (i == 0 || s > block[i - 1].end) {
      block.insert(block.begin() + static_cast<long>(i), Geo::Range{s, e, v});
      continue;
    }
    Geo::Range& r = block[i - 1];
    if (s == r.start && e == r.end) {
      out.warnings.push_back(fmt::format("duplicate range \"{}\", value: \"{}\", old value: \"{}\"",
                                         text, value, geo_->values_[r.value]));
      r.value = v;
    } else if (s >= r.start && e <= r.end) {
      // Inside: what is left of the old range on either side keeps its value.
      const Geo::Range old = r;
      std::vector<Geo::Range> pieces;
      if (s > old.start)
        pieces.push_back({old.start, static_cast<std::uint16_t>(s - 1), old.value});
      pieces.push_back({s, e, v});
      if (e < old.end) pieces.push_back({static_cast<std::uint16_t>(e + 1), old.end, old.value});
      auto at = block.erase(block.begin() + static_cast<long>(i - 1));
      block.insert(at, pieces.begin(), pieces.end());
    } else {
      out.error = fmt::format("range \"{}\" overlaps \"{}-{}\"", text, dotted(h, r.start),
                              dotted(h, r.end));
      return;
    }
  }
}

bool GeoBuilder::deleteRange(std::uint32_t start, std::uint32_t end) {
  bool all_found = true;
  for (std::uint64_t n = start; n <= end; n = (n + 0x10000) & 0xffff0000U) {
    const auto h = static_cast<std::uint16_t>(n >> 16);
    const auto s = static_cast<std::uint16_t>(n == start ? n & 0xffff : 0);
    const auto e = static_cast<std::uint16_t>((n | 0xffff) > end ? end & 0xffff : 0xffff);
    auto it = geo_->blocks_.find(h);
    bool found = false;
    if (it != geo_->blocks_.end()) {
      auto& block = it->second;
      for (auto r = block.begin(); r != block.end(); ++r) {
        if (r->start == s && r->end == e) {
          block.erase(r);
          found = true;
          break;
        }
      }
    }
    all_found = all_found && found;
  }
  return all_found;
}

std::shared_ptr<Geo> GeoBuilder::finish(std::optional<Template> source) {
  for (auto it = geo_->blocks_.begin(); it != geo_->blocks_.end();) {
    it = it->second.empty() ? geo_->blocks_.erase(it) : std::next(it);
  }
  geo_->source_ = std::move(source);
  interned_.clear();
  return std::move(geo_);
}

}  // namespace proxyd
