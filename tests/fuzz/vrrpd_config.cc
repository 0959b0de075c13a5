// vrrpd's loader on any text: the INI reader and every section's checks.
#include "common/ini_file.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/present_host.h"
#include "vrrpd/core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  common::Diagnostics diag;
  auto cfg = vrrpd::parseVrrpConfig(fuzz::text(data, size),
                                    fuzz::scratchDir().path.string() + "/vrrpd.ini", diag,
                                    fuzz::presentHost());
  (void)diag.formattedInSourceOrder();
  return 0;
}
