// nginx stream's map (ngx_stream_map_module) compiled: a source template
// whose value picks one of the value templates, looked up as nginx looks it
// up (ngx_stream_map_find):
//   1. exact keys, case-insensitively (nginx lower-cases keys and source);
//   2. with `hostnames`, "*.example.com" / ".example.com" wildcards, then
//      "www.example.*" ones, the longest match winning (ngx_hash_find_combined);
//   3. the regular expressions (~ and ~*), in the order written, on the
//      source as it is, setting $1..$9 and the named captures;
//   4. else the default (empty when none).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "proxyd/core/regex.h"
#include "proxyd/core/template.h"
#include "proxyd/core/variable_table.h"

namespace proxyd {

// One key of a map block as nginx reads it, before it has a value.
struct MapKey {
  enum class Kind { exact, head_wildcard, tail_wildcard, regex, default_value };
  Kind kind = Kind::exact;
  // exact: the key lower-cased; head_wildcard: "example.com" of
  // "*.example.com" / ".example.com"; tail_wildcard: "www.example" of
  // "www.example.*"; regex: the pattern.
  std::string text;
  bool matches_base = false;  // head_wildcard ".example.com": also "example.com" itself
  std::string written;        // as nginx names it in "conflicting parameter" (lower case)
  std::optional<Regex> regex;
  std::vector<std::size_t> capture_indexes;  // regex: table index of each named capture
};

// Reads one key as ngx_stream_map does: "default", "~re" / "~*re", "\x"
// (the backslash escapes a leading ~ or a special word), and with
// `hostnames` the wildcard forms. A regex's named captures are declared in
// `table` (nginx declares them when it compiles the regex).
common::Result<MapKey> parseMapKey(std::string_view key, bool hostnames, VariableTable& table);

class MapVariable : public VariableSource {
 public:
  MapVariable(Template source, bool hostnames)
      : source_(std::move(source)), hostnames_(hostnames) {}

  // Adds a key with its value. Refused as nginx refuses it: a second
  // default, a key given twice, ".example.com" beside "example.com" or
  // "*.example.com".
  common::Result<void> add(MapKey key, Template value);

  bool evaluate(SessionVariables& vars, std::string& out) const override;

  std::size_t size() const { return values_.size(); }

 private:
  struct HeadWildcard {
    std::size_t value = 0;
    bool matches_base = false;
  };
  struct RegexEntry {
    Regex regex;
    std::vector<std::size_t> capture_indexes;
    std::size_t value = 0;
  };
  // The value of `subject`, or nullptr for the default.
  const Template* find(SessionVariables& vars, std::string_view subject) const;

  Template source_;
  bool hostnames_ = false;
  std::vector<Template> values_;
  std::optional<std::size_t> default_;
  std::unordered_map<std::string, std::size_t> exact_;
  // Exact keys and the "example.com" of every ".example.com": nginx's
  // keys_hash, where the two forms conflict.
  std::unordered_set<std::string> exact_names_;
  std::unordered_map<std::string, HeadWildcard> head_;
  std::unordered_map<std::string, std::size_t> tail_;
  std::vector<RegexEntry> regexes_;
};

}  // namespace proxyd
