#include "common/sys_error.h"

#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "common/result.h"

using common::SysError;

// The texts are glibc's strerror(); the shapes are nginx's
// ("bind() to 127.0.0.1:80 failed (98: Address already in use)", as
// tests/integration compares them) and keepalived's ("socket: ...").
TEST_CASE("SysError keeps nginx's and keepalived's message shapes") {
  const SysError e{"bind() to 127.0.0.1:80", EADDRINUSE};
  CHECK(e.message() == "bind() to 127.0.0.1:80 failed (98: Address already in use)");
  CHECK(fmt::format("{}, pausing", e) ==
        "bind() to 127.0.0.1:80 failed (98: Address already in use), pausing");
  CHECK(SysError{"SIOCGIFINDEX", ENODEV}.brief() == "SIOCGIFINDEX: No such device");
  CHECK(SysError::errnoReason(ETIMEDOUT) == "110: Connection timed out");
  CHECK(SysError::errnoText(EACCES) == "Permission denied");
  CHECK(SysError{"x", ENOENT}.text() == "No such file or directory");
}

TEST_CASE("Result<void> is ok or carries the reason") {
  common::Result<void> ok;
  CHECK(ok.ok());
  CHECK(static_cast<bool>(ok));
  auto failed = common::Result<void>::fail("no room");
  CHECK_FALSE(failed.ok());
  CHECK_FALSE(static_cast<bool>(failed));
  CHECK(failed.error() == "no room");
  common::Result<void> from_error = common::Error{"gone"};
  CHECK(from_error.error() == "gone");
}
