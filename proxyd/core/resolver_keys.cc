#include "proxyd/core/resolver_keys.h"

#include <fmt/format.h>

#include "proxyd/core/value_limits.h"

namespace proxyd {

void onResolverKeys(common::SectionWalker& w, const ConfigContext& ctx, std::string_view section,
                    ResolverSettings& out) {
  w.on("resolver", [&ctx, &out](const common::IniEntry& e) {
    auto spec = parseResolverSpec(e.value);
    if (!spec) {
      ctx.error(e.line, fmt::format("resolver: {}", spec.error()));
      return;
    }
    out.resolver = std::move(*spec);
  });
  w.on("resolver_timeout", [&ctx, &out, section](const common::IniEntry& e) {
    auto ms = common::parseLimited(limitOf(section, "resolver_timeout"), e.value);
    if (!ms) {
      ctx.error(e.line, fmt::format("resolver_timeout: {}", ms.error()));
      return;
    }
    out.timeout = std::chrono::milliseconds(*ms);
    out.timeout_set = true;
  });
}

void inheritResolver(ResolverSettings& own, const ResolverSettings& main) {
  if (!own.resolver) own.resolver = main.resolver;
  if (!own.timeout_set) own.timeout = main.timeout;
}

}  // namespace proxyd
