// The GARP / NA burst of a new MASTER: garp_master_repeat rounds over the
// VIPs, at once with vrrp_garp_interval 0 (keepalived's default), else one
// announcement per interval.
#include "vrrpd/core/garp_burst.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using vrrpd::GarpBurst;

namespace {

common::IpAddress ip(const char* text) {
  return *common::IpAddress::parse(text);
}

const std::vector<common::IpAddress> kVips = {ip("192.0.2.100"), ip("203.0.113.100")};

}  // namespace

TEST_CASE("GARP burst without an interval: everything at once", "[garp_burst]") {
  GarpBurst b(0ms);
  b.start(kVips, 3);
  auto step = b.next();
  CHECK(step.send ==
        std::vector<common::IpAddress>{kVips[0], kVips[1], kVips[0], kVips[1], kVips[0], kVips[1]});
  CHECK_FALSE(step.wait);
  CHECK(b.empty());
  CHECK(b.next().send.empty());
}

TEST_CASE("GARP burst with an interval: one at a time, a wait between", "[garp_burst]") {
  GarpBurst b(200ms);
  b.start(kVips, 2);
  std::vector<common::IpAddress> sent;
  int waits = 0;
  for (int i = 0; i < 10 && !b.empty(); ++i) {
    auto step = b.next();
    REQUIRE(step.send.size() == 1);
    sent.push_back(step.send[0]);
    if (step.wait) {
      CHECK(*step.wait == 200ms);
      ++waits;
    }
  }
  CHECK(sent == std::vector<common::IpAddress>{kVips[0], kVips[1], kVips[0], kVips[1]});
  CHECK(waits == 3);  // none after the last
}

TEST_CASE("GARP burst: a new burst replaces the rest, clear() ends it", "[garp_burst]") {
  GarpBurst b(1s);
  b.start(kVips, 5);
  b.next();
  b.start({kVips[1]}, 1);
  auto step = b.next();
  CHECK(step.send == std::vector<common::IpAddress>{kVips[1]});
  CHECK_FALSE(step.wait);
  b.start(kVips, 5);
  b.clear();
  CHECK(b.empty());
  CHECK(b.next().send.empty());
}
