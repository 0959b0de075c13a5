#include "vrrpd/track_script.h"

#include <catch2/catch.hpp>

using vrrpd::RiseFall;

TEST_CASE("rise/fall: a good script turns bad after `fall` failures in a row") {
  RiseFall rf(/*rise=*/2, /*fall=*/3, /*initially_ok=*/true);
  CHECK_FALSE(rf.feed(false));
  CHECK_FALSE(rf.feed(false));
  CHECK_FALSE(rf.feed(true));  // a success in between starts the count again
  CHECK_FALSE(rf.feed(false));
  CHECK_FALSE(rf.feed(false));
  CHECK(rf.ok());
  CHECK(rf.feed(false));  // the third in a row
  CHECK_FALSE(rf.ok());
}

TEST_CASE("rise/fall: a bad script turns good after `rise` successes in a row") {
  RiseFall rf(2, 1, /*initially_ok=*/false);  // init_fail
  CHECK_FALSE(rf.feed(true));
  CHECK_FALSE(rf.feed(false));
  CHECK_FALSE(rf.feed(true));
  CHECK(rf.feed(true));
  CHECK(rf.ok());
  CHECK(rf.feed(false));  // fall = 1
  CHECK_FALSE(rf.ok());
}

TEST_CASE("rise/fall: results that agree with the state change nothing") {
  RiseFall rf(1, 1, true);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(rf.feed(true));
  CHECK(rf.ok());
  CHECK(rf.streak() == 0);
}
