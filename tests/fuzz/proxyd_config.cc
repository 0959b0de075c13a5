// proxyd's loader on any text: the INI reader, every section's checks, the
// log formats compiled at load. Paths resolve against the private scratch
// directory (the loader only asks whether files exist there).
#include "common/ini_file.h"
#include "proxyd/core/config.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/present_host.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string dir = fuzz::scratchDir().path.string();
  common::Diagnostics diag;
  auto cfg = proxyd::parseProxyConfig(fuzz::text(data, size), dir + "/proxyd.ini", dir, diag,
                                      fuzz::presentHost());
  (void)diag.formattedInSourceOrder();
  return 0;
}
