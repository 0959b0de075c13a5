#include "common/held_signals.h"

#include <catch2/catch.hpp>

#include <atomic>

namespace {

std::atomic<int> usr1_seen{0};
void countUsr1(int) {
  usr1_seen.fetch_add(1);
}

bool pending(int sig) {
  sigset_t set;
  sigpending(&set);
  return sigismember(&set, sig) == 1;
}

}  // namespace

TEST_CASE("a held signal waits for release, then reaches its handler", "[signals]") {
  struct sigaction act {
  }, old{};
  act.sa_handler = countUsr1;
  sigemptyset(&act.sa_mask);
  REQUIRE(::sigaction(SIGUSR1, &act, &old) == 0);
  usr1_seen = 0;
  {
    common::HeldSignals held({SIGUSR1, SIGHUP});
    REQUIRE(::raise(SIGUSR1) == 0);
    CHECK(usr1_seen == 0);  // what arrives while starting is not acted on yet
    CHECK(pending(SIGUSR1));
    held.release();
    CHECK(usr1_seen == 1);  // and is not lost either
    CHECK_FALSE(pending(SIGUSR1));
    held.release();  // once only
  }
  REQUIRE(::raise(SIGUSR1) == 0);  // the destructor after release changes nothing
  CHECK(usr1_seen == 2);
  ::sigaction(SIGUSR1, &old, nullptr);
}

TEST_CASE("held signals are released when the holder goes", "[signals]") {
  { common::HeldSignals held({SIGHUP}); }
  sigset_t now;
  ::sigprocmask(SIG_BLOCK, nullptr, &now);
  CHECK_FALSE(sigismember(&now, SIGHUP));
}
