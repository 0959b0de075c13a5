#include "proxyd/core/upstream_group.h"

#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "tests/unit/support/addresses.h"

using namespace std::chrono_literals;
using proxyd::BalanceMethod;
using proxyd::Peer;
using proxyd::UpstreamGroup;
using proxyd::UpstreamServer;

namespace {

struct Opts {
  int weight = 1;
  int max_fails = 1;
  std::chrono::milliseconds fail_timeout = 10s;
  int max_conns = 0;
  bool backup = false;
  bool down = false;
};

// Peers are built from numeric addresses: no resolver in unit tests.
UpstreamServer server(const std::string& name, Opts o = {}) {
  UpstreamServer s;
  s.name = name;
  s.addrs.push_back(test_support::socketAddress(name));
  s.weight = o.weight;
  s.max_fails = o.max_fails;
  s.fail_timeout = o.fail_timeout;
  s.max_conns = o.max_conns;
  s.backup = o.backup;
  s.down = o.down;
  return s;
}

const std::string A = "192.0.2.11:6443";
const std::string B = "192.0.2.12:6443";
const std::string C = "192.0.2.13:6443";

// One whole session: choose, then end the try as told.
std::string pickOnce(UpstreamGroup& g, common::TimePoint now, bool fail = false,
                     const std::string& key = "") {
  auto a = g.begin(key);
  const Peer* p = g.choose(a, now);
  if (p == nullptr) return "-";
  std::string name = p->server_name;
  g.release(a, fail, now);
  return name;
}

const Peer& peerOf(const UpstreamGroup& g, const std::string& name) {
  static std::vector<Peer> snap;
  snap = g.snapshot();
  for (const Peer& p : snap) {
    if (p.server_name == name) return p;
  }
  FAIL("no peer " << name);
  return snap.front();
}

// Fails `name` until it has `n` fails, letting other picks succeed.
void failUntil(UpstreamGroup& g, const std::string& name, int n, common::TimePoint now) {
  for (int guard = 0; peerOf(g, name).fails < n; ++guard) {
    REQUIRE(guard < 100);
    auto a = g.begin("");
    const Peer* p = g.choose(a, now);
    REQUIRE(p != nullptr);
    g.release(a, p->server_name == name, now);
  }
}

// A RandomSource that replays a script.
UpstreamGroup::RandomSource script(std::vector<std::uint32_t> values) {
  auto q = std::make_shared<std::deque<std::uint32_t>>(values.begin(), values.end());
  return [q]() {
    REQUIRE(!q->empty());
    std::uint32_t v = q->front();
    q->pop_front();
    return v;
  };
}

}  // namespace

TEST_CASE("smooth weighted round robin: 5,1,1 gives a a b a c a a", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamGroup g("g", BalanceMethod::round_robin,
                  {server(A, {.weight = 5}), server(B, {.weight = 1}), server(C, {.weight = 1})});
  std::vector<std::string> seq;
  for (int i = 0; i < 7; ++i) seq.push_back(pickOnce(g, clock.now()));
  CHECK(seq == std::vector<std::string>{A, A, B, A, C, A, A});

  std::map<std::string, int> count;
  for (int i = 0; i < 700; ++i) ++count[pickOnce(g, clock.now())];
  CHECK(count[A] == 500);
  CHECK(count[B] == 100);
  CHECK(count[C] == 100);
  for (const Peer& p : g.snapshot()) CHECK(p.conns == 0);
}

TEST_CASE("round robin: try budget and retries within a session", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamGroup g("g", BalanceMethod::round_robin, {server(A), server(B), server(C)});

  auto a = g.begin("");
  CHECK(a.triesLeft() == 3);
  std::vector<std::string> tried;
  while (const Peer* p = g.choose(a, clock.now())) {
    tried.push_back(p->server_name);
    g.release(a, true, clock.now());
  }
  CHECK(tried == std::vector<std::string>{A, B, C});  // each once, then none
  CHECK(a.triesLeft() == 0);

  auto capped = g.begin("", 2);
  CHECK(capped.triesLeft() == 2);
  auto uncapped = g.begin("", 5);
  CHECK(uncapped.triesLeft() == 3);
}

TEST_CASE("the try budget leaves out servers marked down, as nginx's peers->tries",
          "[upstream_group]") {
  UpstreamServer down = server(B);
  down.down = true;
  UpstreamGroup g("g", BalanceMethod::round_robin, {server(A), down, server(C)});
  CHECK(g.begin("").triesLeft() == 2);
}

TEST_CASE("max_fails and fail_timeout, as nginx", "[upstream_group]") {
  common::FakeClock clock;
  const Opts o{.max_fails = 3, .fail_timeout = 30s};
  UpstreamGroup g("g", BalanceMethod::round_robin, {server(A, o), server(B, o)});

  failUntil(g, A, 3, clock.now());
  const common::TimePoint failed_at = clock.now();
  CHECK(peerOf(g, A).checked == failed_at);
  CHECK(peerOf(g, A).accessed == failed_at);

  SECTION("skipped while the window lasts") {
    for (int i = 0; i < 10; ++i) CHECK(pickOnce(g, clock.now()) == B);
    clock.advance(30s);  // now - checked == fail_timeout: still skipped
    for (int i = 0; i < 10; ++i) CHECK(pickOnce(g, clock.now()) == B);
  }

  SECTION("one probe per window; a late success clears fails") {
    clock.advance(31s);
    auto probe = g.begin("");
    const Peer* p = nullptr;
    for (int i = 0; i < 4 && (p = g.choose(probe, clock.now()))->server_name != A; ++i) {
      g.release(probe, false, clock.now());
      probe = g.begin("");
    }
    REQUIRE(p->server_name == A);
    CHECK(peerOf(g, A).checked == clock.now());
    // While the probe is connecting, nobody else gets A.
    for (int i = 0; i < 10; ++i) CHECK(pickOnce(g, clock.now()) == B);
    clock.advance(1s);
    g.release(probe, false, clock.now());  // began after the window opened
    CHECK(peerOf(g, A).fails == 0);
    std::map<std::string, int> count;
    for (int i = 0; i < 10; ++i) ++count[pickOnce(g, clock.now())];
    CHECK(count[A] == 5);
  }

  SECTION("a probe that connects clears fails at once, as nginx's NOTIFY_CONNECT") {
    // issue 9: with the probe's session still open (a kube watch), new
    // sessions must reach A again, not one per fail_timeout.
    clock.advance(31s);
    std::vector<UpstreamGroup::Attempts> held;
    for (int i = 0; i < 4; ++i) {
      held.push_back(g.begin(""));
      const Peer* p = g.choose(held.back(), clock.now());
      REQUIRE(p != nullptr);
      if (p->server_name == A) break;
    }
    REQUIRE(peerOf(g, A).conns == 1);
    CHECK(peerOf(g, A).fails == 3);
    g.connected(held.back());  // the probe's connection is up
    CHECK(peerOf(g, A).fails == 0);
    std::map<std::string, int> count;
    for (int i = 0; i < 10; ++i) ++count[pickOnce(g, clock.now())];
    CHECK(count[A] >= 4);  // back in the rotation while the probe still runs
    for (auto& a : held) g.release(a, false, clock.now());
    CHECK(peerOf(g, A).fails == 0);
    CHECK(peerOf(g, A).conns == 0);
  }

  SECTION("a failed probe closes the window again") {
    clock.advance(31s);
    failUntil(g, A, 4, clock.now());
    for (int i = 0; i < 10; ++i) CHECK(pickOnce(g, clock.now()) == B);
    clock.advance(30s);
    CHECK(pickOnce(g, clock.now()) == B);
  }
}

TEST_CASE("a success of an attempt begun before the failures does not clear them",
          "[upstream_group]") {
  common::FakeClock clock;
  const Opts o{.max_fails = 3, .fail_timeout = 30s};
  UpstreamGroup g("g", BalanceMethod::round_robin, {server(A, o), server(B, o)});

  auto early = g.begin("");
  REQUIRE(g.choose(early, clock.now())->server_name == A);  // still running
  clock.advance(1s);
  failUntil(g, A, 3, clock.now());
  clock.advance(5s);
  g.connected(early);  // a slow connect that began before: proves nothing either
  CHECK(peerOf(g, A).fails == 3);
  g.release(early, false, clock.now());  // accessed == checked: proves nothing
  CHECK(peerOf(g, A).fails == 3);
  CHECK(pickOnce(g, clock.now()) == B);
}

TEST_CASE("effective weight drops on failure and grows back", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamGroup g("g", BalanceMethod::round_robin,
                  {server(A, {.weight = 10, .max_fails = 3}), server(B, {.weight = 10})});
  auto a = g.begin("");
  REQUIRE(g.choose(a, clock.now())->server_name == A);
  g.release(a, true, clock.now());
  CHECK(peerOf(g, A).effective_weight == 10 - 10 / 3);  // 7
  for (int expected = 8; expected <= 10; ++expected) {
    pickOnce(g, clock.now());  // every pick considers A: +1 up to weight
    CHECK(peerOf(g, A).effective_weight == expected);
  }
  pickOnce(g, clock.now());
  CHECK(peerOf(g, A).effective_weight == 10);

  SECTION("floored at zero") {
    UpstreamGroup h("h", BalanceMethod::round_robin,
                    {server(A, {.weight = 10, .max_fails = 2}), server(B)});
    // 10 - 5 = 5, then +1 when considered for the next pick, - 5 = 1.
    failUntil(h, A, 2, clock.now());
    CHECK(peerOf(h, A).effective_weight == 1);
    clock.advance(11s);
    failUntil(h, A, 3, clock.now());  // the probe: 1 + 1 - 5 -> 0, not -3
    CHECK(peerOf(h, A).effective_weight == 0);
  }
}

TEST_CASE("max_fails=0 never marks a server failed", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamGroup g("g", BalanceMethod::round_robin, {server(A, {.max_fails = 0}), server(B)});
  for (int i = 0; i < 10; ++i) {
    auto a = g.begin("");
    g.choose(a, clock.now());
    g.release(a, true, clock.now());  // fails whatever was chosen
  }
  // A, then B (out after one failure), then A eight more times.
  CHECK(peerOf(g, A).fails == 9);
  CHECK(peerOf(g, B).fails == 1);
  CHECK(pickOnce(g, clock.now()) == A);  // B is out, A never is
  CHECK(pickOnce(g, clock.now()) == A);
}

TEST_CASE("a single-server group never counts failures and never retries", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamGroup g("g", BalanceMethod::round_robin, {server(A, {.max_fails = 1})});
  auto a = g.begin("");
  CHECK(a.triesLeft() == 1);
  REQUIRE(g.choose(a, clock.now()) != nullptr);
  g.release(a, true, clock.now());
  CHECK(a.triesLeft() == 0);
  CHECK(peerOf(g, A).fails == 0);
  CHECK(peerOf(g, A).conns == 0);
  for (int i = 0; i < 5; ++i) CHECK(pickOnce(g, clock.now(), true) == A);
}

TEST_CASE("all servers failed: no live upstreams", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamGroup g("deadgroup", BalanceMethod::round_robin, {server(A), server(B)});
  CHECK(pickOnce(g, clock.now(), true) == A);
  CHECK(pickOnce(g, clock.now(), true) == B);
  auto a = g.begin("");
  CHECK(g.choose(a, clock.now()) == nullptr);
  g.release(a, false, clock.now());  // nothing running: a no-op
  CHECK(a.triesLeft() == 2);
  // nginx no longer resets fails when all peers are out (the "quick
  // recovery" of old versions is gone): still none until the window ends.
  CHECK(pickOnce(g, clock.now()) == "-");
  clock.advance(11s);
  CHECK(pickOnce(g, clock.now()) != "-");
}

TEST_CASE("backup servers only when no primary can be used", "[upstream_group]") {
  common::FakeClock clock;
  for (BalanceMethod m : {BalanceMethod::round_robin, BalanceMethod::least_conn}) {
    UpstreamGroup g("g", m, {server(A), server(B), server(C, {.backup = true})});
    for (int i = 0; i < 10; ++i) CHECK(pickOnce(g, clock.now()) != C);

    // One session walks the primaries, then the backup list afresh.
    auto a = g.begin("");
    CHECK(a.triesLeft() == 3);
    std::vector<std::string> tried;
    while (const Peer* p = g.choose(a, clock.now())) {
      tried.push_back(p->server_name);
      g.release(a, p->server_name != C, clock.now());
    }
    CHECK(tried.size() == 3);
    CHECK(tried.back() == C);
    // A and B are out now: new sessions go to C at once.
    CHECK(pickOnce(g, clock.now()) == C);
    clock.advance(11s);
    CHECK(pickOnce(g, clock.now()) != C);
  }
  CHECK(UpstreamGroup::allowsBackup(BalanceMethod::round_robin));
  CHECK(UpstreamGroup::allowsBackup(BalanceMethod::least_conn));
  CHECK_FALSE(UpstreamGroup::allowsBackup(BalanceMethod::hash));
  CHECK_FALSE(UpstreamGroup::allowsBackup(BalanceMethod::consistent_hash));
  CHECK_FALSE(UpstreamGroup::allowsBackup(BalanceMethod::random));
  CHECK_FALSE(UpstreamGroup::allowsBackup(BalanceMethod::random_two));
}

TEST_CASE("down servers are never chosen", "[upstream_group]") {
  common::FakeClock clock;
  for (BalanceMethod m :
       {BalanceMethod::round_robin, BalanceMethod::least_conn, BalanceMethod::hash,
        BalanceMethod::consistent_hash, BalanceMethod::random, BalanceMethod::random_two}) {
    UpstreamGroup g("g", m, {server(A), server(B, {.down = true}), server(C)});
    for (int i = 0; i < 300; ++i) {
      CHECK(pickOnce(g, clock.now(), false, "client-" + std::to_string(i)) != B);
    }
  }
  UpstreamGroup lone("g", BalanceMethod::round_robin, {server(A, {.down = true})});
  CHECK(pickOnce(lone, clock.now()) == "-");
}

TEST_CASE("max_conns is respected", "[upstream_group]") {
  common::FakeClock clock;
  for (BalanceMethod m :
       {BalanceMethod::round_robin, BalanceMethod::least_conn, BalanceMethod::hash,
        BalanceMethod::consistent_hash, BalanceMethod::random, BalanceMethod::random_two}) {
    UpstreamGroup g("g", m, {server(A, {.max_conns = 1}), server(B, {.max_conns = 2})});
    std::vector<UpstreamGroup::Attempts> open;
    for (int i = 0; i < 3; ++i) {
      open.push_back(g.begin("k" + std::to_string(i)));
      REQUIRE(g.choose(open.back(), clock.now()) != nullptr);
    }
    CHECK(peerOf(g, A).conns == 1);
    CHECK(peerOf(g, B).conns == 2);
    auto more = g.begin("x");
    CHECK(g.choose(more, clock.now()) == nullptr);
    g.release(open[0], false, clock.now());
    CHECK(g.choose(more, clock.now()) != nullptr);
  }
  UpstreamGroup lone("g", BalanceMethod::round_robin, {server(A, {.max_conns = 1})});
  auto held = lone.begin("");
  REQUIRE(lone.choose(held, clock.now()) != nullptr);
  CHECK(pickOnce(lone, clock.now()) == "-");
}

TEST_CASE("least_conn: fewest connections per weight, round robin among ties", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamGroup g("g", BalanceMethod::least_conn, {server(A), server(B), server(C)});
  // All idle: a tie, so smooth round robin decides.
  std::vector<std::string> seq;
  for (int i = 0; i < 6; ++i) seq.push_back(pickOnce(g, clock.now()));
  CHECK(seq == std::vector<std::string>{A, B, C, A, B, C});

  auto a1 = g.begin("");
  auto a2 = g.begin("");
  CHECK(g.choose(a1, clock.now())->server_name == A);
  CHECK(g.choose(a2, clock.now())->server_name == B);
  CHECK(pickOnce(g, clock.now()) == C);  // the only idle one
  CHECK(pickOnce(g, clock.now()) == C);
  g.release(a1, false, clock.now());
  // A and C tie at 0. The tie is broken by current_weight, which only the
  // tie loop moves: C kept the +1 it got when it tied with B, A still owes
  // for its last pick (-2 + 1 against 2 + 1), so C.
  CHECK(pickOnce(g, clock.now()) == C);
  std::map<std::string, int> count;  // B stays busy; A and C share the rest
  for (int i = 0; i < 100; ++i) ++count[pickOnce(g, clock.now())];
  CHECK(count[B] == 0);
  CHECK(count[A] >= 49);
  CHECK(count[C] >= 49);

  SECTION("weights scale the count") {
    UpstreamGroup w("w", BalanceMethod::least_conn,
                    {server(A, {.weight = 2}), server(B, {.weight = 1})});
    auto x = w.begin("");
    auto y = w.begin("");
    CHECK(w.choose(x, clock.now())->server_name == A);  // tie at 0: round robin, A first
    CHECK(w.choose(y, clock.now())->server_name == B);  // A 1/2 > B 0/1
    // A 1/2 < B 1/1
    CHECK(pickOnce(w, clock.now()) == A);
  }
}

TEST_CASE("hash: Cache::Memcached compatible picks", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamGroup g("g", BalanceMethod::hash, {server(A), server(B), server(C)});
  // Captured from nginx 1.22: tests/interop/test_nginx_interop.py GoldenPicks
  // prints the servers nginx tries for `hash KEY` (from $upstream_addr, every
  // server refusing). A plain hash depends only on the order and weights of
  // the servers, not their names, so its 127.0.0.11-13:6443 stand for A, B, C.
  CHECK(pickOnce(g, clock.now(), false, "127.0.0.1") == A);
  CHECK(pickOnce(g, clock.now(), false, "192.0.2.7") == B);
  CHECK(pickOnce(g, clock.now(), false, "10.1.2.3") == A);
  CHECK(pickOnce(g, clock.now(), false, "198.51.100.200") == B);
  CHECK(pickOnce(g, clock.now(), false, "2001:db8::1") == A);
  CHECK(pickOnce(g, clock.now(), false, "a") == C);
  CHECK(pickOnce(g, clock.now(), false, "client-42") == A);

  SECTION("rehash on retry: 192.0.2.7 walks 1, 0, (1), 2 (nginx: tried 1, 0, 2)") {
    auto a = g.begin("192.0.2.7");
    std::vector<std::string> tried;
    while (const Peer* p = g.choose(a, clock.now())) {
      tried.push_back(p->server_name);
      g.release(a, true, clock.now());
    }
    CHECK(tried == std::vector<std::string>{B, A, C});
  }

  SECTION("weights 2,1,1 (nginx)") {
    UpstreamGroup w("w", BalanceMethod::hash, {server(A, {.weight = 2}), server(B), server(C)});
    CHECK(pickOnce(w, clock.now(), false, "127.0.0.1") == C);
    CHECK(pickOnce(w, clock.now(), false, "10.1.2.3") == A);
    CHECK(pickOnce(w, clock.now(), false, "a") == C);
  }

  SECTION("a down server: 127.0.0.1 rehashes 0, 0, 1 (nginx: tried 1, 2)") {
    UpstreamGroup d("d", BalanceMethod::hash, {server(A, {.down = true}), server(B), server(C)});
    CHECK(pickOnce(d, clock.now(), false, "127.0.0.1") == B);
  }

  SECTION("round robin after 20 steps") {
    // Weights 100,1,1 with the heavy one down: "k0" first lands elsewhere at
    // step 24, so round robin picks B; "k6" finds C at step 3 (nginx: k0
    // tried 1, 2; k6 tried 2, 1).
    UpstreamGroup r("r", BalanceMethod::hash,
                    {server(A, {.weight = 100, .down = true}), server(B), server(C)});
    CHECK(pickOnce(r, clock.now(), false, "k0") == B);
    UpstreamGroup s("s", BalanceMethod::hash,
                    {server(A, {.weight = 100, .down = true}), server(B), server(C)});
    CHECK(pickOnce(s, clock.now(), false, "k6") == C);
  }

  SECTION("round robin for an empty key") {
    std::vector<std::string> seq;
    for (int i = 0; i < 3; ++i) seq.push_back(pickOnce(g, clock.now(), false, ""));
    CHECK(seq == std::vector<std::string>{A, B, C});
  }
}

TEST_CASE("random: weighted picks from the RandomSource", "[upstream_group]") {
  common::FakeClock clock;
  // Weights 1,2,1: ranges [0,1) A, [1,3) B, [3,4) C.
  UpstreamGroup g("g", BalanceMethod::random, {server(A), server(B, {.weight = 2}), server(C)},
                  script({0, 1, 2, 3, 7, 4}));
  std::vector<std::string> seq;
  for (int i = 0; i < 6; ++i) seq.push_back(pickOnce(g, clock.now()));
  CHECK(seq == std::vector<std::string>{A, B, B, C, C, A});

  SECTION("draws again on a tried peer") {
    UpstreamGroup h("h", BalanceMethod::random, {server(A), server(B), server(C)},
                    script({0, 0, 3, 2}));
    auto a = h.begin("");
    CHECK(h.choose(a, clock.now())->server_name == A);
    h.release(a, true, clock.now());
    CHECK(h.choose(a, clock.now())->server_name == C);  // 0 and 3 give A again
  }
}

TEST_CASE("random two: the less loaded of two distinct picks", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamGroup g("g", BalanceMethod::random_two, {server(A), server(B), server(C)},
                  script({0, 1,     // A, B idle: the second wins
                          1, 1, 0,  // B held; B again is redrawn; A idle beats B
                          2, 2, 2, 0}));
  auto b = g.begin("");
  CHECK(g.choose(b, clock.now())->server_name == B);
  CHECK(pickOnce(g, clock.now()) == A);
  CHECK(pickOnce(g, clock.now()) == A);  // C then A, equal load: the second

  SECTION("falls back to round robin with fewer than two peers") {
    UpstreamGroup one("one", BalanceMethod::random_two, {server(A)}, script({}));
    CHECK(pickOnce(one, clock.now()) == A);
  }
}

TEST_CASE("a name with several addresses gives one peer each", "[upstream_group]") {
  common::FakeClock clock;
  UpstreamServer s = server("192.0.2.11:6443");
  s.name = "api.lab:6443";
  s.addrs.push_back(*common::SocketAddress::fromNumeric("192.0.2.12", 6443));
  UpstreamGroup g("g", BalanceMethod::round_robin, {s});
  auto snap = g.snapshot();
  REQUIRE(snap.size() == 2);
  CHECK(snap[0].server_name == "api.lab:6443");
  CHECK(snap[1].server_name == "api.lab:6443");
  CHECK(snap[0].addr_text == "192.0.2.11:6443");
  CHECK(snap[1].addr_text == "192.0.2.12:6443");
  // Two peers: not `single`, so failures count and the session retries.
  auto a = g.begin("");
  CHECK(a.triesLeft() == 2);
  g.choose(a, clock.now());
  g.release(a, true, clock.now());
  CHECK(a.triesLeft() == 1);
  CHECK(g.snapshot()[0].fails == 1);
}

TEST_CASE("unhealthy servers (active health checks) are skipped by every balancer",
          "[upstream_group][health_check]") {
  common::FakeClock clock;
  for (BalanceMethod m :
       {BalanceMethod::round_robin, BalanceMethod::least_conn, BalanceMethod::hash,
        BalanceMethod::consistent_hash, BalanceMethod::random, BalanceMethod::random_two}) {
    UpstreamGroup g("g", m, {server(A), server(B), server(C)});
    g.enableHealthChecks(false);
    CHECK(peerOf(g, B).health_checked);
    CHECK_FALSE(peerOf(g, B).unhealthy);
    g.recordHealthCheck(1, true, "HTTP 500 from /readyz");  // B, in snapshot() order
    CHECK(peerOf(g, B).unhealthy);
    CHECK(peerOf(g, B).last_check_error == "HTTP 500 from /readyz");
    std::map<std::string, int> seen;
    for (int i = 0; i < 300; ++i) {
      ++seen[pickOnce(g, clock.now(), false, "client-" + std::to_string(i))];
    }
    CHECK(seen.count(B) == 0);
    CHECK(seen[A] > 0);
    CHECK(seen[C] > 0);
    // Back after rise: chosen again.
    g.recordHealthCheck(1, false, "");
    CHECK(peerOf(g, B).last_check_error.empty());
    seen.clear();
    for (int i = 0; i < 300; ++i) {
      ++seen[pickOnce(g, clock.now(), false, "client-" + std::to_string(i))];
    }
    CHECK(seen[B] > 0);
  }
}

TEST_CASE("consistent hash walks past an unhealthy server to the next on the ring",
          "[upstream_group][health_check]") {
  common::FakeClock clock;
  UpstreamGroup g("g", BalanceMethod::consistent_hash, {server(A), server(B), server(C)});
  g.enableHealthChecks(false);
  // Keys that the ring gives to B move; the others stay where they were.
  std::map<std::string, std::string> before;
  for (int i = 0; i < 200; ++i) {
    std::string key = "10.0.0." + std::to_string(i);
    before[key] = pickOnce(g, clock.now(), false, key);
  }
  g.recordHealthCheck(1, true, "connect() failed (111: Connection refused)");
  int moved = 0;
  for (const auto& [key, was] : before) {
    std::string now = pickOnce(g, clock.now(), false, key);
    CHECK(now != B);
    if (was != B) CHECK(now == was);
    if (was == B) ++moved;
  }
  CHECK(moved > 0);
}

TEST_CASE("health checks: every server unhealthy is no live upstreams; backup takes over",
          "[upstream_group][health_check]") {
  common::FakeClock clock;
  UpstreamGroup lone("lone", BalanceMethod::round_robin, {server(A)});
  lone.enableHealthChecks(false);
  lone.recordHealthCheck(0, true, "timed out after 1000 ms (connecting)");
  CHECK(pickOnce(lone, clock.now()) == "-");

  UpstreamGroup g("g", BalanceMethod::round_robin,
                  {server(A), server(B), server(C, {.backup = true})});
  g.enableHealthChecks(false);
  g.recordHealthCheck(0, true, "x");
  g.recordHealthCheck(1, true, "x");
  CHECK(pickOnce(g, clock.now()) == C);
  g.recordHealthCheck(2, true, "x");  // the backup, after the primaries
  CHECK(pickOnce(g, clock.now()) == "-");
}

TEST_CASE("health checks: counters and mandatory start", "[upstream_group][health_check]") {
  UpstreamGroup g("g", BalanceMethod::round_robin, {server(A), server(B)});
  CHECK_FALSE(peerOf(g, A).health_checked);
  g.enableHealthChecks(true);
  CHECK(peerOf(g, A).unhealthy);  // mandatory: out until the first check passes
  common::FakeClock clock;
  CHECK(pickOnce(g, clock.now()) == "-");
  g.recordHealthCheck(0, false, "");
  g.recordHealthCheck(1, true, "HTTP 503 from /readyz");
  g.recordHealthCheck(1, true, "HTTP 503 from /readyz");
  g.recordHealthCheck(1, false, "");
  g.recordHealthCheck(1, true, "HTTP 503 from /readyz");
  const Peer& b = peerOf(g, B);
  CHECK(b.health_checks == 4);
  CHECK(b.health_check_fails == 3);
  CHECK(b.unhealthy_times == 1);  // mandatory's initial state is not a transition
  CHECK(pickOnce(g, clock.now()) == A);
  g.recordHealthCheck(7, true, "out of range: ignored");
}
