#include "proxyd/core/limits_config.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/config_text.h"
#include "common/duration.h"
#include "proxyd/core/config.h"
#include "proxyd/core/config_context.h"
#include "proxyd/core/template.h"
#include "proxyd/core/value_limits.h"

namespace proxyd {

using R = common::Result<LimitConnZoneSpec>;

common::Result<LimitConnZoneSpec> parseLimitConnZone(std::string_view value) {
  auto words = common::splitTokens(value);
  if (!words) return R::fail(words.error());
  if (words->size() != 2) return R::fail("expected \"KEY zone=NAME:SIZE\"");
  LimitConnZoneSpec z;
  z.key = (*words)[0];
  const std::string& param = (*words)[1];
  // ngx_stream_limit_conn_zone's checks, with its messages.
  if (param.rfind("zone=", 0) != 0) {
    return R::fail(fmt::format("invalid parameter \"{}\"", param));
  }
  auto colon = param.find(':', 5);
  if (colon == std::string::npos) return R::fail(fmt::format("invalid zone size \"{}\"", param));
  z.name = param.substr(5, colon - 5);
  auto size = common::parseSize(std::string_view(param).substr(colon + 1));
  if (!size) return R::fail(fmt::format("invalid zone size \"{}\"", param));
  if (*size < kMinZoneSize) return R::fail(fmt::format("zone \"{}\" is too small", param));
  if (*size > kMaxZoneSize) {
    return R::fail(fmt::format("zone \"{}\" is too large (proxyd takes up to 64g)", param));
  }
  if (z.name.empty()) return R::fail("\"limit_conn_zone\" must have \"zone\" parameter");
  z.size = *size;
  return z;
}

common::Result<LimitConnDirective> parseLimitConn(std::string_view value) {
  using D = common::Result<LimitConnDirective>;
  auto words = common::splitTokens(value);
  if (!words) return D::fail(words.error());
  if (words->size() != 2) return D::fail("expected \"ZONE NUMBER\"");
  const std::string& n = (*words)[1];
  // ngx_atoi: digits only; nginx's bounds and messages.
  bool digits = !n.empty() && n.size() <= 10 && std::all_of(n.begin(), n.end(), ::isdigit);
  long long conn = digits ? std::stoll(n) : 0;
  if (conn <= 0) return D::fail(fmt::format("invalid number of connections \"{}\"", n));
  if (conn > 65535) return D::fail("connection limit must be less 65536");
  return LimitConnDirective{(*words)[0], static_cast<unsigned>(conn), 0};
}

common::Result<common::LogLevel> parseLimitConnLogLevel(std::string_view value) {
  using L = common::Result<common::LogLevel>;
  if (value == "info") return common::LogLevel::info;
  if (value == "notice") return common::LogLevel::notice;
  if (value == "warn") return common::LogLevel::warn;
  if (value == "error") return common::LogLevel::error;
  return L::fail(fmt::format("invalid value \"{}\" (expected info, notice, warn or error)", value));
}

void addLimitConnZoneKey(common::SectionWalker& w, const ConfigContext& ctx,
                         std::vector<LimitConnZoneSpec>& zones) {
  w.on(
      "limit_conn_zone",
      [&ctx, &zones](const common::IniEntry& e) {
        auto z = parseLimitConnZone(e.value);
        if (!z) return ctx.error(e.line, fmt::format("limit_conn_zone: {}", z.error()));
        if (auto key = Template::compile(z->key, &ctx.variables); !key) {
          return ctx.error(e.line, fmt::format("limit_conn_zone: {}", key.error()));
        }
        for (const LimitConnZoneSpec& other : zones) {
          if (other.name == z->name) {
            return ctx.error(e.line, fmt::format("limit_conn_zone \"{}\" is already bound to key "
                                                 "\"{}\" (line {})",
                                                 z->name, other.key, other.line));
          }
        }
        z->line = e.line;
        zones.push_back(std::move(*z));
      },
      /*repeatable=*/true);
}

namespace {

// proxy_upload_rate / proxy_download_rate: a size from the limits table, or
// a template (nginx 1.17.0+) whose value is parsed per session.
void addRateKey(common::SectionWalker& w, const ConfigContext& ctx, const char* key,
                std::string& out) {
  w.on(key, [&ctx, &out](const common::IniEntry& e) {
    if (e.value.find('$') != std::string::npos) {
      if (auto t = Template::compile(e.value, &ctx.variables); !t) {
        return ctx.error(e.line, fmt::format("{}: {}", e.key, t.error()));
      }
      out = e.value;
      return;
    }
    auto n = common::parseLimited(limitOf("server", e.key), e.value);
    if (!n) return ctx.error(e.line, fmt::format("{}: {}", e.key, n.error()));
    out = e.value;
  });
}

}  // namespace

void addServerLimitKeys(common::SectionWalker& w, const ConfigContext& ctx, ServerSection& sv) {
  w.on(
      "limit_conn",
      [&ctx, &sv](const common::IniEntry& e) {
        auto d = parseLimitConn(e.value);
        if (!d) return ctx.error(e.line, fmt::format("limit_conn: {}", d.error()));
        for (const LimitConnDirective& other : sv.limit_conn) {
          if (other.zone == d->zone)
            return ctx.error(e.line, "\"limit_conn\" directive is duplicate");
        }
        d->line = e.line;
        sv.limit_conn.push_back(std::move(*d));
      },
      /*repeatable=*/true);
  w.on("limit_conn_log_level", [&ctx, &sv](const common::IniEntry& e) {
    auto level = parseLimitConnLogLevel(e.value);
    if (!level) return ctx.error(e.line, fmt::format("limit_conn_log_level: {}", level.error()));
    sv.limit_conn_log_level = *level;
  });
  w.on("limit_conn_dry_run", [&ctx, &sv](const common::IniEntry& e) {
    auto flag = common::parseFlag(e.value);
    if (!flag) return ctx.error(e.line, fmt::format("limit_conn_dry_run: {}", flag.error()));
    sv.limit_conn_dry_run = *flag;
  });
  addRateKey(w, ctx, "proxy_upload_rate", sv.upload_rate);
  addRateKey(w, ctx, "proxy_download_rate", sv.download_rate);
}

void checkLimitConnZones(const ProxyConfig& cfg, const ConfigContext& ctx) {
  for (const ServerSection& sv : cfg.servers) {
    for (const LimitConnDirective& d : sv.limit_conn) {
      bool known = std::any_of(cfg.main.limit_conn_zones.begin(), cfg.main.limit_conn_zones.end(),
                               [&](const LimitConnZoneSpec& z) { return z.name == d.zone; });
      // nginx: a zone only limit_conn names has no size.
      if (!known) {
        ctx.error(d.line, fmt::format("limit_conn: zero size shared memory zone \"{}\" (no "
                                      "limit_conn_zone in [main] names it)",
                                      d.zone));
      }
    }
  }
}

}  // namespace proxyd
