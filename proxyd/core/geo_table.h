// nginx's geo (ngx_stream_geo_module): a table from client address to a
// value, built from the geo body's statements in order and looked up per
// session. Two forms, as nginx: networks (IPv4 and IPv6 CIDRs, the longest
// prefix wins) and, with `ranges`, IPv4 ranges A-B that may nest but not
// overlap. The builder makes nginx's decisions and says nginx's words: the
// same entries are refused, the same duplicates replaced with a warning.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/address.h"
#include "proxyd/core/geo_address.h"
#include "proxyd/core/template.h"
#include "proxyd/core/variable_table.h"

namespace proxyd {

// More entries than this in one geo are refused at load: nginx reads larger
// tables (it switches to binary bases past 100000), proxyd keeps them in
// memory as they are written.
inline constexpr std::size_t kMaxGeoEntries = 1 << 20;

// A binary trie over address bits, as nginx's radix tree: a value may sit
// at any prefix, a lookup keeps the deepest value on its path.
class PrefixTrie {
 public:
  static constexpr std::int32_t kNone = -1;
  // The value stored at exactly this prefix, or kNone.
  std::int32_t at(const std::uint8_t* key, int bits) const;
  void set(const std::uint8_t* key, int bits, std::int32_t value);
  // Whether there was a value at exactly this prefix (now gone).
  bool erase(const std::uint8_t* key, int bits);
  // The value of the longest prefix of `key` (all of its `bits`), or kNone.
  std::int32_t longest(const std::uint8_t* key, int bits) const;

 private:
  struct Node {
    std::int32_t child[2] = {-1, -1};
    std::int32_t value = kNone;
  };
  std::int32_t walk(const std::uint8_t* key, int bits) const;
  std::vector<Node> nodes_ = std::vector<Node>(1);
};

class Geo final : public VariableSource {
 public:
  // The value for an address; nothing (no address, or one nginx cannot
  // parse) is looked up as nginx does: as 255.255.255.255.
  const std::string& valueOf(const std::optional<GeoAddress>& addr) const;
  // The connection's own address (no source): AF_UNIX looks up as nothing.
  const std::string& valueOf(const common::SocketAddress& addr) const;
  // A geo always has a value: "" when nothing matches and there is no default.
  bool evaluate(SessionVariables& vars, std::string& out) const override;

 private:
  friend class GeoBuilder;
  struct Range {
    std::uint16_t start;
    std::uint16_t end;
    std::uint32_t value;
  };
  const std::string& valueOfV4(std::uint32_t host_order) const;

  std::optional<Template> source_;  // none: the connection's address
  bool ranges_ = false;
  std::vector<std::string> values_ = {""};  // [0]: nginx's empty value
  PrefixTrie v4_, v6_;
  // Ranges by their upper 16 bits, each list sorted and disjoint (nginx's high.low).
  std::unordered_map<std::uint16_t, std::vector<Range>> blocks_;
  std::uint32_t range_default_ = 0;
};

class GeoBuilder {
 public:
  struct Outcome {
    std::vector<std::string> warnings;
    std::optional<std::string> error;
  };

  // nginx's `ranges` (the INI key, or a "ranges;" in an included file).
  Outcome setRanges();
  // One statement of the geo body as nginx's words: NETWORK VALUE,
  // default VALUE, delete NETWORK (ranges: A-B instead of NETWORK). An
  // include is the loader's: it hands the file's statements here.
  Outcome apply(const std::vector<std::string>& words);
  std::size_t entries() const { return entries_; }
  // The table; the builder is spent.
  std::shared_ptr<Geo> finish(std::optional<Template> source);

 private:
  std::uint32_t intern(const std::string& value);
  void addNetwork(const GeoNetwork& net, const std::string& value, const std::string& text,
                  Outcome& out);
  void deleteNetwork(const GeoNetwork& net, const std::string& text, Outcome& out);
  void addRange(std::uint32_t start, std::uint32_t end, const std::string& value,
                const std::string& text, Outcome& out);
  bool deleteRange(std::uint32_t start, std::uint32_t end);
  void applyRange(const std::vector<std::string>& words, Outcome& out);
  void applyNetwork(const std::vector<std::string>& words, Outcome& out);

  std::shared_ptr<Geo> geo_ = std::make_shared<Geo>();
  std::unordered_map<std::string, std::uint32_t> interned_;
  bool have_networks_ = false;  // nginx's ctx->tree: a network statement was read
  bool have_range_default_ = false;
  std::size_t entries_ = 0;
};

}  // namespace proxyd
