// The lab test binary: real sockets and netlink, inside a private network
// namespace created first thing in main(). Every interface the tests make
// lives there and dies with the process; nothing reaches the host's
// interfaces. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN): without it the run
// is skipped (exit 77, ctest SKIP_RETURN_CODE), never reported as passed;
// under CI the skip is a failure unless tests/lib/allowed_skips.txt lists it.
// The CI rule and the list are the ones tests/lib/testenv.py applies to the
// Python tests, so both kinds of test skip the same way.
#define CATCH_CONFIG_RUNNER
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

namespace {

constexpr int kSkipReturnCode = 77;
constexpr std::string_view kTestId = "lab_tests";

std::string trimmed(std::string_view s) {
  const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// testenv.in_ci(): CI is 1, true or yes, in any case, blanks ignored.
bool inCi() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  std::string v = trimmed(ci);
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return v == "1" || v == "true" || v == "yes";
}

// testenv.skip_allowed_in_ci(): a line `TEST_ID | REASON SUBSTRING | WHY`
// whose id is ours and whose reason is part of `why`.
bool skipAllowedInCi(std::string_view why) {
  const char* override = std::getenv("TESTENV_ALLOWED_SKIPS");
  const char* path = override != nullptr ? override : LAB_ALLOWED_SKIPS_FILE;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "lab_tests: cannot read the allowed-skip list %s\n", path);
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    const std::string entry = trimmed(line);
    if (entry.empty() || entry[0] == '#') continue;
    const auto bar1 = entry.find('|');
    const auto bar2 = bar1 == std::string::npos ? bar1 : entry.find('|', bar1 + 1);
    if (bar2 == std::string::npos) continue;
    const std::string id = trimmed(std::string_view(entry).substr(0, bar1));
    const std::string reason = trimmed(std::string_view(entry).substr(bar1 + 1, bar2 - bar1 - 1));
    if (id == kTestId && !reason.empty() && why.find(reason) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

int cannotRun(const std::string& why) {
  if (inCi() && !skipAllowedInCi(why)) {
    std::fprintf(stderr,
                 "lab_tests: %s; under CI a skip not on the allowed list is a failure "
                 "(the lab needs root)\n",
                 why.c_str());
    return 1;
  }
  std::fprintf(stderr, "lab_tests: %s; skipping the lab tests (run as root)\n", why.c_str());
  return kSkipReturnCode;
}

}  // namespace

int main(int argc, char** argv) {
  if (::geteuid() != 0) return cannotRun("not root");
  if (::unshare(CLONE_NEWNET) != 0) {
    return cannotRun(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
  }
  return Catch::Session().run(argc, argv);
}
