#include "common/safe_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/support/temp_dir.h"

namespace fs = std::filesystem;

using test_support::slurp;
using test_support::TempDir;

namespace {

struct stat dirStat(uid_t uid, mode_t mode) {
  struct stat st {};
  st.st_mode = S_IFDIR | mode;
  st.st_uid = uid;
  return st;
}

}  // namespace

TEST_CASE("runDirProblem: only a directory of ours that nobody else can write to") {
  CHECK_FALSE(common::runDirProblem("/run/x", dirStat(0, 0755), 0));
  CHECK_FALSE(common::runDirProblem("/run/x", dirStat(1000, 0700), 1000));
  auto other = common::runDirProblem("/run/x", dirStat(1000, 0755), 0);
  REQUIRE(other);
  CHECK_THAT(*other, Catch::Contains("owned by uid 1000, not by uid 0"));
  auto world = common::runDirProblem("/run/x", dirStat(0, 01777), 0);
  REQUIRE(world);
  CHECK_THAT(*world, Catch::Contains("writable by other users (mode 1777)"));
  auto group = common::runDirProblem("/run/x", dirStat(0, 0775), 0);
  REQUIRE(group);
  CHECK_THAT(*group, Catch::Contains("writable by its group"));
  struct stat link {};
  link.st_mode = S_IFLNK | 0777;
  CHECK(common::runDirProblem("/run/x", link, 0));
  struct stat file {};
  file.st_mode = S_IFREG | 0644;
  CHECK(common::runDirProblem("/run/x", file, 0));
}

TEST_CASE(
    "prepareRunDir creates a missing run dir 0755 whatever the umask, refuses a writable one") {
  TempDir t("safe_file");
  std::string dir = t.at("a/b/run");
  mode_t old = ::umask(0);
  auto r = common::prepareRunDir(dir, ::geteuid());
  ::umask(077);
  auto again = common::prepareRunDir(dir + "/", ::geteuid());
  ::umask(old);
  REQUIRE(r.ok());
  CHECK(again.ok());
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);

  REQUIRE(::chmod(dir.c_str(), 0777) == 0);
  auto open = common::prepareRunDir(dir, ::geteuid());
  REQUIRE_FALSE(open.ok());
  CHECK_THAT(open.error(), Catch::Contains("writable by other users"));
  REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  CHECK_FALSE(common::prepareRunDir(dir, ::geteuid() + 1).ok());

  REQUIRE(::symlink(dir.c_str(), t.at("link").c_str()) == 0);
  CHECK_FALSE(common::prepareRunDir(t.at("link"), ::geteuid()).ok());
}

// The issue-9 attack: a link planted under the temporary name that the old
// writer used (`state.json.tmp`), and one planted as the file itself.
TEST_CASE("replaceFile never writes through a planted link") {
  TempDir t("safe_file");
  std::string victim = t.at("victim");
  std::ofstream(victim) << "precious\n";
  std::string path = t.at("state.json");
  REQUIRE(::symlink(victim.c_str(), (path + ".tmp").c_str()) == 0);
  REQUIRE(common::replaceFile(path, "{\"a\": 1}\n").ok());
  CHECK(slurp(victim) == "precious\n");
  CHECK(slurp(path) == "{\"a\": 1}\n");

  // A link as the file: rename() replaces the link, the target is untouched.
  REQUIRE(::unlink(path.c_str()) == 0);
  REQUIRE(::symlink(victim.c_str(), path.c_str()) == 0);
  REQUIRE(common::replaceFile(path, "two\n").ok());
  CHECK(slurp(victim) == "precious\n");
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(slurp(path) == "two\n");

  // Nothing is left behind but the file, the victim and the planted link.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(t.path)) ++entries;
  CHECK(entries == 3);
}

TEST_CASE("openOwnFile refuses a link, a hard link and a file that is not ours") {
  TempDir t("safe_file");
  std::string victim = t.at("victim");
  std::ofstream(victim) << "precious\n";
  REQUIRE(::symlink(victim.c_str(), t.at("sym").c_str()) == 0);
  auto sym = common::openOwnFile(t.at("sym"), 0644, ::geteuid());
  REQUIRE_FALSE(sym.ok());
  CHECK_THAT(sym.error(), Catch::Contains("symbolic link"));
  REQUIRE(::link(victim.c_str(), t.at("hard").c_str()) == 0);
  auto hard = common::openOwnFile(t.at("hard"), 0644, ::geteuid());
  REQUIRE_FALSE(hard.ok());
  CHECK_THAT(hard.error(), Catch::Contains("hard links"));
  CHECK_FALSE(common::openOwnFile(t.at("new"), 0644, ::geteuid() + 1).ok());
  CHECK(common::openOwnFile(t.at("mine"), 0644, ::geteuid()).ok());
  CHECK(slurp(victim) == "precious\n");
}
