// The health check's two parsers on any text: the first line is an
// [upstream] section's `health_check = ...` value, the rest is what a peer
// answered, read as the prober does (the status line up to the first
// newline, then the expected-status test).
#include "proxyd/core/health_check.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::text(data, size);
  const auto eol = in.find('\n');
  const std::string_view option_text = in.substr(0, eol);
  const std::string_view response = eol == std::string_view::npos ? "" : in.substr(eol + 1);

  auto opts = proxyd::parseHealthCheck(option_text);
  if (opts) (void)proxyd::healthCheckTypeName(opts->type);
  auto status = proxyd::parseStatusLine(response.substr(0, response.find('\n')));
  if (status && opts) (void)proxyd::expectedStatus(*opts, *status);
  return 0;
}
