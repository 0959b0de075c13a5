#include "proxyd/core/map_section.h"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/conf_include.h"
#include "common/config_text.h"
#include "common/duration.h"
#include "common/ini_section_walker.h"
#include "common/nginx_conf_lexer.h"
#include "proxyd/core/map_variable.h"

namespace proxyd {

namespace {

using common::IniEntry;
using common::IniSection;

// Bounds on what a map may hold, far above what nginx runs with (its
// map_hash_max_size of 2048 buckets refuses a few thousand keys unless
// raised): past them a map is a generated file gone wrong, and each key
// costs memory in every worker.
constexpr std::size_t kMaxMapKeys = 1 << 20;
constexpr std::size_t kMaxIncludeBytes = 64 << 20;

// One "KEY VALUE" of the map, from the INI or from an included file.
struct MapLine {
  std::string file;
  int line = 0;
  std::string what;  // "entry: " for the INI key, "" in an nginx-syntax file
  std::string key;
  std::string value;
  bool hostnames = false;  // in force for this key (nginx reads `hostnames;` in order)
};

bool hasWildcard(const std::string& s) {
  return s.find_first_of("*?[") != std::string::npos;
}

class MapLoader {
 public:
  MapLoader(const IniSection& s, const ConfigContext& ctx) : s_(s), ctx_(ctx) {}

  void load() {
    // The loader's first pass declared the label, or said why it could not.
    auto index = s_.label.size() < 2 || s_.label[0] != '$'
                     ? std::nullopt
                     : ctx_.variables.find(std::string_view(s_.label).substr(1));
    if (!index) return;
    readSection();
    if (!ok_) return;
    if (!source_) {
      ctx_.error(s_.line, fmt::format("[{}] needs \"source\"", s_.header));
      return;
    }
    auto source = Template::compile(source_->first, &ctx_.variables);
    if (!source) {
      ctx_.error(source_->second, fmt::format("source: {}", source.error()));
      return;
    }
    // Keys first: a regex declares its named captures, which any value may use.
    std::vector<std::optional<MapKey>> keys;
    keys.reserve(lines_.size());
    for (const MapLine& l : lines_) {
      auto key = parseMapKey(l.key, l.hostnames, ctx_.variables);
      if (!key) {
        error(l.file, l.line, l.what + key.error());
        keys.emplace_back();
      } else {
        keys.emplace_back(std::move(*key));
      }
    }
    auto map = std::make_shared<MapVariable>(std::move(*source), hostnames_);
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      const MapLine& l = lines_[i];
      auto value = Template::compile(l.value, &ctx_.variables);
      if (!value) {
        error(l.file, l.line, l.what + value.error());
        continue;
      }
      if (!keys[i]) continue;
      if (auto added = map->add(std::move(*keys[i]), std::move(*value)); !added) {
        error(l.file, l.line, l.what + added.error());
      }
    }
    if (!ok_) return;
    if (auto defined = ctx_.variables.define(*index, std::move(map), volatile_); !defined) {
      ctx_.error(s_.line, defined.error());
    }
  }

  // The first pass: regex keys only, to declare their named captures.
  std::string declareCaptures() {
    readSection();
    for (const MapLine& l : lines_) {
      if (!l.key.empty() && l.key[0] == '~') parseMapKey(l.key, l.hostnames, ctx_.variables);
    }
    return included_;
  }

 private:
  void error(const std::string& file, int line, std::string msg) {
    ctx_.diag.error(file, line, std::move(msg));
    ok_ = false;
  }

  std::size_t errorCount() const {
    std::size_t n = 0;
    for (const auto& d : ctx_.diag.items()) n += d.severity == common::Severity::error ? 1 : 0;
    return n;
  }

  // The value of a key that takes one nginx argument (quoted as splitTokens reads).
  std::optional<std::string> oneToken(const IniEntry& e) {
    auto token = common::splitOneToken(e.value);
    if (!token) {
      error(ctx_.path, e.line, fmt::format("{}: {}", e.key, token.error()));
      return std::nullopt;
    }
    return std::move(*token);
  }

  void readSection() {
    // hostnames applies to every entry of the section, wherever it is
    // written; the entries, defaults and includes keep their order.
    std::vector<const IniEntry*> ordered;
    common::SectionWalker w(ctx_.path, s_, ctx_.diag);
    w.on("source", [&](const IniEntry& e) {
      if (auto t = oneToken(e)) source_ = {*t, e.line};
    });
    auto flag = [&](bool& out) {
      return [&](const IniEntry& e) {
        auto f = common::parseFlag(e.value);
        if (!f) {
          error(ctx_.path, e.line, fmt::format("{}: {}", e.key, f.error()));
        } else {
          out = *f;
        }
      };
    };
    w.on("hostnames", flag(hostnames_));
    w.on("volatile", flag(volatile_));
    auto keep = [&](const IniEntry& e) { ordered.push_back(&e); };
    w.on("default", keep);
    w.on("include", keep, true);
    w.on("entry", keep, true);
    const std::size_t errors_before = errorCount();
    w.run();
    if (errorCount() != errors_before) ok_ = false;
    for (const IniEntry* e : ordered) {
      if (e->key == "default") {
        if (auto t = oneToken(*e)) addLine(ctx_.path, e->line, "default: ", "default", *t);
      } else if (e->key == "include") {
        if (auto t = oneToken(*e)) include(*t, ctx_.path, e->line, "include: ", 0);
      } else {
        entry(*e);
      }
    }
  }

  void entry(const IniEntry& e) {
    auto tokens = common::splitTokens(e.value);
    if (!tokens) {
      error(ctx_.path, e.line, fmt::format("entry: {}", tokens.error()));
      return;
    }
    const auto& t = *tokens;
    if (t.size() == 1 && (t[0] == "hostnames" || t[0] == "volatile")) {
      error(ctx_.path, e.line,
            fmt::format("entry: \"{0}\" is a key of its own here: {0} = on", t[0]));
      return;
    }
    if (t.size() != 2) {
      error(ctx_.path, e.line,
            fmt::format("entry: expected \"KEY VALUE\", got {} words (quote a word that holds "
                        "blanks)",
                        t.size()));
      return;
    }
    if (t[0] == "include") {
      error(ctx_.path, e.line,
            fmt::format("entry: include is a key of its own here: include = {} (or \\include "
                        "for the key \"include\")",
                        common::quoteToken(t[1])));
      return;
    }
    addLine(ctx_.path, e.line, "entry: ", t[0], t[1]);
  }

  void addLine(const std::string& file, int line, const std::string& what, std::string key,
               std::string value) {
    if (lines_.size() == kMaxMapKeys) {
      error(file, line, fmt::format("{}more than {} keys in one map", what, kMaxMapKeys));
    }
    if (lines_.size() >= kMaxMapKeys) return;
    lines_.push_back(MapLine{file, line, what, std::move(key), std::move(value), hostnames_});
  }

  // nginx's include inside a map block: a file (or a pattern, expanded in
  // sorted order; no match is no error) relative to the prefix.
  void include(const std::string& name, const std::string& file, int line, const std::string& what,
               int depth) {
    if (!common::includeDepthAllowed(depth, file, line, ctx_.diag)) {
      ok_ = false;
      return;
    }
    const std::string pattern = ctx_.resolvePath(name);
    std::vector<std::string> files = {pattern};
    if (hasWildcard(pattern)) {
      auto matched = common::matchingFiles(pattern, 0);
      if (!matched) {
        error(file, line, fmt::format("{}cannot expand \"{}\"", what, pattern));
        return;
      }
      files = std::move(*matched);
    }
    for (const std::string& f : files) {
      auto text = common::readConfFile(f);
      if (!text) {
        error(file, line, fmt::format("{}cannot read \"{}\"", what, f));
        continue;
      }
      if (text->size() > kMaxIncludeBytes) {
        error(file, line,
              fmt::format("{}\"{}\" is larger than {} MiB", what, f, kMaxIncludeBytes >> 20));
        continue;
      }
      included_ += "[include " + f + "]\n" + *text + "\n";
      readMapFile(f, *text, depth);
    }
  }

  // A map body in nginx's syntax, as ngx_stream_map reads each statement.
  void readMapFile(const std::string& path, const std::string& text, int depth) {
    common::NginxLexer lexer(text);
    std::vector<common::NginxToken> words;
    for (;;) {
      auto lx = lexer.next();
      using Kind = common::NginxLexer::Kind;
      switch (lx.kind) {
        case Kind::word:
          words.push_back(std::move(lx.token));
          continue;
        case Kind::semicolon:
          if (words.empty()) {
            error(path, lx.line, "unexpected \";\"");
            return;
          }
          statement(path, words, depth);
          words.clear();
          continue;
        case Kind::open:
        case Kind::close:
          error(path, lx.line, fmt::format("unexpected \"{}\"", lx.kind == Kind::open ? "{" : "}"));
          return;
        case Kind::end:
          if (!words.empty()) {
            error(path, words[0].line, "unexpected end of file, expecting \";\" or \"}\"");
          }
          return;
        case Kind::error:
          error(path, lx.line, lx.error);
          return;
      }
    }
  }

  void statement(const std::string& path, const std::vector<common::NginxToken>& w, int depth) {
    const int line = w[0].line;
    if (w.size() == 1 && w[0].text == "hostnames") {
      hostnames_ = true;
      return;
    }
    if (w.size() == 1 && w[0].text == "volatile") {
      volatile_ = true;
      return;
    }
    if (w.size() != 2) {
      error(path, line, "invalid number of the map parameters");
      return;
    }
    if (w[0].text == "include") {
      include(w[1].text, path, line, "include: ", depth + 1);
      return;
    }
    addLine(path, line, "", w[0].text, w[1].text);
  }

  const IniSection& s_;
  const ConfigContext& ctx_;
  bool ok_ = true;
  bool hostnames_ = false;
  bool volatile_ = false;
  std::optional<std::pair<std::string, int>> source_;
  std::vector<MapLine> lines_;
  std::string included_;  // every included file's path and text
};

}  // namespace

void loadMapSection(const IniSection& section, const ConfigContext& ctx) {
  MapLoader(section, ctx).load();
}

std::string declareMapCaptures(const IniSection& section, const ConfigContext& ctx) {
  common::Diagnostics quiet;  // loadMapSection reports the same problems
  ConfigContext scratch{ctx.path, ctx.prefix, quiet, ctx.host, ctx.variables};
  return MapLoader(section, scratch).declareCaptures();
}

}  // namespace proxyd
