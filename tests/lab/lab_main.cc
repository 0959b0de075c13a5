// The lab test binary: real sockets and netlink, inside a private network
// namespace created first thing in main(). Every interface the tests make
// lives there and dies with the process; nothing reaches the host's
// interfaces. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN): without it the run
// fails under CI=true and is skipped (exit 77, ctest SKIP_RETURN_CODE)
// elsewhere, never reported as passed.
#define CATCH_CONFIG_RUNNER
#include <sched.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

int cannotRun(const char* why) {
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string_view(ci) == "true") {
    std::fprintf(stderr, "lab_tests: %s; the lab needs root and CI=true, failing\n", why);
    return 1;
  }
  std::fprintf(stderr, "lab_tests: %s; skipping the lab tests (run as root)\n", why);
  return 77;
}

}  // namespace

int main(int argc, char** argv) {
  if (::geteuid() != 0) return cannotRun("not root");
  if (::unshare(CLONE_NEWNET) != 0) {
    char why[160];
    std::snprintf(why, sizeof why, "unshare(CLONE_NEWNET): %s", std::strerror(errno));
    return cannotRun(why);
  }
  return Catch::Session().run(argc, argv);
}
