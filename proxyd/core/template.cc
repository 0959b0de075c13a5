// Follows ngx_stream_log_compile_format and ngx_stream_script_compile: "$name"
// ends at the first byte outside [A-Za-z0-9_], "${name}" at the closing brace,
// "$1".."$9" is a capture where captures are allowed; everything else is
// literal text.
#include "proxyd/core/template.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "proxyd/core/proxy_protocol_tlv.h"

namespace proxyd {

namespace {

bool isNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// The TLV name of "$proxy_protocol_tlv_NAME" in lower case, as nginx
// lowers variable names.
std::optional<std::string> proxyProtocolTlvName(std::string_view name) {
  constexpr std::string_view kPrefix = "proxy_protocol_tlv_";
  if (name.size() <= kPrefix.size()) return std::nullopt;
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  return lower.substr(kPrefix.size());
}

}  // namespace

common::Result<Template> Template::compile(std::string_view text, const VariableTable* table) {
  return compile(text, table, Options{});
}

common::Result<Template> Template::compile(std::string_view text, const VariableTable* table,
                                           Options options) {
  using R = common::Result<Template>;
  Template t;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$') {
      const std::size_t end = std::min(text.find('$', i), text.size());
      if (!t.pieces_.empty() && !t.pieces_.back().isVariable()) {
        t.pieces_.back().literal.append(text.substr(i, end - i));
      } else {
        Piece p;
        p.literal = std::string(text.substr(i, end - i));
        t.pieces_.push_back(std::move(p));
      }
      i = end;
      continue;
    }
    const std::string_view rest = text.substr(i);
    auto invalid = [&] { return R::fail(fmt::format("invalid parameter \"{}\"", rest)); };
    ++i;
    if (i == text.size()) return invalid();
    bool bracket = false;
    if (text[i] == '{') {
      bracket = true;
      ++i;
      if (i == text.size()) return invalid();
    }
    if (options.captures && text[i] >= '1' && text[i] <= '9') {
      // ngx_stream_script_compile: one digit is a capture, "${1}" too.
      Piece p;
      p.kind = Kind::capture;
      p.index = static_cast<std::size_t>(text[i] - '0');
      ++i;
      if (bracket) {
        if (i == text.size() || text[i] != '}') {
          return R::fail(fmt::format("the closing bracket in \"{}\" variable is missing",
                                     text.substr(i - 1, 1)));
        }
        ++i;
      }
      t.pieces_.push_back(std::move(p));
      continue;
    }
    const std::size_t name_start = i;
    while (i < text.size() && isNameChar(text[i])) ++i;
    const std::string_view name = text.substr(name_start, i - name_start);
    if (bracket) {
      if (i == text.size() || text[i] != '}') {
        return R::fail(fmt::format("the closing bracket in \"{}\" variable is missing", name));
      }
      ++i;
    }
    if (name.empty()) return invalid();
    Piece p;
    if (auto builtin = findBuiltinVariable(name)) {
      p.kind = Kind::builtin;
      p.builtin = *builtin;
    } else if (auto tlv = proxyProtocolTlvName(name)) {
      // nginx's prefix variable $proxy_protocol_tlv_NAME.
      auto selector = parseProxyProtocolTlvName(*tlv);
      if (!selector) return R::fail(selector.error());
      p.kind = Kind::proxy_protocol_tlv;
      p.index = selector->pack();
    } else if (auto index = table != nullptr ? table->find(name) : std::nullopt) {
      p.kind = Kind::user;
      p.index = *index;
    } else {
      return R::fail(fmt::format("unknown variable \"${}\"", name));
    }
    t.pieces_.push_back(std::move(p));
  }
  return t;
}

void Template::render(SessionVariables& vars, std::string& out, Escape escape) const {
  for (const Piece& p : pieces_) {
    switch (p.kind) {
      case Kind::literal:
        // Literal text is written as is, never escaped (ngx_stream_log_copy_*).
        out.append(p.literal);
        break;
      case Kind::builtin:
        appendBuiltin(out, p.builtin, vars.record(), vars.process(), escape);
        break;
      case Kind::user:
        if (const std::string* value = vars.user(p.index)) {
          appendEscaped(out, *value, escape);
        } else {
          appendNotFound(out, escape);
        }
        break;
      case Kind::capture:
        appendEscaped(out, vars.capture(p.index), escape);
        break;
      case Kind::proxy_protocol_tlv:
        appendProxyProtocolTlv(out, p.index, vars.record(), escape);
        break;
    }
  }
}

bool Template::uses(Variable v) const {
  return std::any_of(pieces_.begin(), pieces_.end(),
                     [v](const Piece& p) { return p.kind == Kind::builtin && p.builtin == v; });
}

bool Template::usesUserVariables() const {
  return std::any_of(pieces_.begin(), pieces_.end(),
                     [](const Piece& p) { return p.kind == Kind::user; });
}

}  // namespace proxyd
