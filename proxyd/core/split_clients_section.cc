#include "proxyd/core/split_clients_section.h"

#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "common/config_text.h"
#include "common/ini_section_walker.h"
#include "proxyd/core/config_context.h"
#include "proxyd/core/murmur_hash.h"

namespace proxyd {

const std::string* SplitClients::bucketOf(std::string_view key) const {
  const std::uint32_t hash = murmurHash2(key);
  for (const Bucket& b : buckets_) {
    if (b.bound == 0 || hash < b.bound) return &b.value;
  }
  return nullptr;
}

bool SplitClients::evaluate(SessionVariables& vars, std::string& out) const {
  std::string key;
  source_.render(vars, key);
  if (const std::string* value = bucketOf(key)) out += *value;
  return true;
}

std::optional<std::uint32_t> parseSplitPercent(std::string_view text) {
  if (text == "*") return 0;
  if (text.empty() || text.back() != '%') return std::nullopt;
  text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  // Fixed point with two decimals, as ngx_atofp: one dot, digits only, no
  // third decimal, no overflow of a signed 64-bit number.
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t value = 0;
  int decimals_left = 2;
  bool dot = false;
  for (char c : text) {
    if (decimals_left == 0) return std::nullopt;
    if (c == '.') {
      if (dot) return std::nullopt;
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (value > (kMax - (c - '0')) / 10) return std::nullopt;
    value = value * 10 + (c - '0');
    if (dot) --decimals_left;
  }
  for (; decimals_left > 0; --decimals_left) {
    if (value > kMax / 10) return std::nullopt;
    value *= 10;
  }
  if (value == 0) return std::nullopt;
  // nginx keeps the share in 32 bits: a huge percentage wraps as there.
  return static_cast<std::uint32_t>(value);
}

common::Result<std::vector<SplitClients::Bucket>> splitBuckets(
    const std::vector<std::pair<std::uint32_t, std::string>>& shares) {
  using R = common::Result<std::vector<SplitClients::Bucket>>;
  constexpr std::uint32_t kAll = 10000;  // 100.00%
  std::vector<SplitClients::Bucket> out;
  // 32-bit sums as nginx's, so that every total it accepts is accepted here.
  std::uint32_t sum = 0;
  std::uint32_t last = 0;
  for (const auto& [percent, value] : shares) {
    sum = percent ? sum + percent : kAll;
    if (sum > kAll) return R::fail("percent total is greater than 100%");
    std::uint32_t bound = 0;
    if (sum != kAll) {
      last += static_cast<std::uint32_t>(std::uint64_t{percent} * 0xffffffffULL / kAll);
      bound = last;
    }
    out.push_back({bound, value});
  }
  return out;
}

void loadSplitClientsSection(const common::IniSection& s, const ConfigContext& ctx) {
  // A label that is no "$NAME" is the declaring pass's error already.
  if (s.label.size() < 2 || s.label[0] != '$') return;
  std::optional<Template> source;
  std::vector<std::pair<std::uint32_t, std::string>> shares;
  bool failed = false;
  auto fail = [&](int line, std::string msg) {
    ctx.error(line, std::move(msg));
    failed = true;
  };
  common::SectionWalker w(ctx.path, s, ctx.diag);
  w.on("source", [&](const common::IniEntry& e) {
    auto text = common::splitOneToken(e.value);
    if (!text) return fail(e.line, fmt::format("source: {}", text.error()));
    auto t = Template::compile(*text, &ctx.variables);
    if (!t) return fail(e.line, fmt::format("source: {}", t.error()));
    source = std::move(*t);
  });
  w.on(
      "entry",
      [&](const common::IniEntry& e) {
        auto words = common::splitTokens(e.value);
        if (!words) return fail(e.line, fmt::format("entry: {}", words.error()));
        if (words->size() < 2) return fail(e.line, "entry: expected \"PERCENT VALUE\"");
        // nginx reads the first two words of the line and ignores the rest.
        if (words->size() > 2) ctx.warning(e.line, "entry: the words after the value are ignored");
        if (shares.size() >= kMaxSplitClientsEntries) {
          return fail(e.line, fmt::format("entry: more than {} entries", kMaxSplitClientsEntries));
        }
        auto percent = parseSplitPercent((*words)[0]);
        if (!percent) {
          return fail(e.line, fmt::format("invalid percent value \"{}\"", (*words)[0]));
        }
        shares.emplace_back(*percent, std::move((*words)[1]));
      },
      true);
  w.run();
  if (failed) return;
  if (!source) return ctx.error(s.line, fmt::format("[{}]: \"source\" is required", s.header));
  auto buckets = splitBuckets(shares);
  if (!buckets) return ctx.error(s.line, buckets.error());
  auto index = ctx.variables.find(s.label.substr(1));
  // Not declared: the declaring pass said why (a built-in name).
  if (!index) return;
  auto defined = ctx.variables.define(
      *index, std::make_shared<SplitClients>(std::move(*source), std::move(*buckets)));
  if (!defined) ctx.error(s.line, defined.error());
}

}  // namespace proxyd
