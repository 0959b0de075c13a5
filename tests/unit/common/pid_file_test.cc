#include "common/pid_file.h"

#include <signal.h>
#include <sys/wait.h>
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

// A child process that takes the pid file and holds it until killed (a
// lock held by ourselves would be invisible to F_GETLK in this process).
class Holder {
 public:
  explicit Holder(const std::string& path) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(ready[0]);
      auto pf = common::PidFile::create(path);
      char ok = pf ? 'y' : 'n';
      [[maybe_unused]] ssize_t n = ::write(ready[1], &ok, 1);
      ::pause();
      ::_exit(0);
    }
    ::close(ready[1]);
    char ok = 0;
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    ::close(ready[0]);
    REQUIRE(ok == 'y');
  }
  ~Holder() { kill(); }
  pid_t pid() const { return pid_; }
  // SIGKILL: no destructor runs, the file stays behind, stale.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("pid file: the lock holder is the running daemon; a killed one's file is taken over") {
  TempDir t("pid_file");
  std::string path = t.at("d.pid");
  Holder running(path);
  const pid_t child = running.pid();

  auto holder = common::pidFileHolder(path);
  REQUIRE(holder.ok());
  CHECK(*holder == child);
  auto second = common::PidFile::create(path);
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(second.error(), Catch::Contains("locked by pid " + std::to_string(child)));

  running.kill();  // SIGKILL: the file stays, naming a dead pid
  CHECK(slurp(path) == std::to_string(child) + "\n");
  auto stale = common::pidFileHolder(path);
  REQUIRE_FALSE(stale.ok());
  CHECK_THAT(stale.error(), Catch::Contains("no process holds its lock"));
  {
    auto mine = common::PidFile::create(path);
    REQUIRE(mine.ok());
    REQUIRE(mine->tookOverFrom());
    CHECK(*mine->tookOverFrom() == child);
    CHECK(slurp(path) == std::to_string(::getpid()) + "\n");
  }
  CHECK_FALSE(fs::exists(path));  // removed at exit
}

// A pid the kernel has given to another process since (here: our parent,
// alive and not holding the lock) neither blocks a start nor is signalled.
TEST_CASE("pid file naming a live process that does not hold the lock") {
  TempDir t("pid_file");
  std::string path = t.at("d.pid");
  std::ofstream(path) << ::getppid() << "\n";
  auto holder = common::pidFileHolder(path);
  REQUIRE_FALSE(holder.ok());
  CHECK_THAT(holder.error(), Catch::Contains("names pid " + std::to_string(::getppid())));
  auto pf = common::PidFile::create(path);
  REQUIRE(pf.ok());
  CHECK(pf->tookOverFrom() == std::optional<pid_t>(::getppid()));
}

TEST_CASE("pid file: a planted link is refused, never written through") {
  TempDir t("pid_file");
  std::string victim = t.at("victim");
  std::ofstream(victim) << "precious\n";
  std::string path = t.at("d.pid");
  REQUIRE(::symlink(victim.c_str(), path.c_str()) == 0);
  auto pf = common::PidFile::create(path);
  REQUIRE_FALSE(pf.ok());
  CHECK_THAT(pf.error(), Catch::Contains("symbolic link"));
  CHECK(slurp(victim) == "precious\n");
  // ... and the old temporary name is not used at all.
  REQUIRE(::unlink(path.c_str()) == 0);
  REQUIRE(::symlink(victim.c_str(), (path + ".tmp").c_str()) == 0);
  CHECK(common::PidFile::create(path).ok());
  CHECK(slurp(victim) == "precious\n");
}
