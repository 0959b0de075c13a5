// The `resolver` and `resolver_timeout` keys of [main], [server] and
// [upstream]: a [server] or [upstream] that sets neither takes [main]'s, as
// nginx's server{} and upstream{} take stream{}'s.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "common/ini_section_walker.h"
#include "proxyd/core/config_context.h"
#include "proxyd/core/resolver_spec.h"

namespace proxyd {

struct ResolverSettings {
  std::optional<ResolverSpec> resolver;  // none: names cannot be resolved at run time
  std::chrono::milliseconds timeout = kDefaultResolverTimeout;
  bool timeout_set = false;  // written in this section (else inherited)
  bool operator==(const ResolverSettings&) const = default;
};

// Registers both keys of `section` ("main", "server", "upstream") on `w`.
void onResolverKeys(common::SectionWalker& w, const ConfigContext& ctx, std::string_view section,
                    ResolverSettings& out);

// What a [server] or [upstream] did not set comes from [main].
void inheritResolver(ResolverSettings& own, const ResolverSettings& main);

}  // namespace proxyd
