// [split_clients $NAME]: nginx's split_clients (ngx_stream_split_clients_module):
// the source template's value is hashed with MurmurHash2 and the hash picks
// a bucket by percentage, so that a key lands in the same bucket as under
// nginx.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ini_file.h"
#include "common/result.h"
#include "proxyd/core/template.h"
#include "proxyd/core/variable_table.h"

namespace proxyd {

struct ConfigContext;

// More buckets than this are refused at load (nginx has no bound; 0.01% is
// its smallest share, so 10000 is already one per hundredth of a percent).
inline constexpr std::size_t kMaxSplitClientsEntries = 10000;

class SplitClients final : public VariableSource {
 public:
  struct Bucket {
    std::uint32_t bound = 0;  // hashes below it; 0: every hash (the "*", or what reaches 100%)
    std::string value;
  };

  SplitClients(Template source, std::vector<Bucket> buckets)
      : source_(std::move(source)), buckets_(std::move(buckets)) {}

  // The value for a key; nullptr when the percentages leave the hash out
  // (nginx then gives an empty value).
  const std::string* bucketOf(std::string_view key) const;
  bool evaluate(SessionVariables& vars, std::string& out) const override;

 private:
  Template source_;
  std::vector<Bucket> buckets_;
};

// One entry's share in hundredths of a percent as nginx reads "0.5%"
// (ngx_atofp with two decimals, then kept in 32 bits), 0 for "*"; nothing
// when nginx says "invalid percent value".
std::optional<std::uint32_t> parseSplitPercent(std::string_view text);

// The buckets of the shares in order, as nginx sums them: once 100% is
// reached the bucket takes every remaining hash; past 100% is nginx's
// "percent total is greater than 100%".
common::Result<std::vector<SplitClients::Bucket>> splitBuckets(
    const std::vector<std::pair<std::uint32_t, std::string>>& shares);

// Compiles the section and defines its variable (declared by the pre-pass).
void loadSplitClientsSection(const common::IniSection& section, const ConfigContext& ctx);

}  // namespace proxyd
