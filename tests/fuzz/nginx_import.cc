// proxyd --import-nginx on any nginx.conf, and its output fed to proxyd's
// loader as `-t` would read it. Includes resolve inside the scratch
// directory only (fuzz_target.h says why).
#include "import/nginx/nginx_import.h"
#include "common/ini_file.h"
#include "proxyd/core/config.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/present_host.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::text(data, size);
  if (fuzz::includesOutsideScratch(in)) return 0;
  const std::string path = fuzz::writeScratch("nginx.conf", in);
  auto imported = proxyd::importNginx(path);
  if (!imported.ok) return 0;
  const std::string dir = fuzz::scratchDir().path.string();
  common::Diagnostics diag;
  auto cfg =
      proxyd::parseProxyConfig(imported.ini, dir + "/proxyd.ini", dir, diag, fuzz::presentHost());
  return 0;
}
