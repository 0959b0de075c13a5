// keepalived's sync groups: one member FAULT of its own accord faults the
// others, naming it.
#include "vrrpd/core/sync_group.h"

#include <catch2/catch.hpp>

using vrrpd::groupFault;

namespace {

vrrpd::SyncGroupSection group(std::vector<std::string> members) {
  vrrpd::SyncGroupSection g;
  g.name.assign(1, 'G');  // not = "G": g++ 12's -Wrestrict false positive
  g.members = std::move(members);
  return g;
}

}  // namespace

TEST_CASE("sync group: nobody FAULT, nobody faulted", "[sync_group]") {
  auto g = group({"VI_1", "VI_2"});
  CHECK(groupFault(g, "VI_1", {}).empty());
  CHECK(groupFault(g, "VI_2", {"VI_3"}).empty());  // not a member
}

TEST_CASE("sync group: a member's own FAULT faults the others, not itself", "[sync_group]") {
  auto g = group({"VI_1", "VI_2", "VI_3"});
  CHECK(groupFault(g, "VI_1", {"VI_2"}) == "sync group G: VI_2 is FAULT");
  CHECK(groupFault(g, "VI_3", {"VI_2"}) == "sync group G: VI_2 is FAULT");
  CHECK(groupFault(g, "VI_2", {"VI_2"}).empty());
}

TEST_CASE("sync group: the first FAULT member in the group's order is named", "[sync_group]") {
  auto g = group({"VI_1", "VI_2", "VI_3"});
  CHECK(groupFault(g, "VI_1", {"VI_3", "VI_2"}) == "sync group G: VI_2 is FAULT");
  CHECK(groupFault(g, "VI_2", {"VI_3", "VI_2", "VI_1"}) == "sync group G: VI_1 is FAULT");
}
