#include "proxyd/core/map_variable.h"

#include <fmt/format.h>

#include "common/config_text.h"

namespace proxyd {

namespace {

// ngx_hash_add_key with NGX_HASH_WILDCARD_KEY: "*.example.com",
// ".example.com" and "www.example.*" are wildcards; any other '*', a "..",
// or a NUL byte makes the key invalid.
common::Result<MapKey> hostnameKey(std::string_view key) {
  using R = common::Result<MapKey>;
  auto invalid = [&] { return R::fail(fmt::format("invalid hostname or wildcard \"{}\"", key)); };
  std::size_t stars = 0;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '*' && ++stars > 1) return invalid();
    if (key[i] == '.' && i + 1 < key.size() && key[i + 1] == '.') return invalid();
    if (key[i] == '\0') return invalid();
  }
  MapKey k;
  k.written = common::asciiLower(key);
  if (key.size() > 1 && key[0] == '.') {
    k.kind = MapKey::Kind::head_wildcard;
    k.text = k.written.substr(1);
    k.matches_base = true;
  } else if (key.size() > 2 && key[0] == '*' && key[1] == '.') {
    k.kind = MapKey::Kind::head_wildcard;
    k.text = k.written.substr(2);
  } else if (key.size() > 2 && key[key.size() - 2] == '.' && key.back() == '*') {
    k.kind = MapKey::Kind::tail_wildcard;
    k.text = k.written.substr(0, key.size() - 2);
  } else if (stars > 0) {
    return invalid();
  } else {
    k.text = k.written;
  }
  return k;
}

}  // namespace

common::Result<MapKey> parseMapKey(std::string_view key, bool hostnames, VariableTable& table) {
  using R = common::Result<MapKey>;
  // The order of ngx_stream_map: "default" first, then "~", then the
  // backslash, so "\default" and "\~x" are plain keys.
  if (key == "default") {
    MapKey k;
    k.kind = MapKey::Kind::default_value;
    k.written = "default";
    return k;
  }
  if (!key.empty() && key[0] == '~') {
    std::string_view pattern = key.substr(1);
    const bool caseless = !pattern.empty() && pattern[0] == '*';
    if (caseless) pattern.remove_prefix(1);
    auto re = Regex::compile(pattern, caseless);
    if (!re) return R::fail(re.error());
    MapKey k;
    k.kind = MapKey::Kind::regex;
    k.text = std::string(pattern);
    k.written = std::string(key);
    for (const Regex::NamedCapture& nc : re->namedCaptures()) {
      auto index = table.declare(nc.name);
      if (!index) return R::fail(index.error());
      k.capture_indexes.push_back(*index);
    }
    k.regex = std::move(*re);
    return k;
  }
  if (!key.empty() && key[0] == '\\') key.remove_prefix(1);
  if (hostnames) return hostnameKey(key);
  MapKey k;
  k.text = common::asciiLower(key);
  k.written = k.text;
  return k;
}

common::Result<void> MapVariable::add(MapKey key, Template value) {
  using R = common::Result<void>;
  auto conflict = [&] { return R::fail(fmt::format("conflicting parameter \"{}\"", key.written)); };
  const std::size_t index = values_.size();
  switch (key.kind) {
    case MapKey::Kind::default_value:
      if (default_) return R::fail("duplicate default map parameter");
      default_ = index;
      break;
    case MapKey::Kind::exact:
      if (exact_names_.count(key.text)) return conflict();
      exact_names_.insert(key.text);
      exact_[key.text] = index;
      break;
    case MapKey::Kind::head_wildcard:
      if (key.matches_base) {
        if (exact_names_.count(key.text)) return conflict();
        exact_names_.insert(key.text);
      }
      if (head_.count(key.text)) return conflict();
      head_[key.text] = HeadWildcard{index, key.matches_base};
      break;
    case MapKey::Kind::tail_wildcard:
      if (tail_.count(key.text)) return conflict();
      tail_[key.text] = index;
      break;
    case MapKey::Kind::regex:
      regexes_.push_back(RegexEntry{std::move(*key.regex), std::move(key.capture_indexes), index});
      break;
  }
  values_.push_back(std::move(value));
  return {};
}

const Template* MapVariable::find(SessionVariables& vars, std::string_view subject) const {
  const std::string low = common::asciiLower(subject);
  if (auto it = exact_.find(low); it != exact_.end()) return &values_[it->second];
  if (!low.empty() && !head_.empty()) {
    // The longest suffix that is a wildcard's base: "a.b.example.com" tries
    // itself (".x" forms only), then "b.example.com", "example.com", "com".
    for (std::size_t pos = 0;;) {
      auto it = head_.find(low.substr(pos));
      if (it != head_.end() && (pos > 0 || it->second.matches_base)) {
        return &values_[it->second.value];
      }
      pos = low.find('.', pos);
      if (pos == std::string::npos) break;
      ++pos;
    }
  }
  if (!low.empty() && !tail_.empty()) {
    // The longest prefix ending before a dot: "www.example.com" tries
    // "www.example", then "www".
    for (std::size_t dot = low.rfind('.'); dot != std::string::npos;
         dot = dot == 0 ? std::string::npos : low.rfind('.', dot - 1)) {
      if (auto it = tail_.find(low.substr(0, dot)); it != tail_.end()) {
        return &values_[it->second];
      }
    }
  }
  if (subject.empty()) return nullptr;
  std::vector<std::string> groups;
  for (const RegexEntry& r : regexes_) {
    switch (r.regex.match(subject, groups)) {
      case Regex::Outcome::no_match:
        continue;
      case Regex::Outcome::error:
        // ngx_stream_map_find gives up on a matching error: the default.
        return nullptr;
      case Regex::Outcome::matched:
        break;
    }
    const auto& named = r.regex.namedCaptures();
    for (std::size_t i = 0; i < named.size(); ++i) {
      const std::size_t g = named[i].group;
      vars.assign(r.capture_indexes[i], g < groups.size() ? groups[g] : std::string());
    }
    vars.setCaptures(std::move(groups));
    return &values_[r.value];
  }
  return nullptr;
}

bool MapVariable::evaluate(SessionVariables& vars, std::string& out) const {
  std::string subject = source_.evaluate(vars);
  // ngx_stream_map_variable: a hostname's trailing dot is not part of it.
  if (hostnames_ && !subject.empty() && subject.back() == '.') subject.pop_back();
  const Template* value = find(vars, subject);
  if (value == nullptr && default_) value = &values_[*default_];
  // Without a default the value is empty, and still found (nginx's
  // ngx_stream_variable_null_value).
  if (value != nullptr) value->render(vars, out);
  return true;
}

}  // namespace proxyd
