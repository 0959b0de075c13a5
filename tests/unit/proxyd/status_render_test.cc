#include "proxyd/core/status_render.h"
#include "tests/unit/support/addresses.h"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace proxyd;

namespace {

common::SocketAddress addr(const char* host, std::uint16_t port = 1234) {
  return test_support::socketAddress(host, port);
}

StatsSnapshot sample() {
  StatsSnapshot s;
  s.process.version = "0.1.0";
  s.process.hostname = "lb1";
  s.process.pid = 42;
  s.process.start_time = 1795000000.0;
  s.process.now = 1795000010.5;
  s.process.config_path = "/etc/proxyd/proxyd.ini";
  s.process.generation = 3;
  s.process.reloads_ok = 2;
  s.process.reloads_failed = 1;
  s.process.worker_connections = 1024;
  WorkerSnapshot w0;
  w0.accepted = 10;
  w0.handled = 9;
  w0.active = 2;
  w0.accept_pauses = 1;
  w0.udp_sessions = 4;
  w0.udp_dropped = 6;
  w0.heartbeat_age = 0.1;
  WorkerSnapshot w1 = w0;
  w1.accepted = 5;
  w1.handled = 5;
  w1.active = 1;
  s.workers = {w0, w1};
  ServerSnapshot sv;
  sv.name = "k8s";
  sv.listen = {"0.0.0.0:10443"};
  sv.active = 3;
  sv.total = 14;
  sv.by_status[0] = 10;  // 200
  sv.by_status[4] = 1;   // 502
  sv.client_received = 100;
  sv.client_sent = 200;
  sv.connect_buckets[0] = 2;  // <= 0.5 ms
  sv.connect_buckets[3] = 1;  // <= 5 ms
  sv.connect_buckets.back() = 1;
  sv.connect_count = 4;
  sv.connect_sum_us = 3500000;
  s.servers = {sv};
  GroupSnapshot g;
  g.name = "api";
  g.method = "consistent_hash";
  PeerSnapshot a;
  a.server = "192.0.2.11:6443";
  a.addr = "192.0.2.11:6443";
  PeerSnapshot b = a;
  b.server = b.addr = "192.0.2.12:6443";
  b.state = "failed";
  b.failed_until = 1795000020.25;
  b.fails = 3;
  b.max_fails = 3;
  b.failures = 7;
  b.last_error = "connect() failed (111: Connection refused)";
  b.last_error_time = 1795000009.0;
  g.peers = {a, b};
  s.groups = {g};
  return s;
}

}  // namespace

TEST_CASE("stub_status is nginx's text byte for byte, trailing spaces included") {
  auto s = sample();
  CHECK(renderStubStatus(s) ==
        "Active connections: 3 \n"
        "server accepts handled requests\n"
        " 15 14 14 \n"
        "Reading: 0 Writing: 3 Waiting: 0 \n");
  StatsSnapshot empty;
  CHECK(renderStubStatus(empty) ==
        "Active connections: 0 \nserver accepts handled requests\n 0 0 0 \n"
        "Reading: 0 Writing: 0 Waiting: 0 \n");
}

TEST_CASE("GET / is 200 while every worker stamps its heartbeat, 503 when one stalls") {
  auto s = sample();
  auto ok = renderEndpoint("/", s);
  CHECK(ok.code == 200);
  CHECK(ok.body == "proxyd lb1 ok\n");
  s.workers[1].heartbeat_age = 2.5;
  auto bad = renderEndpoint("/", s);
  CHECK(bad.code == 503);
  CHECK(bad.body == "proxyd lb1 worker 1 stalled: no heartbeat for 2.5 s\n");
}

TEST_CASE("/ready is 503 only when no server of any group is usable") {
  auto s = sample();
  CHECK(renderEndpoint("/ready", s).code == 200);
  s.groups[0].peers[0].state = "unhealthy";
  auto r = renderEndpoint("/ready", s);
  CHECK(r.code == 503);
  CHECK(r.body == "not ready: no usable upstream server\napi: 0/2 usable\n");
  s.groups[0].peers[0].state = "down";
  CHECK(renderEndpoint("/ready", s).code == 503);
}

TEST_CASE("access list first match wins, then only GET and HEAD") {
  std::vector<AccessRule> rules = {{true, *common::Cidr::parse("127.0.0.0/8")},
                                   {false, *common::Cidr::parse("all")}};
  CHECK_FALSE(admitStatusRequest("GET", addr("127.0.0.1"), rules));
  CHECK_FALSE(admitStatusRequest("HEAD", addr("127.0.0.1"), rules));
  auto denied = admitStatusRequest("GET", addr("192.0.2.1"), rules);
  REQUIRE(denied);
  CHECK(denied->code == 403);
  auto post = admitStatusRequest("OTHER", addr("127.0.0.1"), rules);
  REQUIRE(post);
  CHECK(post->code == 405);
  CHECK(post->allow_header);
  CHECK_FALSE(admitStatusRequest("GET", addr("192.0.2.1"), {}));  // no rules: allowed
}

TEST_CASE("unknown paths are 404, content types per endpoint") {
  auto s = sample();
  CHECK(renderEndpoint("/nope", s).code == 404);
  CHECK(renderEndpoint("/status", s).content_type == "application/json");
  CHECK(renderEndpoint("/metrics", s).content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(renderEndpoint("/stub_status", s).content_type == "text/plain");
}

TEST_CASE("/status JSON carries listeners, groups with peer states, process info") {
  auto doc = nlohmann::json::parse(renderStatusJson(sample()));
  CHECK(doc["process"]["hostname"] == "lb1");
  CHECK(doc["process"]["config_generation"] == 3);
  CHECK(doc["process"]["reloads"] == 2);
  CHECK(doc["process"]["reload_failures"] == 1);
  CHECK(doc["process"]["workers"] == 2);
  CHECK(doc["process"]["uptime_seconds"] == 10.5);
  CHECK(doc["process"]["start_time"] == "2026-11-18T11:06:40.000Z");
  auto l = doc["listeners"][0];
  CHECK(l["server"] == "k8s");
  CHECK(l["sessions"]["active"] == 3);
  CHECK(l["sessions"]["total"] == 14);
  CHECK(l["status"]["502"] == 1);
  CHECK(l["bytes"]["from_client"] == 100);
  auto g = doc["upstreams"][0];
  CHECK(g["name"] == "api");
  CHECK(g["usable"] == 1);
  CHECK(g["servers"][0]["state"] == "up");
  CHECK(g["servers"][0]["failed_until"].is_null());
  CHECK(g["servers"][1]["state"] == "failed");
  CHECK(g["servers"][1]["failed_until"] == "2026-11-18T11:07:00.250Z");
  CHECK(g["servers"][1]["fails"] == 3);
  CHECK(g["servers"][1]["failures"] == 7);
  CHECK(g["servers"][1]["last_error"]["text"] == "connect() failed (111: Connection refused)");
  CHECK(doc["workers"][0]["accept_pauses"] == 1);
  CHECK(doc["workers"][0]["udp_sessions"] == 4);
  CHECK(doc["workers"][1]["udp_dropped"] == 6);
}

TEST_CASE("/metrics is Prometheus text with proxyd_ names and a cumulative histogram") {
  std::string m = renderMetrics(sample());
  auto has = [&](const std::string& line) {
    INFO(line);
    CHECK(m.find(line + "\n") != std::string::npos);
  };
  has("# TYPE proxyd_sessions_total counter");
  has("proxyd_sessions_total{server=\"k8s\",status=\"200\"} 10");
  has("proxyd_sessions_total{server=\"k8s\",status=\"502\"} 1");
  has("proxyd_sessions_active{server=\"k8s\"} 3");
  has("proxyd_received_bytes_total{server=\"k8s\",side=\"client\"} 100");
  has("proxyd_sent_bytes_total{server=\"k8s\",side=\"client\"} 200");
  has("# TYPE proxyd_upstream_connect_seconds histogram");
  has("proxyd_upstream_connect_seconds_bucket{server=\"k8s\",le=\"0.0005\"} 2");
  has("proxyd_upstream_connect_seconds_bucket{server=\"k8s\",le=\"0.005\"} 3");
  has("proxyd_upstream_connect_seconds_bucket{server=\"k8s\",le=\"2.5\"} 3");
  has("proxyd_upstream_connect_seconds_bucket{server=\"k8s\",le=\"+Inf\"} 4");
  has("proxyd_upstream_connect_seconds_sum{server=\"k8s\"} 3.5");
  has("proxyd_upstream_connect_seconds_count{server=\"k8s\"} 4");
  has("proxyd_upstream_server_state{upstream=\"api\",server=\"192.0.2.12:6443\","
      "addr=\"192.0.2.12:6443\",state=\"failed\"} 1");
  has("proxyd_upstream_server_state{upstream=\"api\",server=\"192.0.2.12:6443\","
      "addr=\"192.0.2.12:6443\",state=\"up\"} 0");
  has("proxyd_upstream_server_failures_total{upstream=\"api\",server=\"192.0.2.12:6443\","
      "addr=\"192.0.2.12:6443\"} 7");
  has("proxyd_reloads_total{result=\"ok\"} 2");
  has("proxyd_reloads_total{result=\"failed\"} 1");
  has("proxyd_config_generation 3");
  has("proxyd_accept_pauses_total 2");
  has("proxyd_connections_accepted_total 15");
  has("proxyd_connections_handled_total 14");
  has("proxyd_udp_sessions_active 8");
  has("proxyd_udp_dropped_datagrams_total 12");
  // Every sample line belongs to a family announced by # TYPE.
  std::size_t pos = 0;
  while (pos < m.size()) {
    std::size_t end = m.find('\n', pos);
    std::string line = m.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("#", 0) == 0) continue;
    std::string name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s(suffix);
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0 &&
          m.find("# TYPE " + name + " ") == std::string::npos) {
        name.resize(name.size() - s.size());
      }
    }
    INFO(line);
    CHECK(m.find("# TYPE " + name + " ") != std::string::npos);
  }
}

TEST_CASE("label values are escaped") {
  auto s = sample();
  s.servers[0].name = "a\"b\\c";
  std::string m = renderMetrics(s);
  CHECK(m.find("proxyd_sessions_active{server=\"a\\\"b\\\\c\"} 3\n") != std::string::npos);
}

TEST_CASE("a peer's state: up, failed until checked + fail_timeout, down") {
  Peer p;
  p.server_name = p.addr_text = "127.0.0.1:1";
  p.max_fails = 2;
  p.fail_timeout = std::chrono::seconds(10);
  common::TimePoint now = common::TimePoint{} + std::chrono::hours(1);
  auto wall = std::chrono::system_clock::time_point{} + std::chrono::seconds(1795000000);
  CHECK(describePeer(p, now, wall).state == "up");
  p.fails = 2;
  p.checked = now - std::chrono::seconds(4);
  auto f = describePeer(p, now, wall);
  CHECK(f.state == "failed");
  REQUIRE(f.failed_until);
  CHECK(*f.failed_until == Approx(1795000006.0));
  p.checked = now - std::chrono::seconds(11);  // window over: a probe may go
  CHECK(describePeer(p, now, wall).state == "up");
  p.down = true;
  CHECK(describePeer(p, now, wall).state == "down");
  p.down = false;
  p.fails = 0;
  p.unhealthy = true;
  CHECK(describePeer(p, now, wall).state == "unhealthy");
}

TEST_CASE("the status page's own connection counters are in /status and /metrics") {
  StatsSnapshot s = sample();
  s.status_page.active = 3;
  s.status_page.accepted = 40;
  s.status_page.denied = 1000;
  s.status_page.shed = 7;
  s.status_page.timed_out = 2;
  s.status_page.refused = 5;
  auto doc = nlohmann::json::parse(renderStatusJson(s));
  CHECK(doc["status_page"] == nlohmann::json{{"active", 3},
                                             {"accepted", 40},
                                             {"denied", 1000},
                                             {"shed", 7},
                                             {"timed_out", 2},
                                             {"refused", 5}});
  std::string m = renderMetrics(s);
  CHECK_THAT(m, Catch::Contains("# TYPE proxyd_status_denied_total counter\n"
                                "proxyd_status_denied_total 1000\n"));
  CHECK_THAT(m, Catch::Contains("\nproxyd_status_connections_active 3\n"));
  CHECK_THAT(m, Catch::Contains("\nproxyd_status_connections_total 40\n"));
  CHECK_THAT(m, Catch::Contains("\nproxyd_status_shed_total 7\n"));
  CHECK_THAT(m, Catch::Contains("\nproxyd_status_timed_out_total 2\n"));
  CHECK_THAT(m, Catch::Contains("\nproxyd_status_refused_total 5\n"));
}
