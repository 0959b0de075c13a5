#include "vrrpd/core/script_security.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

using vrrpd::unsafePath;

namespace {

struct stat node(mode_t type_and_mode, uid_t uid = 0, gid_t gid = 0) {
  struct stat st {};
  st.st_mode = type_and_mode;
  st.st_uid = uid;
  st.st_gid = gid;
  return st;
}

// A made-up file system: path -> lstat result.
struct FakeFs {
  std::map<std::string, struct stat> nodes{
      {"/", node(S_IFDIR | 0755)},
      {"/usr", node(S_IFDIR | 0755)},
      {"/usr/libexec", node(S_IFDIR | 0755)},
      {"/usr/libexec/check.sh", node(S_IFREG | 0755)},
      {"/tmp", node(S_IFDIR | 01777)},
      {"/tmp/root.sh", node(S_IFREG | 0755)},
      {"/opt", node(S_IFDIR | 0775, 0, 0)},  // group root may write: safe
      {"/opt/team", node(S_IFDIR | 0775, 0, 1000)},
      {"/opt/team/run.sh", node(S_IFREG | 0755)},
      {"/srv", node(S_IFDIR | 0755, 1000, 1000)},
      {"/srv/run.sh", node(S_IFREG | 0755)},
      {"/usr/libexec/open.sh", node(S_IFREG | 0757)},
      {"/usr/libexec/link.sh", node(S_IFLNK | 0777)},
      {"/bin", node(S_IFLNK | 0777)},  // Debian's merged /usr: /bin -> usr/bin
      {"/bin/true", node(S_IFREG | 0755)},
  };
  vrrpd::StatFn fn() const {
    return [this](const std::string& p) -> std::optional<struct stat> {
      auto it = nodes.find(p);
      if (it == nodes.end()) return std::nullopt;
      return it->second;
    };
  }
};

}  // namespace

TEST_CASE("script security: a root-owned path nobody else can write is safe") {
  FakeFs fs;
  CHECK_FALSE(unsafePath("/usr/libexec/check.sh", fs.fn()));
  CHECK_FALSE(unsafePath("//usr//libexec/check.sh", fs.fn()));
  // /tmp is world-writable but sticky: keepalived judges it by its owner.
  CHECK_FALSE(unsafePath("/tmp/root.sh", fs.fn()));
  // A symbolic link is judged by its owner (its target is walked apart).
  CHECK_FALSE(unsafePath("/usr/libexec/link.sh", fs.fn()));
  // So is a link to a directory on the way (its target is walked apart).
  CHECK_FALSE(unsafePath("/bin/true", fs.fn()));
}

TEST_CASE("script security: any writable or foreign-owned component is a reason") {
  FakeFs fs;
  auto group = unsafePath("/opt/team/run.sh", fs.fn());
  REQUIRE(group);
  CHECK(*group == "\"/opt/team\" is writable by group 1000");
  auto owner = unsafePath("/srv/run.sh", fs.fn());
  REQUIRE(owner);
  CHECK(*owner == "\"/srv\" is owned by uid 1000, not root");
  auto world = unsafePath("/usr/libexec/open.sh", fs.fn());
  REQUIRE(world);
  CHECK(*world == "\"/usr/libexec/open.sh\" is writable by everyone");
  CHECK(unsafePath("/usr/libexec/missing.sh", fs.fn()));
  CHECK(unsafePath("relative.sh", fs.fn()));
}

TEST_CASE("script security: who needs the check, as keepalived decides it") {
  CHECK(vrrpd::runsAsRoot(0, 0, std::nullopt));
  CHECK(vrrpd::runsAsRoot(1000, 0, std::nullopt));
  CHECK_FALSE(vrrpd::runsAsRoot(1000, 1000, node(S_IFREG | 0755)));
  CHECK(vrrpd::runsAsRoot(1000, 1000, node(S_IFREG | 04755)));  // set-uid root
}

TEST_CASE("script security: the program of a command line") {
  CHECK(vrrpd::programOf("/usr/bin/check.sh --fast", "") == "/usr/bin/check.sh");
  CHECK(vrrpd::programOf("  '/opt/my dir/x.sh' a", "") == "/opt/my dir/x.sh");
  CHECK(vrrpd::programOf("/bin/true;rm -rf /", "") == "/bin/true");
  CHECK(vrrpd::programOf("true", "/nonexistent:/bin:/usr/bin").find("/true") != std::string::npos);
  CHECK(vrrpd::programOf("vrrpd-no-such-tool", "/bin").empty());
}

TEST_CASE("script security: real files, as root") {
  if (::getuid() != 0) {
    WARN("not run: needs root (the files must be root's)");
    return;
  }
  namespace fs = std::filesystem;
  std::string templ = (fs::temp_directory_path() / "vrrpd_sec_XXXXXX").string();
  std::string dir = ::mkdtemp(templ.data());
  ::chmod(dir.c_str(), 0755);
  std::string script = dir + "/notify.sh";
  std::ofstream(script) << "#!/bin/sh\n";
  ::chmod(script.c_str(), 0755);
  CHECK_FALSE(vrrpd::refuseInsecure(script + " arg", 0, 0, ""));
  // Through a linked directory of the system (/bin -> usr/bin on Debian).
  INFO(vrrpd::refuseInsecure("/bin/true", 0, 0, "").value_or(""));
  CHECK_FALSE(vrrpd::refuseInsecure("/bin/true", 0, 0, ""));
  CHECK_FALSE(vrrpd::refuseInsecure(script, 65534, 65534, ""));  // not root: no check
  ::chmod(script.c_str(), 0757);
  auto why = vrrpd::refuseInsecure(script, 0, 0, "");
  REQUIRE(why);
  CHECK(why->find("writable by everyone") != std::string::npos);
  ::chmod(script.c_str(), 0755);
  REQUIRE(::chown(dir.c_str(), 0, 1000) == 0);
  ::chmod(dir.c_str(), 0775);
  CHECK(vrrpd::refuseInsecure(script, 0, 0, ""));
  // Through a safe link to an unsafe directory: the target is walked too.
  std::string link =
      (fs::temp_directory_path() / ("vrrpd_sec_link_" + std::to_string(::getpid()))).string();
  ::symlink(script.c_str(), link.c_str());
  CHECK(vrrpd::refuseInsecure(link, 0, 0, ""));
  ::unlink(link.c_str());
  fs::remove_all(dir);
}
