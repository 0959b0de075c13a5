// NetlinkVipManager through real netlink, in the lab namespace.
#include "vrrpd/io/vip_manager.h"

#include <net/if.h>

#include <catch2/catch.hpp>
#include <set>
#include <utility>

#include "tests/lab/lab_net.h"
#include "vrrpd/io/interface_info.h"

namespace {

vrrpd::Vip vip(const char* text) {
  auto v = vrrpd::parseVip(text);
  REQUIRE(v);
  return *v;
}

// The `ip -o addr show` line holding `addr`, or "".
std::string addrLine(const std::string& family_flag, const std::string& addr) {
  const std::string out = lab::mustRun({"ip", "-o", family_flag, "addr", "show", "dev", "v0"});
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t end = out.find('\n', start);
    const std::string line = out.substr(start, end == std::string::npos ? end : end - start);
    if (line.find(" " + addr + " ") != std::string::npos) return line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

// Drains the monitor until (addr, ifindex) has been reported or 2 s passed.
bool sawDeleted(vrrpd::NetlinkVipManager& vm, const std::string& addr, int ifindex) {
  std::set<std::pair<std::string, int>> seen;
  for (int round = 0; round < 20; ++round) {
    if (!lab::waitReadable(vm.monitorFd(), std::chrono::milliseconds(100))) continue;
    vm.drain([&](const common::IpAddress& a, int idx) { seen.insert({a.toString(), idx}); });
    if (seen.count({addr, ifindex})) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("VipManager: IPv4 add, present, remove; both idempotent", "[lab][vip]") {
  lab::VethLink link;
  const int idx = link.near_info.index;
  auto vm = vrrpd::NetlinkVipManager::open();
  REQUIRE(vm);
  const auto v = vip("192.0.2.100/32 label v0:vip");

  CHECK_FALSE((*vm)->present(v, idx));
  auto added = (*vm)->add(v, idx);
  INFO((added ? "" : added.error()));
  REQUIRE(added);
  CHECK((*vm)->present(v, idx));
  const std::string line = addrLine("-4", "192.0.2.100/32");
  CHECK_THAT(line, Catch::Contains("v0:vip"));
  CHECK_THAT(line, Catch::Contains("scope global"));

  CHECK((*vm)->add(v, idx));  // already there: success
  CHECK((*vm)->remove(v, idx));
  CHECK_FALSE((*vm)->present(v, idx));
  CHECK(addrLine("-4", "192.0.2.100/32").empty());
  CHECK((*vm)->remove(v, idx));  // already gone: success
}

TEST_CASE("VipManager: scope, and a covered VIP becomes a secondary", "[lab][vip]") {
  lab::VethLink link;
  const int idx = link.near_info.index;
  auto vm = vrrpd::NetlinkVipManager::open();
  REQUIRE(vm);
  auto scoped = (*vm)->add(vip("198.51.100.10/32 scope link"), idx);
  INFO((scoped ? "" : scoped.error()));
  REQUIRE(scoped);
  CHECK_THAT(addrLine("-4", "198.51.100.10/32"), Catch::Contains("scope link"));

  // Inside 192.0.2.0/24 the kernel makes it a secondary (same scope as the
  // primary required), and the primary stays the interface's address.
  REQUIRE((*vm)->add(vip("192.0.2.200/24"), idx));
  CHECK_THAT(addrLine("-4", "192.0.2.200/24"), Catch::Contains("secondary"));
  auto info = vrrpd::lookupInterface("v0");
  REQUIRE(info);
  REQUIRE(info->primary_v4);
  CHECK(info->primary_v4->toString() == "192.0.2.1");
}

TEST_CASE("VipManager: IPv6 VIPs are added with NODAD", "[lab][vip]") {
  lab::VethLink link;
  const int idx = link.near_info.index;
  auto vm = vrrpd::NetlinkVipManager::open();
  REQUIRE(vm);

  const auto v64 = vip("2001:db8::100/64");
  REQUIRE((*vm)->add(v64, idx));
  CHECK((*vm)->present(v64, idx));
  CHECK_THAT(addrLine("-6", "2001:db8::100/64"), Catch::Contains("nodad"));

  // A /128 is also deprecated (preferred_lft 0), as keepalived does.
  const auto v128 = vip("2001:db8::101");
  REQUIRE((*vm)->add(v128, idx));
  const std::string line = addrLine("-6", "2001:db8::101/128");
  CHECK_THAT(line, Catch::Contains("nodad"));
  CHECK_THAT(line, Catch::Contains("preferred_lft 0sec"));

  CHECK((*vm)->add(v64, idx));
  CHECK((*vm)->remove(v64, idx));
  CHECK_FALSE((*vm)->present(v64, idx));
  CHECK((*vm)->remove(v64, idx));
  CHECK((*vm)->remove(v128, idx));
  CHECK(addrLine("-6", "2001:db8::101/128").empty());
}

TEST_CASE("VipManager: removing a VIP that was never there is success", "[lab][vip]") {
  lab::VethLink link;
  auto vm = vrrpd::NetlinkVipManager::open();
  REQUIRE(vm);
  CHECK((*vm)->remove(vip("198.51.100.77/32"), link.near_info.index));
  CHECK((*vm)->remove(vip("2001:db8::77"), link.near_info.index));
}

TEST_CASE("VipManager: adding to a missing interface is an error naming the VIP", "[lab][vip]") {
  auto vm = vrrpd::NetlinkVipManager::open();
  REQUIRE(vm);
  auto r = (*vm)->add(vip("192.0.2.100/32"), 999999);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error(), Catch::Contains("192.0.2.100/32"));
}

TEST_CASE("VipManager: the monitor reports an external `ip addr del`", "[lab][vip]") {
  lab::VethLink link;
  const int idx = link.near_info.index;
  auto vm = vrrpd::NetlinkVipManager::open();
  REQUIRE(vm);
  REQUIRE((*vm)->add(vip("192.0.2.101/32"), idx));
  REQUIRE((*vm)->add(vip("2001:db8::102/64"), idx));
  (*vm)->drain([](const common::IpAddress&, int) {});  // the RTM_NEWADDRs

  lab::mustRun({"ip", "addr", "del", "192.0.2.101/32", "dev", "v0"});
  CHECK(sawDeleted(**vm, "192.0.2.101", idx));
  lab::mustRun({"ip", "-6", "addr", "del", "2001:db8::102/64", "dev", "v0"});
  CHECK(sawDeleted(**vm, "2001:db8::102", idx));

  // Nothing more to read: drain() returns at once.
  int calls = 0;
  (*vm)->drain([&](const common::IpAddress&, int) { ++calls; });
  CHECK(calls == 0);
}
