// vrrpd --import-keepalived on any keepalived.conf, and its output fed to
// vrrpd's loader as `-t` would read it. Includes resolve inside the scratch
// directory only (fuzz_target.h says why).
#include "import/keepalived/keepalived_import.h"
#include "common/ini_file.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/present_host.h"
#include "vrrpd/core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::text(data, size);
  if (fuzz::includesOutsideScratch(in)) return 0;
  const std::string path = fuzz::writeScratch("keepalived.conf", in);
  auto imported = vrrpd::importKeepalived(path);
  if (!imported.ok) return 0;
  common::Diagnostics diag;
  auto cfg = vrrpd::parseVrrpConfig(imported.ini, fuzz::scratchDir().path.string() + "/vrrpd.ini",
                                    diag, fuzz::presentHost());
  return 0;
}
