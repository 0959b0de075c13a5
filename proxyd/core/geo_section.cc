#include "proxyd/core/geo_section.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/config_text.h"
#include "common/duration.h"
#include "common/ini_section_walker.h"
#include "common/nginx_conf_lexer.h"
#include "proxyd/core/config_context.h"
#include "proxyd/core/geo_table.h"

namespace proxyd {

using common::IniEntry;

namespace {

// The file's text, or nginx's words for why it cannot be read. Read in
// pieces up to the bound, so that a file whose size stat() does not know
// (/proc, a pipe) reads as nginx reads it.
common::Result<std::string> readBodyFile(const std::string& path) {
  using R = common::Result<std::string>;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return R::fail(fmt::format("open() \"{}\" failed ({}: {})", path, errno, std::strerror(errno)));
  }
  std::string text;
  char piece[65536];
  while (in.read(piece, sizeof piece) || in.gcount() > 0) {
    text.append(piece, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxGeoIncludeBytes) {
      return R::fail(fmt::format("\"{}\" is larger than {} MiB", path, kMaxGeoIncludeBytes >> 20));
    }
  }
  if (in.bad()) return R::fail(fmt::format("read() \"{}\" failed", path));
  return text;
}

class GeoLoader {
 public:
  GeoLoader(const common::IniSection& s, const ConfigContext& ctx) : s_(s), ctx_(ctx) {}

  void load() {
    // A label that is no "$NAME" is the declaring pass's error already.
    if (s_.label.size() < 2 || s_.label[0] != '$') return;
    common::SectionWalker w(ctx_.path, s_, ctx_.diag);
    w.on("source", [&](const IniEntry& e) { source(e); });
    w.on("ranges", [&](const IniEntry& e) {
      auto on = common::parseFlag(e.value);
      if (!on) return fail(ctx_.path, e.line, fmt::format("ranges: {}", on.error()));
      ranges_ = *on;
    });
    // The statements keep their order: a delete undoes what came before it.
    for (const char* key : {"entry", "default", "delete", "include"}) {
      w.on(
          key, [&](const IniEntry& e) { statements_.push_back(&e); }, true);
    }
    w.run();
    if (ranges_) report(ctx_.path, s_.line, builder_.setRanges());
    // As nginx, the first statement refused ends the block.
    for (const IniEntry* e : statements_) {
      if (failed_) return;
      statement(*e);
    }
    if (failed_) return;
    auto index = ctx_.variables.find(s_.label.substr(1));
    // Not declared: the declaring pass said why (a built-in name).
    if (!index) return;
    auto defined = ctx_.variables.define(*index, builder_.finish(std::move(source_)));
    if (!defined) fail(ctx_.path, s_.line, defined.error());
  }

 private:
  // nginx's geo takes a variable's name, not a template: "$remote_addr".
  void source(const IniEntry& e) {
    auto words = oneToken(e);
    if (!words) return;
    const std::string& name = *words;
    if (name.empty() || name[0] != '$') {
      return fail(ctx_.path, e.line, fmt::format("source: invalid variable name \"{}\"", name));
    }
    bool plain = name.size() > 1;
    for (char c : name.substr(1)) {
      plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    }
    if (!plain)
      return fail(ctx_.path, e.line,
                  fmt::format("source: unknown \"{}\" variable", name.substr(1)));
    auto t = Template::compile(name, &ctx_.variables);
    if (!t) return fail(ctx_.path, e.line, fmt::format("source: {}", t.error()));
    source_ = std::move(*t);
  }

  std::optional<std::string> oneToken(const IniEntry& e) {
    auto token = common::splitOneToken(e.value);
    if (!token) {
      fail(ctx_.path, e.line, fmt::format("{}: {}", e.key, token.error()));
      return std::nullopt;
    }
    return std::move(*token);
  }

  void statement(const IniEntry& e) {
    if (e.key == "entry") {
      auto words = common::splitTokens(e.value);
      if (!words) return fail(ctx_.path, e.line, fmt::format("entry: {}", words.error()));
      if (!words->empty() && ((*words)[0] == "include" || (*words)[0] == "ranges")) {
        return fail(ctx_.path, e.line,
                    fmt::format("entry: write \"{}\" as its own key", (*words)[0]));
      }
      return report(ctx_.path, e.line, builder_.apply(*words));
    }
    auto word = oneToken(e);
    if (!word) return;
    if (e.key == "include") return include(*word, ctx_.path, e.line, 1);
    report(ctx_.path, e.line, builder_.apply({e.key, *word}));
  }

  // nginx's geo include: the file's statements, read as the block's own.
  void include(const std::string& name, const std::string& from, int line, int depth) {
    if (depth > kMaxGeoIncludeDepth) {
      return fail(
          from, line,
          fmt::format("include: nested more than {} deep (an include loop?)", kMaxGeoIncludeDepth));
    }
    const std::string path = ctx_.resolvePath(name);
    auto text = readBodyFile(path);
    if (!text) return fail(from, line, text.error());
    if (ctx_.variables_text) *ctx_.variables_text += "include " + path + "\n" + *text + "\n";
    int error_line = 0;
    auto statements = common::readNginxStatements(*text, &error_line);
    if (!statements) return fail(path, error_line, statements.error());
    for (const common::NginxStatement& st : *statements) {
      if (failed_) return;
      if (st.words.size() == 2 && st.words[0] == "include") {
        include(st.words[1], path, st.line, depth + 1);
      } else {
        report(path, st.line, builder_.apply(st.words));
      }
    }
  }

  void report(const std::string& file, int line, const GeoBuilder::Outcome& out) {
    for (const std::string& w : out.warnings) ctx_.diag.warning(file, line, w);
    if (out.error) fail(file, line, *out.error);
  }

  void fail(const std::string& file, int line, std::string msg) {
    ctx_.diag.error(file, line, std::move(msg));
    failed_ = true;
  }

  const common::IniSection& s_;
  const ConfigContext& ctx_;
  GeoBuilder builder_;
  std::optional<Template> source_;
  bool ranges_ = false;
  bool failed_ = false;
  std::vector<const IniEntry*> statements_;
};

}  // namespace

void loadGeoSection(const common::IniSection& section, const ConfigContext& ctx) {
  GeoLoader(section, ctx).load();
}

}  // namespace proxyd
