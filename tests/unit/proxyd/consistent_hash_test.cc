#include "proxyd/core/consistent_hash.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "proxyd/core/crc32.h"
#include "proxyd/core/upstream_group.h"
#include "tests/unit/support/addresses.h"

using proxyd::BalanceMethod;
using proxyd::KetamaRing;
using proxyd::UpstreamGroup;
using proxyd::UpstreamServer;

namespace {

// The server names nginx's picks below were captured with: the ring is built
// from the names as written, so they must be the same here.
const std::vector<std::string> kServers = {"127.0.0.11:6443", "127.0.0.12:6443", "127.0.0.13:6443"};

UpstreamServer numericServer(const std::string& name, int weight = 1) {
  UpstreamServer s;
  s.name = name;
  s.addrs.push_back(test_support::socketAddress(name));
  s.weight = weight;
  return s;
}

// A reference ring written the slow way: every point's input is assembled as
// one byte string and hashed in one go, the points go into a multimap (which
// keeps insertion order among equal hashes, so the first server listed owns
// a collision), and a lookup is a linear scan.
struct ReferenceRing {
  std::multimap<std::uint32_t, std::size_t> points;

  ReferenceRing(const std::vector<std::string>& servers, const std::vector<int>& weights) {
    for (std::size_t s = 0; s < servers.size(); ++s) {
      const std::string& name = servers[s];
      std::string host = name.substr(0, name.rfind(':'));
      std::string port = name.substr(name.rfind(':') + 1);
      std::uint32_t prev = 0;
      for (int j = 0; j < 160 * weights[s]; ++j) {
        std::string bytes = host;
        bytes.push_back('\0');
        bytes += port;
        for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<char>((prev >> (8 * b)) & 0xff));
        prev = proxyd::crc32(bytes);
        points.emplace(prev, s);
      }
    }
  }

  std::size_t distinct() const {
    std::size_t n = 0;
    for (auto it = points.begin(); it != points.end(); it = points.upper_bound(it->first)) ++n;
    return n;
  }

  // The servers met walking from the key's point, skipping `skip`.
  std::size_t pick(const std::string& key, const std::vector<bool>& skip) const {
    std::uint32_t h = proxyd::crc32(key);
    std::vector<std::size_t> order;  // owners of distinct points, ring order
    for (auto it = points.begin(); it != points.end(); it = points.upper_bound(it->first)) {
      order.push_back(it->second);
    }
    std::size_t start = order.size();
    std::size_t idx = 0;
    for (auto it = points.begin(); it != points.end(); it = points.upper_bound(it->first), ++idx) {
      if (it->first >= h) {
        start = idx;
        break;
      }
    }
    for (std::size_t k = 0; k < order.size(); ++k) {
      std::size_t s = order[(start + k) % order.size()];
      if (!skip[s]) return s;
    }
    return SIZE_MAX;
  }
};

std::size_t indexOf(const proxyd::Peer* peer) {
  REQUIRE(peer != nullptr);
  for (std::size_t i = 0; i < kServers.size(); ++i) {
    if (peer->server_name == kServers[i]) return i;
  }
  FAIL("unknown peer " << peer->server_name);
  return SIZE_MAX;
}

std::size_t groupPick(UpstreamGroup& group, const std::string& key) {
  common::FakeClock clock;
  auto a = group.begin(key);
  const proxyd::Peer* peer = group.choose(a, clock.now());
  std::size_t i = indexOf(peer);
  group.release(a, false, clock.now());
  return i;
}

std::vector<UpstreamServer> servers(const std::vector<int>& weights) {
  std::vector<UpstreamServer> out;
  for (std::size_t i = 0; i < kServers.size(); ++i)
    out.push_back(numericServer(kServers[i], weights[i]));
  return out;
}

}  // namespace

TEST_CASE("ketama splits the server as nginx does", "[consistent_hash]") {
  using P = std::pair<std::string_view, std::string_view>;
  CHECK(KetamaRing::splitServer("192.0.2.11:6443") == P("192.0.2.11", "6443"));
  CHECK(KetamaRing::splitServer("[::1]:80") == P("[::1]", "80"));
  CHECK(KetamaRing::splitServer("api.lab:6443") == P("api.lab", "6443"));
  CHECK(KetamaRing::splitServer("unix:/run/x.sock") == P("/run/x.sock", ""));
  CHECK(KetamaRing::splitServer("UNIX:/run/x.sock") == P("/run/x.sock", ""));
  CHECK(KetamaRing::splitServer("host") == P("host", ""));
  CHECK(KetamaRing::splitServer("host:8a") == P("host:8a", ""));
}

TEST_CASE("ketama ring has 160 points per weight unit, sorted, unique", "[consistent_hash]") {
  std::vector<KetamaRing::Member> members;
  for (std::size_t i = 0; i < kServers.size(); ++i) {
    members.push_back({kServers[i], 1, static_cast<std::uint32_t>(i)});
  }
  KetamaRing ring(members);
  ReferenceRing ref(kServers, {1, 1, 1});
  REQUIRE(ring.size() == ref.distinct());
  CHECK(ring.size() == 480);  // no collisions among these three

  std::size_t k = 0;
  for (auto it = ref.points.begin(); it != ref.points.end();
       it = ref.points.upper_bound(it->first)) {
    REQUIRE(ring.points()[k].hash == it->first);
    REQUIRE(ring.points()[k].server == it->second);
    ++k;
  }

  const std::uint32_t lowest = ring.points()[0].hash;
  REQUIRE(lowest > 0);
  CHECK(ring.find(0) == 0);
  CHECK(ring.find(lowest) == 0);
  CHECK(ring.find(lowest + 1) == 1);
  CHECK(ring.find(0xffffffffu) == ring.size());  // wraps via serverAt
  CHECK(ring.serverAt(static_cast<std::uint32_t>(ring.size())) == ring.points()[0].server);
}

TEST_CASE("ketama: a name resolving to two addresses adds no extra points", "[consistent_hash]") {
  KetamaRing one({{"api.lab:6443", 1, 0}});
  KetamaRing twice({{"api.lab:6443", 1, 0}, {"api.lab:6443", 1, 0}});
  CHECK(one.size() == 160);
  CHECK(twice.size() == 160);
}

TEST_CASE("consistent hash: a point two servers share belongs to the one listed first",
          "[consistent_hash]") {
  // "127.0.0.11:11067" and "127.0.0.11:11168" both have point 2845684262 and
  // crc32("c150") lands just before it. nginx picks the server listed first
  // in both orders (GoldenPicks "chash collision", tried 0, 1).
  for (bool reversed : {false, true}) {
    std::vector<UpstreamServer> list = {numericServer("127.0.0.11:11067"),
                                        numericServer("127.0.0.11:11168")};
    if (reversed) std::swap(list[0], list[1]);
    const std::string first = list[0].name;
    UpstreamGroup group("g", BalanceMethod::consistent_hash, std::move(list));
    common::FakeClock clock;
    auto a = group.begin("c150");
    const proxyd::Peer* peer = group.choose(a, clock.now());
    REQUIRE(peer != nullptr);
    CHECK(peer->server_name == first);
  }
}

TEST_CASE("ketama: collisions keep the server listed first", "[consistent_hash]") {
  // Same text twice with different ids: every point collides; the stable
  // sort keeps the first member's id, as glibc's merge-sort qsort does in nginx.
  KetamaRing ring({{"192.0.2.11:6443", 1, 7}, {"192.0.2.11:6443", 1, 9}});
  REQUIRE(ring.size() == 160);
  for (const auto& p : ring.points()) CHECK(p.server == 7);
}

// The picks pinned in this file were captured from nginx 1.22 (Debian's
// nginx-light + libnginx-mod-stream): tests/interop/test_nginx_interop.py
// GoldenPicks runs `hash KEY consistent` over these server names and prints
// the servers nginx tried, in order, from $upstream_addr (the servers refuse,
// so the log lists the whole walk). The same test checks proxyd against
// nginx live; these pins keep the unit suite honest without nginx.
TEST_CASE("consistent hash picks the servers nginx picks", "[consistent_hash]") {
  UpstreamGroup group("k8sapiserver", BalanceMethod::consistent_hash, servers({1, 1, 1}));
  ReferenceRing ref(kServers, {1, 1, 1});
  const std::vector<bool> none(3, false);

  CHECK(groupPick(group, "127.0.0.1") == 2);
  CHECK(groupPick(group, "192.0.2.7") == 1);
  CHECK(groupPick(group, "10.1.2.3") == 2);
  CHECK(groupPick(group, "198.51.100.200") == 0);
  CHECK(groupPick(group, "2001:db8::1") == 1);
  CHECK(groupPick(group, "a") == 2);
  CHECK(groupPick(group, "client-42") == 0);

  for (int i = 0; i < 2000; ++i) {
    std::string key = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".9";
    REQUIRE(groupPick(group, key) == ref.pick(key, none));
  }
}

TEST_CASE("consistent hash with weights 2,1,1", "[consistent_hash]") {
  UpstreamGroup group("g", BalanceMethod::consistent_hash, servers({2, 1, 1}));
  ReferenceRing ref(kServers, {2, 1, 1});
  const std::vector<bool> none(3, false);
  CHECK(groupPick(group, "10.1.2.3") == 0);   // nginx: tried 0, 2, 1
  CHECK(groupPick(group, "127.0.0.1") == 0);  // nginx: tried 0, 2, 1
  for (int i = 0; i < 1000; ++i) {
    std::string key = "client-" + std::to_string(i);
    REQUIRE(groupPick(group, key) == ref.pick(key, none));
  }
}

TEST_CASE("consistent hash walks on past a down or failed server", "[consistent_hash]") {
  ReferenceRing ref(kServers, {1, 1, 1});

  SECTION("down") {
    auto list = servers({1, 1, 1});
    list[1].down = true;
    UpstreamGroup group("g", BalanceMethod::consistent_hash, std::move(list));
    // nginx: both tried 2, then 0.
    CHECK(groupPick(group, "127.0.0.1") == 2);
    CHECK(groupPick(group, "192.0.2.7") == 2);
    for (int i = 0; i < 500; ++i) {
      std::string key = "192.0.2." + std::to_string(i % 256) + "-" + std::to_string(i);
      REQUIRE(groupPick(group, key) == ref.pick(key, {false, true, false}));
    }
  }

  SECTION("failed, then tried within the session") {
    // nginx, every server refusing: tried 1, 2, 0.
    UpstreamGroup group("g", BalanceMethod::consistent_hash, servers({1, 1, 1}));
    common::FakeClock clock;
    auto a = group.begin("192.0.2.7");
    CHECK(a.triesLeft() == 3);
    CHECK(indexOf(group.choose(a, clock.now())) == 1);
    group.release(a, true, clock.now());
    CHECK(indexOf(group.choose(a, clock.now())) == 2);
    group.release(a, true, clock.now());
    CHECK(indexOf(group.choose(a, clock.now())) == 0);
    group.release(a, false, clock.now());
    CHECK(a.triesLeft() == 0);

    // max_fails=1 fail_timeout=10s: 1 and 2 are out for new sessions too.
    CHECK(groupPick(group, "192.0.2.7") == 0);
    clock.advance(std::chrono::seconds(11));
    auto b = group.begin("192.0.2.7");
    CHECK(indexOf(group.choose(b, clock.now())) == 1);
    group.release(b, false, clock.now());
  }
}

TEST_CASE("consistent hash falls back to round robin", "[consistent_hash]") {
  common::FakeClock clock;
  SECTION("empty key") {
    UpstreamGroup group("g", BalanceMethod::consistent_hash, servers({1, 1, 1}));
    std::vector<std::size_t> seen;
    for (int i = 0; i < 3; ++i) seen.push_back(groupPick(group, ""));
    CHECK(seen == std::vector<std::size_t>{0, 1, 2});
  }
  SECTION("single server") {
    UpstreamGroup group("g", BalanceMethod::consistent_hash, {numericServer(kServers[2])});
    auto a = group.begin("anything");
    CHECK(group.choose(a, clock.now())->server_name == kServers[2]);
  }
  SECTION("after 20 steps") {
    // Server 0 has weight 100 and is down. From "k10"'s point the first 21
    // points all belong to server 0 (the ring model of tests/lib/proxylab.py
    // puts server 2 at the 22nd), so the walk gives up and round robin picks
    // server 1, the first of the two equal live ones; from "k30" the walk
    // meets server 2 at step 16. nginx: k10 tried 1, 2; k30 tried 2, 1.
    auto list = servers({100, 1, 1});
    list[0].down = true;
    SECTION("gives up") {
      UpstreamGroup group("g", BalanceMethod::consistent_hash, std::move(list));
      CHECK(groupPick(group, "k10") == 1);
    }
    SECTION("finds it") {
      UpstreamGroup group("g", BalanceMethod::consistent_hash, std::move(list));
      CHECK(groupPick(group, "k30") == 2);
    }
  }
}
