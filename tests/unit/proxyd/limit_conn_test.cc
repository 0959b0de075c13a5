// limit_conn's parts without sockets: the slab accounting that bounds a
// zone (figures worked out from nginx's ngx_slab.c layout, and compared
// with Debian's nginx in tests/interop/test_nginx_limits.py), the zone's
// counts, the preaccess check with its statuses and log lines, the reload
// take-over of zones, the config keys with nginx's messages, and the rate
// limiter on a fake clock.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "proxyd/core/config.h"
#include "proxyd/core/limit_conn_check.h"
#include "proxyd/core/limit_conn_zone.h"
#include "proxyd/core/rate_limit.h"
#include "proxyd/core/session_variables.h"
#include "proxyd/core/slab_model.h"

using proxyd::LimitConnStatus;
using proxyd::LimitConnZone;
using proxyd::SlabModel;

namespace {

// How many chunks of `bytes` a fresh model hands out before it is full.
std::size_t fill(SlabModel& slab, std::size_t bytes) {
  std::size_t n = 0;
  while (slab.alloc(bytes)) ++n;
  return n;
}

}  // namespace

TEST_CASE("slab model: pages of a zone as ngx_slab_init lays them out", "[limit_conn]") {
  // 32k: (32768 - 704) / 4120 = 7 pages, the first aligned at 4096.
  CHECK(SlabModel(32768).pages() == 7);
  // 10m: 2545 descriptors push the first page to 65536: 2544 pages.
  CHECK(SlabModel(10 << 20).pages() == 2544);
  CHECK(SlabModel(1 << 20).pages() == 254);
  CHECK(SlabModel(100).pages() == 0);
}

TEST_CASE("slab model: chunks per page and the full zone", "[limit_conn]") {
  CHECK(SlabModel::chunksPerPage(6) == 64);  // exact size: bitmap in the descriptor
  CHECK(SlabModel::chunksPerPage(9) == 8);
  CHECK(SlabModel::chunksPerPage(5) == 127);  // the bitmap takes one chunk
  CHECK(SlabModel::chunksPerPage(3) == 504);
  SlabModel slab(32768);
  CHECK(fill(slab, 40) == 7 * 64);  // 40 bytes take 64-byte chunks
  CHECK(slab.freePages() == 0);
  SlabModel big(32768);
  CHECK(fill(big, 300) == 7 * 8);
}

TEST_CASE("slab model: a page whose chunks are all free goes back", "[limit_conn]") {
  SlabModel slab(32768);
  std::vector<SlabModel::Chunk> chunks;
  for (int i = 0; i < 8; ++i) chunks.push_back(*slab.alloc(300));  // one 512-byte page
  CHECK(slab.freePages() == 6);
  for (auto c : chunks) slab.free(c);
  CHECK(slab.freePages() == 7);
  // Now 64-byte chunks may have that page.
  CHECK(fill(slab, 64) == 7 * 64);
}

TEST_CASE("limit_conn zone: counts per key up to the limit, released to zero", "[limit_conn]") {
  LimitConnZone zone("addr", "$binary_remote_addr", 1 << 20);
  auto a = zone.acquire("k1", 2);
  auto b = zone.acquire("k1", 2);
  auto c = zone.acquire("k1", 2);
  CHECK(a.outcome == LimitConnZone::Outcome::counted);
  CHECK(b.outcome == LimitConnZone::Outcome::counted);
  CHECK(c.outcome == LimitConnZone::Outcome::over_limit);
  CHECK(a.node == b.node);
  CHECK(zone.acquire("k2", 2).outcome == LimitConnZone::Outcome::counted);
  CHECK(zone.count("k1") == 2);
  zone.release(a.node);
  CHECK(zone.count("k1") == 1);
  zone.release(b.node);
  CHECK(zone.count("k1") == 0);
  CHECK(zone.keys() == 1);
}

TEST_CASE("limit_conn zone: a 32k zone holds nginx's number of long keys", "[limit_conn]") {
  // The zone's own allocations take a 64-byte page (its tree) and a 32-byte
  // one (" in limit_conn_zone \"full\""): 5 pages left. A 240-byte key
  // costs 276 bytes: 512-byte chunks, 8 a page.
  LimitConnZone zone("full", "$remote_port", 32768);
  std::size_t held = 0;
  for (int i = 0; i < 100; ++i) {
    std::string key = std::to_string(10000 + i) + std::string(235, 'x');
    auto a = zone.acquire(key, 1);
    if (a.outcome == LimitConnZone::Outcome::no_memory) break;
    REQUIRE(a.outcome == LimitConnZone::Outcome::counted);
    ++held;
  }
  CHECK(held == 40);
  // Short keys still fit in the tree's 64-byte page: 63 of them.
  std::size_t shorter = 0;
  while (zone.acquire("s" + std::to_string(shorter), 1).outcome ==
         LimitConnZone::Outcome::counted) {
    ++shorter;
  }
  CHECK(shorter == 63);
}

TEST_CASE("limit_conn zone: several threads count in one zone", "[limit_conn]") {
  LimitConnZone zone("addr", "$remote_addr", 1 << 20);
  constexpr int kThreads = 4, kRounds = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&zone] {
      for (int i = 0; i < kRounds; ++i) {
        auto a = zone.acquire("shared", 1000000);
        REQUIRE(a.outcome == LimitConnZone::Outcome::counted);
        zone.release(a.node);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(zone.keys() == 0);
}

namespace {

struct Checked {
  proxyd::LimitConnVerdict verdict;
  std::size_t holds = 0;
};

proxyd::LimitConnRule rule(const std::shared_ptr<LimitConnZone>& zone, const std::string& key,
                           unsigned conn) {
  return {zone, *proxyd::Template::compile(key), conn};
}

}  // namespace

TEST_CASE("limit_conn check: statuses, lines and the counts a session keeps", "[limit_conn]") {
  auto addr = std::make_shared<LimitConnZone>("addr", "$remote_addr", 1 << 20);
  auto port = std::make_shared<LimitConnZone>("port", "$server_port", 1 << 20);
  proxyd::LimitConnPolicy policy;
  policy.rules = {rule(addr, "$remote_addr", 5), rule(port, "$server_port", 1)};
  proxyd::SessionRecord record;
  record.remote = *common::SocketAddress::fromNumeric("192.0.2.7", 4000);
  record.local = *common::SocketAddress::fromNumeric("127.0.0.1", 10443);
  proxyd::ProcessInfo proc;
  proxyd::SessionVariables vars(record, proc);

  proxyd::LimitConnHold first;
  auto v = proxyd::checkLimitConn(policy, vars, first);
  CHECK(v.status == LimitConnStatus::passed);
  CHECK_FALSE(v.reject);
  CHECK(v.lines.empty());
  CHECK(addr->count("192.0.2.7") == 1);
  CHECK(port->count("10443") == 1);

  {
    proxyd::LimitConnHold second;
    v = proxyd::checkLimitConn(policy, vars, second);
    CHECK(v.status == LimitConnStatus::rejected);
    CHECK(v.reject);
    REQUIRE(v.lines.size() == 1);
    CHECK(v.lines[0].level == common::LogLevel::error);
    CHECK(v.lines[0].text == "limiting connections by zone \"port\"");
    // The count the first rule took is given back at once (nginx's cleanup_all).
    CHECK(second.empty());
    CHECK(addr->count("192.0.2.7") == 1);

    policy.dry_run = true;
    policy.level = common::LogLevel::warn;
    v = proxyd::checkLimitConn(policy, vars, second);
    CHECK(v.status == LimitConnStatus::rejected_dry_run);
    CHECK_FALSE(v.reject);
    REQUIRE(v.lines.size() == 1);
    CHECK(v.lines[0].level == common::LogLevel::warn);
    CHECK(v.lines[0].text == "limiting connections, dry run, by zone \"port\"");
    CHECK(addr->count("192.0.2.7") == 1);
  }
  first.releaseAll();
  CHECK(addr->keys() == 0);
  CHECK(port->keys() == 0);
}

TEST_CASE("limit_conn check: empty and over-long keys are not counted", "[limit_conn]") {
  auto zone = std::make_shared<LimitConnZone>("z", "$ssl_preread_server_name", 1 << 20);
  proxyd::LimitConnPolicy policy;
  policy.rules = {rule(zone, "$ssl_preread_server_name", 1)};
  proxyd::SessionRecord record;
  proxyd::ProcessInfo proc;
  proxyd::SessionVariables vars(record, proc);
  proxyd::LimitConnHold hold;
  auto v = proxyd::checkLimitConn(policy, vars, hold);
  CHECK(v.status == LimitConnStatus::none);  // $limit_conn_status not found
  CHECK(hold.empty());

  auto long_zone = std::make_shared<LimitConnZone>("long", "x", 1 << 20);
  policy.rules = {rule(long_zone, std::string(256, 'k'), 1)};
  v = proxyd::checkLimitConn(policy, vars, hold);
  CHECK(v.status == LimitConnStatus::none);
  REQUIRE(v.lines.size() == 1);
  CHECK(v.lines[0].text.rfind("the value of the \"x\" key is more than 255 bytes: \"kkk", 0) == 0);
  CHECK(long_zone->keys() == 0);
}

TEST_CASE("limit_conn check: a full zone rejects with the slab's line", "[limit_conn]") {
  auto zone = std::make_shared<LimitConnZone>("tiny", "$remote_port", 32768);
  while (zone->acquire(std::to_string(zone->keys()) + std::string(240, 'y'), 1).outcome ==
         LimitConnZone::Outcome::counted) {
  }
  proxyd::LimitConnPolicy policy;
  policy.rules = {rule(zone, "${remote_port}" + std::string(240, 'z'), 1)};
  proxyd::SessionRecord record;
  record.remote = *common::SocketAddress::fromNumeric("127.0.0.1", 5555);
  proxyd::ProcessInfo proc;
  proxyd::SessionVariables vars(record, proc);
  proxyd::LimitConnHold hold;
  auto v = proxyd::checkLimitConn(policy, vars, hold);
  CHECK(v.reject);
  CHECK(v.status == LimitConnStatus::rejected);
  REQUIRE(v.lines.size() == 1);
  CHECK(v.lines[0].level == common::LogLevel::crit);
  CHECK(v.lines[0].main_log);
  CHECK(v.lines[0].text == "ngx_slab_alloc() failed: no memory in limit_conn_zone \"tiny\"");
}

TEST_CASE("limit_conn zones across a reload", "[limit_conn]") {
  std::vector<proxyd::LimitConnZoneSpec> specs = {{"addr", "$binary_remote_addr", 1 << 20, 1},
                                                  {"port", "$server_port", 1 << 20, 2}};
  auto first = proxyd::adoptZones(specs, {});
  REQUIRE(first);
  (void)(*first)[0]->acquire("k", 10);
  auto same = proxyd::adoptZones(specs, *first);
  REQUIRE(same);
  CHECK((*same)[0] == (*first)[0]);  // taken over: the count goes on
  CHECK((*same)[0]->count("k") == 1);
  auto resized = specs;
  resized[0].size = 2 << 20;
  auto fresh = proxyd::adoptZones(resized, *first);
  REQUIRE(fresh);
  CHECK((*fresh)[0] != (*first)[0]);
  CHECK((*fresh)[0]->count("k") == 0);
  CHECK((*fresh)[1] == (*first)[1]);
  auto rekeyed = specs;
  rekeyed[0].key = "$remote_addr";
  auto refused = proxyd::adoptZones(rekeyed, *first);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() ==
        "limit_conn_zone \"addr\" uses the \"$remote_addr\" key while previously it used the "
        "\"$binary_remote_addr\" key");
}

namespace {

std::string loadErrors(const std::string& main, const std::string& server) {
  common::Diagnostics diag;
  proxyd::parseProxyConfig("[main]\n" + main + "\n[server s]\nlisten = 127.0.0.1:1\n" +
                               "proxy_pass = 127.0.0.1:2\n" + server + "\n",
                           "/etc/proxyd/proxyd.ini", "/tmp", diag);
  std::string out;
  for (const auto& d : diag.items()) out += d.format() + "\n";
  return out;
}

}  // namespace

TEST_CASE("limit_conn keys: nginx's values and messages", "[limit_conn]") {
  const std::string zone = "limit_conn_zone = $binary_remote_addr zone=addr:10m";
  CHECK(loadErrors(zone,
                   "limit_conn = addr 10\nlimit_conn_log_level = warn\n"
                   "limit_conn_dry_run = on\nproxy_upload_rate = 1m\n"
                   "proxy_download_rate = $server_port")
            .empty());
  CHECK_THAT(loadErrors("limit_conn_zone = $remote_addr zone=addr:16k", ""),
             Catch::Contains("zone \"zone=addr:16k\" is too small"));
  CHECK_THAT(loadErrors("limit_conn_zone = $remote_addr zone=addr", ""),
             Catch::Contains("invalid zone size \"zone=addr\""));
  CHECK_THAT(loadErrors("limit_conn_zone = $remote_addr size=1m", ""),
             Catch::Contains("invalid parameter \"size=1m\""));
  CHECK_THAT(loadErrors("limit_conn_zone = $nosuch zone=a:1m", ""),
             Catch::Contains("unknown variable"));
  CHECK_THAT(loadErrors(zone + "\nlimit_conn_zone = $remote_addr zone=addr:1m", ""),
             Catch::Contains("is already bound to key \"$binary_remote_addr\""));
  CHECK_THAT(loadErrors(zone, "limit_conn = addr 0"),
             Catch::Contains("invalid number of connections \"0\""));
  CHECK_THAT(loadErrors(zone, "limit_conn = addr 65536"),
             Catch::Contains("connection limit must be less 65536"));
  CHECK_THAT(loadErrors(zone, "limit_conn = addr 1\nlimit_conn = addr 2"),
             Catch::Contains("\"limit_conn\" directive is duplicate"));
  CHECK_THAT(loadErrors(zone, "limit_conn = other 1"),
             Catch::Contains(":6: error: limit_conn: zero size shared memory zone \"other\""));
  CHECK_THAT(loadErrors(zone, "limit_conn_log_level = crit"), Catch::Contains("invalid value"));
  CHECK_THAT(loadErrors(zone, "proxy_upload_rate = -1"), Catch::Contains("proxy_upload_rate"));
}

TEST_CASE("rate limiter: nginx's budget and pauses on a fake clock", "[rate_limit]") {
  common::FakeClock clock;
  proxyd::RateLimiter r(128 * 1024, clock.now());
  // The first second's budget is one second of rate; a 16k read pauses
  // 16384 * 1000 / 131072 = 125 ms.
  CHECK(r.allowance(clock.now(), 0, 16384) == 16384);
  r.consumed(clock.now(), 16384);
  CHECK(r.allowance(clock.now(), 16384, 16384) == 0);
  CHECK(*r.resumeAt() == clock.now() + std::chrono::milliseconds(125));
  clock.advance(std::chrono::milliseconds(125));
  CHECK(r.allowance(clock.now(), 16384, 16384) == 16384);
  // Over budget: wait the deficit back (+1 ms, as nginx).
  CHECK(r.allowance(clock.now(), 131072 + 1000, 16384) == 0);
  CHECK(*r.resumeAt() == clock.now() + std::chrono::milliseconds(1000 * 1000 / 131072 + 1));
  // The budget caps a read.
  clock.advance(std::chrono::seconds(1));
  CHECK(r.allowance(clock.now(), 2 * 131072 - 100, 16384) == 100);
  // A read too small for a whole millisecond does not pause.
  proxyd::RateLimiter fast(1 << 30, clock.now());
  fast.consumed(clock.now(), 1000);
  CHECK_FALSE(fast.resumeAt());
}

TEST_CASE("rate limiter: 256 KiB at 128k/s take about two seconds", "[rate_limit]") {
  common::FakeClock clock;
  const auto start = clock.now();
  proxyd::RateLimiter r(128 * 1024, start);
  std::uint64_t got = 0;
  while (got < 256 * 1024) {
    std::size_t n = r.allowance(clock.now(), got, 16384);
    if (n == 0) {
      clock.set(*r.resumeAt());
      continue;
    }
    got += n;
    r.consumed(clock.now(), n);
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - start);
  CHECK(took.count() >= 1800);
  CHECK(took.count() <= 2100);
}
