// The importer carries nginx's UDP directives without a warning:
// `listen ... udp`, proxy_responses, proxy_requests (also from stream {}).
#include <catch2/catch.hpp>

#include "import/nginx/nginx_import.h"
#include "proxyd/core/config.h"
#include "tests/unit/support/diagnostics.h"
#include "tests/unit/support/temp_dir.h"

TEST_CASE("nginx import: listen udp, proxy_responses and proxy_requests carried as written") {
  test_support::TempDir t("nginx_import_udp");
  std::string conf = t.write("nginx.conf", R"(events { }
stream {
    proxy_responses 1;
    server {
        listen 127.0.0.1:5353 udp;
        listen 127.0.0.1:5353;
        proxy_requests 2;
        proxy_pass 127.0.0.1:53;
    }
    server {
        listen 127.0.0.1:5354 udp;
        proxy_responses 0;
        proxy_pass 127.0.0.1:53;
    }
}
)");
  auto imported = proxyd::importNginx(conf);
  common::Diagnostics diag;
  auto cfg = proxyd::parseProxyConfig(imported.ini, "/etc/proxyd/proxyd.ini", "/tmp", diag);
  INFO(imported.ini << "\n" << test_support::diagnosticText(diag));
  CHECK(imported.warnings.empty());
  REQUIRE_FALSE(diag.hasErrors());
  REQUIRE(cfg.servers.size() == 2);
  REQUIRE(cfg.servers[0].listen.size() == 2);
  CHECK(cfg.servers[0].listen[0].udp);
  CHECK_FALSE(cfg.servers[0].listen[1].udp);
  CHECK(cfg.servers[0].proxy_requests == 2);
  CHECK(cfg.servers[0].proxy_responses == std::optional<unsigned>(1));  // from stream { }
  CHECK(cfg.servers[1].proxy_responses == std::optional<unsigned>(0));
}
