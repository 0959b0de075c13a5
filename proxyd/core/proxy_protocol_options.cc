#include "proxyd/core/proxy_protocol_options.h"

#include <fmt/format.h>

#include "proxyd/core/config_context.h"
#include "proxyd/core/value_limits.h"

namespace proxyd {

void addProxyProtocolKeys(common::SectionWalker& walker, const ConfigContext& ctx,
                          ProxyProtocolOptions& out) {
  walker.on("proxy_protocol", [&ctx, &out](const common::IniEntry& e) {
    // ngx_stream_proxy_protocol_versions (v2 since nginx 1.29.x).
    if (e.value == "off") {
      out.send = ProxyProtocolSend::off;
    } else if (e.value == "on") {
      out.send = ProxyProtocolSend::v1;
    } else if (e.value == "v2") {
      out.send = ProxyProtocolSend::v2;
    } else {
      ctx.error(e.line, fmt::format("proxy_protocol: invalid value \"{}\" (expected on, off or v2)",
                                    e.value));
    }
  });
  walker.on("proxy_protocol_timeout", [&ctx, &out](const common::IniEntry& e) {
    auto ms = common::parseLimited(limitOf("server", e.key), e.value);
    if (!ms) {
      ctx.error(e.line, fmt::format("{}: {}", e.key, ms.error()));
      return;
    }
    out.timeout = std::chrono::milliseconds(*ms);
  });
  walker.on(
      "set_real_ip_from",
      [&ctx, &out](const common::IniEntry& e) {
        if (auto r = addRealIpFrom(out.real_ip_from, e.value); !r) {
          ctx.error(e.line, fmt::format("{}: {}", e.key, r.error()));
        }
      },
      /*repeatable=*/true);
}

}  // namespace proxyd
