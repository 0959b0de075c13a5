// A regular expression as nginx's ngx_regex compiles and runs it (PCRE2,
// 8-bit, no flags but caseless for "~*"): the pattern, its numbered and
// named capture groups, and a match that hands back every group up to the
// highest one set.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct pcre2_real_code_8;

namespace proxyd {

class Regex {
 public:
  struct NamedCapture {
    std::string name;
    std::size_t group = 0;
  };
  enum class Outcome { matched, no_match, error };

  // pcre2_compile(); an error reads as nginx's ("pcre2_compile() failed:
  // missing closing parenthesis in \"(a\"").
  static common::Result<Regex> compile(std::string_view pattern, bool caseless);

  // On a match `groups` gets [0] the whole match and [n] group n, for n up
  // to the highest group set (nginx's rc): a group that took no part is "".
  Outcome match(std::string_view subject, std::vector<std::string>& groups) const;

  const std::string& pattern() const { return pattern_; }
  std::size_t captureCount() const { return captures_; }
  const std::vector<NamedCapture>& namedCaptures() const { return named_; }

 private:
  std::string pattern_;
  std::shared_ptr<pcre2_real_code_8> code_;
  std::size_t captures_ = 0;
  std::vector<NamedCapture> named_;
};

}  // namespace proxyd
