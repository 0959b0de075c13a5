// Walks one INI section's entries for a config loader: each known key goes to
// its handler, at most once unless it may repeat; an unknown or duplicate key
// is an error at its line naming the section (and, for an unknown key, the
// keys that are known). Shared by proxyd's and vrrpd's loaders.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/ini_file.h"

namespace common {

class SectionWalker {
 public:
  using Handler = std::function<void(const IniEntry&)>;

  SectionWalker(const std::string& file, const IniSection& section, Diagnostics& diag)
      : file_(file), section_(section), diag_(diag) {}

  void on(const std::string& key, Handler h, bool repeatable = false) {
    handlers_.push_back({key, std::move(h), repeatable});
  }

  void run() {
    std::set<std::string> seen;
    for (const IniEntry& e : section_.entries) {
      auto it = std::find_if(handlers_.begin(), handlers_.end(),
                             [&](const Rule& r) { return r.key == e.key; });
      if (it == handlers_.end()) {
        std::string known;
        for (const Rule& r : handlers_) known += (known.empty() ? "" : ", ") + r.key;
        diag_.error(file_, e.line,
                    fmt::format("unknown key \"{}\" in [{}] (known keys: {})", e.key,
                                section_.header, known));
        continue;
      }
      if (!it->repeatable && !seen.insert(e.key).second) {
        diag_.error(file_, e.line,
                    fmt::format("\"{}\" is duplicate in [{}]", e.key, section_.header));
        continue;
      }
      it->handler(e);
    }
  }

 private:
  struct Rule {
    std::string key;
    Handler handler;
    bool repeatable;
  };
  const std::string& file_;
  const IniSection& section_;
  Diagnostics& diag_;
  std::vector<Rule> handlers_;
};

}  // namespace common
