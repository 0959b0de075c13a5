// The INI reader on any text: inih through our line-counting reader
// (199-character lines, continuations, " ;" comments).
#include "common/ini_file.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  common::Diagnostics diag;
  auto doc = common::parseIni(fuzz::text(data, size), "fuzz.ini", diag);
  (void)diag.formattedInSourceOrder();
  return 0;
}
