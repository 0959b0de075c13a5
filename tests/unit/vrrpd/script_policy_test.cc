#include "vrrpd/core/script_policy.h"

#include <catch2/catch.hpp>

using vrrpd::ScriptPolicy;

namespace {
// A name no Debian host has, so the default user's absence is not up to the host.
constexpr const char* kNoSuchUser = "proxyha-no-such-user";
}  // namespace

TEST_CASE("script policy: no script_user and no default user means not run, never root") {
  ScriptPolicy p;
  p.default_user = kNoSuchUser;
  auto who = vrrpd::resolveScriptUser("", "", p);
  REQUIRE_FALSE(who);
  CHECK_THAT(who.error(),
             Catch::Contains("does not exist") && Catch::Contains("unless script_user = root"));
  p.security = true;  // the same with enable_script_security
  CHECK_FALSE(vrrpd::resolveScriptUser("", "", p));
}

TEST_CASE("script policy: root only when the configuration says root") {
  ScriptPolicy p;
  p.default_user = kNoSuchUser;
  p.script_user = "root";
  auto who = vrrpd::resolveScriptUser("", "", p);
  REQUIRE(who);
  CHECK(who->uid == 0);
  // A per-script user wins over the global one, and a missing one fails.
  auto nobody = vrrpd::resolveScriptUser("nobody", "", p);
  REQUIRE(nobody);
  CHECK(nobody->uid != 0);
  CHECK_FALSE(vrrpd::resolveScriptUser(kNoSuchUser, "", p));
}

TEST_CASE("script policy: the default user is used when it exists") {
  ScriptPolicy p;
  p.default_user = "nobody";
  auto who = vrrpd::resolveScriptUser("", "", p);
  REQUIRE(who);
  CHECK(who->name == "nobody");
}
