#include "proxyd/core/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

namespace proxyd {

namespace {

struct MatchDataFree {
  void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};

// One match block per thread (workers match concurrently), grown to the
// largest pattern seen, as nginx keeps one ngx_regex_match_data.
pcre2_match_data* matchData(std::uint32_t pairs) {
  thread_local std::unique_ptr<pcre2_match_data, MatchDataFree> data;
  thread_local std::uint32_t size = 0;
  if (!data || size < pairs) {
    data.reset(pcre2_match_data_create(pairs, nullptr));
    size = data ? pairs : 0;
  }
  return data.get();
}

}  // namespace

common::Result<Regex> Regex::compile(std::string_view pattern, bool caseless) {
  using R = common::Result<Regex>;
  int errcode = 0;
  PCRE2_SIZE erroff = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   caseless ? PCRE2_CASELESS : 0, &errcode, &erroff, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[128];
    pcre2_get_error_message(errcode, msg, sizeof msg);
    // ngx_regex_compile's two forms: at the end of the pattern, or at a place.
    if (erroff >= pattern.size()) {
      return R::fail(fmt::format("pcre2_compile() failed: {} in \"{}\"",
                                 reinterpret_cast<const char*>(msg), pattern));
    }
    return R::fail(fmt::format("pcre2_compile() failed: {} in \"{}\" at \"{}\"",
                               reinterpret_cast<const char*>(msg), pattern,
                               pattern.substr(erroff)));
  }
  Regex re;
  re.pattern_ = std::string(pattern);
  re.code_.reset(code, pcre2_code_free);
  // JIT when the platform has it: the same matches, faster (nginx's pcre_jit).
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  std::uint32_t captures = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures);
  re.captures_ = captures;
  std::uint32_t names = 0;
  std::uint32_t entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &names);
  if (names > 0) {
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
    for (std::uint32_t i = 0; i < names; ++i) {
      // Each entry: the group number in two bytes, then the NUL-ended name.
      PCRE2_SPTR e = table + static_cast<std::size_t>(i) * entry_size;
      re.named_.push_back(
          {reinterpret_cast<const char*>(e + 2), static_cast<std::size_t>((e[0] << 8) | e[1])});
    }
  }
  return re;
}

Regex::Outcome Regex::match(std::string_view subject, std::vector<std::string>& groups) const {
  pcre2_match_data* md = matchData(static_cast<std::uint32_t>(captures_ + 1));
  if (md == nullptr) return Outcome::error;
  const int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()),
                             subject.size(), 0, 0, md, nullptr);
  if (rc == PCRE2_ERROR_NOMATCH) return Outcome::no_match;
  if (rc < 0) return Outcome::error;
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  // rc is one more than the highest group set; 0 only when the block is too
  // small, which matchData() rules out.
  const std::size_t n = rc == 0 ? captures_ + 1 : static_cast<std::size_t>(rc);
  groups.clear();
  groups.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (ov[2 * i] == PCRE2_UNSET) {
      groups.emplace_back();
    } else {
      groups.emplace_back(subject.substr(ov[2 * i], ov[2 * i + 1] - ov[2 * i]));
    }
  }
  return Outcome::matched;
}

}  // namespace proxyd
