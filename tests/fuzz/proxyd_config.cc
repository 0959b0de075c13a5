// proxyd's loader on any text: the INI reader, every section's checks, the
// log formats compiled at load. Paths resolve against the private scratch
// directory (the loader asks whether files exist there, and reads a geo
// include there: an input naming a file elsewhere is skipped, as the
// importers' targets skip theirs).
#include "common/ini_file.h"
#include "proxyd/core/config.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/present_host.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::text(data, size);
  if (fuzz::includesOutsideScratch(in)) return 0;
  // "\x2f" is a '/' once the INI value is unquoted.
  if (in.find("include") != std::string_view::npos && in.find("\\x") != std::string_view::npos) {
    return 0;
  }
  const std::string dir = fuzz::scratchDir().path.string();
  common::Diagnostics diag;
  auto cfg = proxyd::parseProxyConfig(in, dir + "/proxyd.ini", dir, diag, fuzz::presentHost());
  (void)diag.formattedInSourceOrder();
  return 0;
}
