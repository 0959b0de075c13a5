// The keys of nginx's ngx_stream_limit_conn_module and the proxy module's
// rate limits, as proxyd.ini spells them (/work/ini-spec12.md):
//   [main]   limit_conn_zone = KEY zone=NAME:SIZE     (repeatable)
//   [server] limit_conn = ZONE NUMBER                 (repeatable)
//            limit_conn_log_level = info|notice|warn|error
//            limit_conn_dry_run = on|off
//            proxy_upload_rate = SIZE | template      (bytes per second, 0: none)
//            proxy_download_rate = SIZE | template
// Values are checked with nginx's messages; the runtime lives in
// limit_conn_zone.h, limit_conn_check.h and rate_limit.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ini_file.h"
#include "common/ini_section_walker.h"
#include "common/log.h"
#include "common/result.h"

namespace proxyd {

struct ConfigContext;
struct ProxyConfig;
struct ServerSection;

// limit_conn_zone: the key is a template; SIZE bounds the keys it holds as
// nginx's slab would (slab_model.h).
struct LimitConnZoneSpec {
  std::string name;
  std::string key;
  std::uint64_t size = 0;
  int line = 0;
  bool operator==(const LimitConnZoneSpec&) const = default;
};

struct LimitConnDirective {
  std::string zone;
  unsigned conn = 0;  // 1..65535
  int line = 0;
  bool operator==(const LimitConnDirective&) const = default;
};

// nginx needs 8 pages (4 KiB each here); proxyd's ceiling.
inline constexpr std::uint64_t kMinZoneSize = 8 * 4096;
inline constexpr std::uint64_t kMaxZoneSize = std::uint64_t{64} << 30;

common::Result<LimitConnZoneSpec> parseLimitConnZone(std::string_view value);
common::Result<LimitConnDirective> parseLimitConn(std::string_view value);
// nginx's ngx_stream_limit_conn_log_levels: info, notice, warn, error.
common::Result<common::LogLevel> parseLimitConnLogLevel(std::string_view value);

// The loader's hooks: [main]'s key, [server]'s keys, and the check that
// every limit_conn names a zone (after the whole file).
void addLimitConnZoneKey(common::SectionWalker& w, const ConfigContext& ctx,
                         std::vector<LimitConnZoneSpec>& zones);
void addServerLimitKeys(common::SectionWalker& w, const ConfigContext& ctx, ServerSection& sv);
void checkLimitConnZones(const ProxyConfig& cfg, const ConfigContext& ctx);

}  // namespace proxyd
