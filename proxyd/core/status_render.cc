#include "proxyd/core/status_render.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

#include <nlohmann/json.hpp>

namespace proxyd {

namespace {

// The active health checker's verdict on a peer, when the group has one
// (the Peer field comes with health_checker.h; absent, every peer is healthy).
template <class P>
bool peerUnhealthy(const P& p) {
  if constexpr (requires { p.unhealthy; }) {
    return p.unhealthy;
  } else {
    return false;
  }
}

double toUnix(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

StatusReply text(int code, std::string reason, std::string body) {
  return StatusReply{code, std::move(reason), "text/plain", std::move(body), false};
}

// Prometheus label values escape backslash, double quote and newline.
std::string label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Prometheus floats: integers without a decimal point, others with enough digits.
std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

class Metrics {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(const std::string& name, const std::string& labels, const std::string& value) {
    if (labels.empty()) {
      out_ += fmt::format("{} {}\n", name, value);
    } else {
      out_ += fmt::format("{}{{{}}} {}\n", name, labels, value);
    }
  }
  void sample(const std::string& name, const std::string& labels, std::uint64_t value) {
    sample(name, labels, std::to_string(value));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

int GroupSnapshot::usable() const {
  int n = 0;
  for (const PeerSnapshot& p : peers) n += p.usable() ? 1 : 0;
  return n;
}

std::string balanceMethodName(BalanceMethod method) {
  switch (method) {
    case BalanceMethod::round_robin:
      return "round_robin";
    case BalanceMethod::hash:
      return "hash";
    case BalanceMethod::consistent_hash:
      return "consistent_hash";
    case BalanceMethod::least_conn:
      return "least_conn";
    case BalanceMethod::random:
      return "random";
    case BalanceMethod::random_two:
      return "random_two";
  }
  return "unknown";
}

PeerSnapshot describePeer(const Peer& peer, common::TimePoint now,
                          std::chrono::system_clock::time_point wall_now) {
  PeerSnapshot s;
  s.server = peer.server_name;
  s.addr = peer.addr_text;
  s.weight = peer.weight;
  s.fails = peer.fails;
  s.max_fails = peer.max_fails;
  s.active = peer.conns;
  s.max_conns = peer.max_conns;
  s.selected = peer.total_selected;
  s.failures = peer.total_failures;
  if (peer.down) {
    s.state = "down";
  } else if (peerUnhealthy(peer)) {
    s.state = "unhealthy";
  } else if (peer.max_fails != 0 && peer.fails >= peer.max_fails &&
             now - peer.checked <= peer.fail_timeout) {
    // The balancers' failedNow(): skipped until checked + fail_timeout.
    s.state = "failed";
    auto left = peer.checked + peer.fail_timeout - now;
    s.failed_until = toUnix(wall_now) + std::chrono::duration<double>(left).count();
  }
  return s;
}

std::string formatUnixTime(double unix_seconds) {
  auto whole = static_cast<std::time_t>(std::floor(unix_seconds));
  int ms = static_cast<int>(std::lround((unix_seconds - static_cast<double>(whole)) * 1000));
  if (ms >= 1000) {
    ++whole;
    ms -= 1000;
  }
  std::tm tm{};
  gmtime_r(&whole, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

std::optional<StatusReply> admitStatusRequest(const std::string& method,
                                              const common::SocketAddress& client,
                                              const std::vector<AccessRule>& rules) {
  for (const AccessRule& rule : rules) {
    if (!rule.cidr.contains(client)) continue;
    if (!rule.allow) return text(403, "Forbidden", "403 Forbidden\n");
    break;
  }
  if (method != "GET" && method != "HEAD") {
    StatusReply r = text(405, "Method Not Allowed", "405 Method Not Allowed\n");
    r.allow_header = true;
    return r;
  }
  return std::nullopt;
}

StatusReply renderRoot(const StatsSnapshot& snap) {
  // The track script's check: 200 only while every worker loop turns.
  for (std::size_t i = 0; i < snap.workers.size(); ++i) {
    double age = snap.workers[i].heartbeat_age;
    if (age > kWorkerStallSeconds) {
      return text(503, "Service Unavailable",
                  fmt::format("proxyd {} worker {} stalled: no heartbeat for {:.1f} s\n",
                              snap.process.hostname, i, age));
    }
  }
  return text(200, "OK", fmt::format("proxyd {} ok\n", snap.process.hostname));
}

StatusReply renderReady(const StatsSnapshot& snap) {
  int usable = 0;
  std::string detail;
  for (const GroupSnapshot& g : snap.groups) {
    usable += g.usable();
    detail += fmt::format("{}: {}/{} usable\n", g.name, g.usable(), g.peers.size());
  }
  if (usable == 0) {
    return text(503, "Service Unavailable",
                fmt::format("not ready: no usable upstream server\n{}", detail));
  }
  return text(200, "OK", fmt::format("ready\n{}", detail));
}

// nginx's ngx_http_stub_status_module output, with the trailing spaces. For
// a stream proxy: every session is one "request"; sessions are counted as
// "Writing" (relaying), nothing is "Reading" or "Waiting".
std::string renderStubStatus(const StatsSnapshot& snap) {
  std::uint64_t active = 0, accepted = 0, handled = 0;
  for (const WorkerSnapshot& w : snap.workers) {
    active += w.active;
    accepted += w.accepted;
    handled += w.handled;
  }
  return fmt::format(
      "Active connections: {} \nserver accepts handled requests\n {} {} {} \n"
      "Reading: {} Writing: {} Waiting: {} \n",
      active, accepted, handled, handled, 0, active, 0);
}

namespace {

using OrderedJson = nlohmann::ordered_json;

OrderedJson processJson(const StatsSnapshot& snap) {
  using json = OrderedJson;
  const ProcessSnapshot& p = snap.process;
  json proc = {
      {"version", p.version},
      {"hostname", p.hostname},
      {"pid", p.pid},
      {"start_time", formatUnixTime(p.start_time)},
      {"uptime_seconds", std::floor((p.now - p.start_time) * 1000) / 1000},
      {"config_path", p.config_path},
      {"config_generation", p.generation},
      {"reloads", p.reloads_ok},
      {"reload_failures", p.reloads_failed},
      {"last_reload", nullptr},
      {"workers", snap.workers.size()},
      {"worker_connections", p.worker_connections},
      {"rlimit_nofile", p.rlimit_nofile},
      {"open_fds", p.open_fds < 0 ? json(nullptr) : json(p.open_fds)},
  };
  if (p.last_reload_time) {
    proc["last_reload"] = {{"time", formatUnixTime(*p.last_reload_time)},
                           {"ok", p.last_reload_ok},
                           {"errors", p.last_reload_errors}};
  }
  return proc;
}

OrderedJson workersJson(const std::vector<WorkerSnapshot>& all) {
  OrderedJson workers = OrderedJson::array();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const WorkerSnapshot& w = all[i];
    workers.push_back({{"id", i},
                       {"active", w.active},
                       {"accepted", w.accepted},
                       {"handled", w.handled},
                       {"accept_pauses", w.accept_pauses},
                       {"access_log_lost_lines", w.access_log_lost_lines},
                       {"udp_sessions", w.udp_sessions},
                       {"udp_dropped", w.udp_dropped},
                       {"heartbeat_age_seconds", std::round(w.heartbeat_age * 1000) / 1000}});
  }
  return workers;
}

OrderedJson listenerJson(const ServerSnapshot& s) {
  OrderedJson status = OrderedJson::object();
  for (std::size_t i = 0; i < kSessionStatuses.size(); ++i) {
    status[std::to_string(kSessionStatuses[i])] = s.by_status[i];
  }
  return {{"server", s.name},
          {"listen", s.listen},
          {"sessions", {{"active", s.active}, {"total", s.total}}},
          {"status", status},
          {"bytes",
           {{"from_client", s.client_received},
            {"to_client", s.client_sent},
            {"to_upstream", s.upstream_sent},
            {"from_upstream", s.upstream_received}}},
          {"connect_failures", s.connect_failures}};
}

OrderedJson peerJson(const PeerSnapshot& pe) {
  OrderedJson j = {
      {"server", pe.server},       {"addr", pe.addr},           {"backup", pe.backup},
      {"state", pe.state},         {"failed_until", nullptr},   {"weight", pe.weight},
      {"fails", pe.fails},         {"max_fails", pe.max_fails}, {"active", pe.active},
      {"max_conns", pe.max_conns}, {"selected", pe.selected},   {"failures", pe.failures},
      {"last_error", nullptr}};
  if (pe.failed_until) j["failed_until"] = formatUnixTime(*pe.failed_until);
  if (pe.last_error) {
    j["last_error"] = {{"text", *pe.last_error},
                       {"time", formatUnixTime(pe.last_error_time.value_or(0))}};
  }
  return j;
}

OrderedJson groupJson(const GroupSnapshot& g) {
  OrderedJson peers = OrderedJson::array();
  for (const PeerSnapshot& pe : g.peers) peers.push_back(peerJson(pe));
  return {{"name", g.name}, {"method", g.method}, {"usable", g.usable()}, {"servers", peers}};
}

}  // namespace

std::string renderStatusJson(const StatsSnapshot& snap) {
  OrderedJson doc;
  doc["process"] = processJson(snap);
  doc["workers"] = workersJson(snap.workers);
  const StatusPageStats& sp = snap.status_page;
  doc["status_page"] = {{"active", sp.active},       {"accepted", sp.accepted},
                        {"denied", sp.denied},       {"shed", sp.shed},
                        {"timed_out", sp.timed_out}, {"refused", sp.refused}};
  OrderedJson listeners = OrderedJson::array();
  for (const ServerSnapshot& s : snap.servers) listeners.push_back(listenerJson(s));
  doc["listeners"] = listeners;
  OrderedJson groups = OrderedJson::array();
  for (const GroupSnapshot& g : snap.groups) groups.push_back(groupJson(g));
  doc["upstreams"] = groups;
  return doc.dump(2) + "\n";
}

namespace {

// The /metrics exposition, one family after another in a fixed order (the
// tests and dashboards read it as text), written in named steps.
void addProcessMetrics(Metrics& m, const StatsSnapshot& snap) {
  const ProcessSnapshot& p = snap.process;
  m.family("proxyd_build_info", "gauge", "Version of the running proxyd.");
  m.sample("proxyd_build_info", fmt::format("version=\"{}\"", label(p.version)), 1);
  m.family("proxyd_start_time_seconds", "gauge", "Start time of the process (Unix time).");
  m.sample("proxyd_start_time_seconds", "", num(p.start_time));
  m.family("proxyd_config_generation", "gauge",
           "Configuration generation: 1 at start, +1 per reload.");
  m.sample("proxyd_config_generation", "", p.generation);
  m.family("proxyd_reloads_total", "counter", "Configuration reloads by result.");
  m.sample("proxyd_reloads_total", "result=\"ok\"", p.reloads_ok);
  m.sample("proxyd_reloads_total", "result=\"failed\"", p.reloads_failed);
  m.family("proxyd_workers", "gauge", "Worker threads (event loops).");
  m.sample("proxyd_workers", "", snap.workers.size());
}

void addWorkerMetrics(Metrics& m, const StatsSnapshot& snap) {
  std::uint64_t accepted = 0, handled = 0, pauses = 0;
  for (const WorkerSnapshot& w : snap.workers) {
    accepted += w.accepted;
    handled += w.handled;
    pauses += w.accept_pauses;
  }
  m.family("proxyd_connections_accepted_total", "counter", "Client connections accepted.");
  m.sample("proxyd_connections_accepted_total", "", accepted);
  m.family("proxyd_connections_handled_total", "counter",
           "Client connections handled (not refused for worker_connections).");
  m.sample("proxyd_connections_handled_total", "", handled);
  m.family("proxyd_accept_pauses_total", "counter",
           "Times accepting paused for 500 ms on EMFILE/ENFILE.");
  m.sample("proxyd_accept_pauses_total", "", pauses);
  std::uint64_t lost_lines = 0;
  for (const WorkerSnapshot& w : snap.workers) lost_lines += w.access_log_lost_lines;
  m.family("proxyd_access_log_lost_lines_total", "counter",
           "Access log lines not written (full disk or another write error): whole lines are "
           "written or none.");
  m.sample("proxyd_access_log_lost_lines_total", "", lost_lines);
  std::uint64_t udp_sessions = 0, udp_dropped = 0;
  for (const WorkerSnapshot& w : snap.workers) {
    udp_sessions += w.udp_sessions;
    udp_dropped += w.udp_dropped;
  }
  m.family("proxyd_udp_sessions_active", "gauge", "UDP sessions (client addresses) now.");
  m.sample("proxyd_udp_sessions_active", "", udp_sessions);
  m.family("proxyd_udp_dropped_datagrams_total", "counter",
           "Datagrams dropped: a full socket buffer, or no room for a new UDP session.");
  m.sample("proxyd_udp_dropped_datagrams_total", "", udp_dropped);
  m.family("proxyd_worker_heartbeat_age_seconds", "gauge",
           "Seconds since each worker loop last ran its heartbeat.");
  for (std::size_t i = 0; i < snap.workers.size(); ++i) {
    m.sample("proxyd_worker_heartbeat_age_seconds", fmt::format("worker=\"{}\"", i),
             fmt::format("{:.3f}", snap.workers[i].heartbeat_age));
  }
}

void addStatusPageMetrics(Metrics& m, const StatusPageStats& sp) {
  m.family("proxyd_status_connections_active", "gauge", "Status page connections open now.");
  m.sample("proxyd_status_connections_active", "", sp.active);
  m.family("proxyd_status_connections_total", "counter",
           "Status page connections accepted from allowed addresses.");
  m.sample("proxyd_status_connections_total", "", sp.accepted);
  m.family("proxyd_status_denied_total", "counter",
           "Status page connections closed at accept by allow/deny.");
  m.sample("proxyd_status_denied_total", "", sp.denied);
  m.family("proxyd_status_shed_total", "counter",
           "Status page connections closed to admit a newer one (the busiest address's oldest).");
  m.sample("proxyd_status_shed_total", "", sp.shed);
  m.family("proxyd_status_timed_out_total", "counter",
           "Status page connections closed unanswered at the request deadline.");
  m.sample("proxyd_status_timed_out_total", "", sp.timed_out);
  m.family("proxyd_status_refused_total", "counter",
           "Status page requests refused as oversized or malformed.");
  m.sample("proxyd_status_refused_total", "", sp.refused);
}

// Per [server]: sessions by $status and bytes by side.
void addServerMetrics(Metrics& m, const std::vector<ServerSnapshot>& servers) {
  m.family("proxyd_sessions_active", "gauge", "Sessions running now, by [server].");
  for (const ServerSnapshot& s : servers) {
    m.sample("proxyd_sessions_active", fmt::format("server=\"{}\"", label(s.name)), s.active);
  }
  m.family("proxyd_sessions_total", "counter", "Finished sessions by [server] and $status.");
  for (const ServerSnapshot& s : servers) {
    for (std::size_t i = 0; i < kSessionStatuses.size(); ++i) {
      m.sample("proxyd_sessions_total",
               fmt::format("server=\"{}\",status=\"{}\"", label(s.name), kSessionStatuses[i]),
               s.by_status[i]);
    }
  }
  m.family("proxyd_received_bytes_total", "counter",
           "Bytes received, by [server] and side (client or upstream).");
  for (const ServerSnapshot& s : servers) {
    m.sample("proxyd_received_bytes_total",
             fmt::format("server=\"{}\",side=\"client\"", label(s.name)), s.client_received);
    m.sample("proxyd_received_bytes_total",
             fmt::format("server=\"{}\",side=\"upstream\"", label(s.name)), s.upstream_received);
  }
  m.family("proxyd_sent_bytes_total", "counter",
           "Bytes sent, by [server] and side (client or upstream).");
  for (const ServerSnapshot& s : servers) {
    m.sample("proxyd_sent_bytes_total", fmt::format("server=\"{}\",side=\"client\"", label(s.name)),
             s.client_sent);
    m.sample("proxyd_sent_bytes_total",
             fmt::format("server=\"{}\",side=\"upstream\"", label(s.name)), s.upstream_sent);
  }
}

void addUpstreamConnectMetrics(Metrics& m, const std::vector<ServerSnapshot>& servers) {
  m.family("proxyd_upstream_connect_failures_total", "counter",
           "Upstream tries that could not connect, by [server].");
  for (const ServerSnapshot& s : servers) {
    m.sample("proxyd_upstream_connect_failures_total", fmt::format("server=\"{}\"", label(s.name)),
             s.connect_failures);
  }
  m.family("proxyd_upstream_connect_seconds", "histogram",
           "Time to establish upstream connections, by [server].");
  for (const ServerSnapshot& s : servers) {
    std::uint64_t cumulative = 0;
    std::string srv = label(s.name);
    for (std::size_t i = 0; i < kConnectTimeBuckets.size(); ++i) {
      cumulative += s.connect_buckets[i];
      m.sample("proxyd_upstream_connect_seconds_bucket",
               fmt::format("server=\"{}\",le=\"{}\"", srv, num(kConnectTimeBuckets[i])),
               cumulative);
    }
    cumulative += s.connect_buckets.back();
    m.sample("proxyd_upstream_connect_seconds_bucket",
             fmt::format("server=\"{}\",le=\"+Inf\"", srv), cumulative);
    m.sample("proxyd_upstream_connect_seconds_sum", fmt::format("server=\"{}\"", srv),
             num(static_cast<double>(s.connect_sum_us) / 1e6));
    m.sample("proxyd_upstream_connect_seconds_count", fmt::format("server=\"{}\"", srv),
             s.connect_count);
  }
}

// Per upstream server of each group.
void addUpstreamServerMetrics(Metrics& m, const std::vector<GroupSnapshot>& groups) {
  auto peer_labels = [](const GroupSnapshot& g, const PeerSnapshot& pe) {
    return fmt::format("upstream=\"{}\",server=\"{}\",addr=\"{}\"", label(g.name), label(pe.server),
                       label(pe.addr));
  };
  m.family("proxyd_upstream_server_state", "gauge",
           "1 for the state each upstream server is in (up, failed, down, unhealthy).");
  for (const GroupSnapshot& g : groups) {
    for (const PeerSnapshot& pe : g.peers) {
      for (const char* st : {"up", "failed", "down", "unhealthy"}) {
        m.sample("proxyd_upstream_server_state",
                 fmt::format("{},state=\"{}\"", peer_labels(g, pe), st), pe.state == st ? 1 : 0);
      }
    }
  }
  m.family("proxyd_upstream_server_fails", "gauge",
           "Failures counted towards max_fails in the current window.");
  for (const GroupSnapshot& g : groups) {
    for (const PeerSnapshot& pe : g.peers) {
      m.sample("proxyd_upstream_server_fails", peer_labels(g, pe),
               static_cast<std::uint64_t>(pe.fails));
    }
  }
  m.family("proxyd_upstream_server_failures_total", "counter",
           "Connect failures of each upstream server.");
  for (const GroupSnapshot& g : groups) {
    for (const PeerSnapshot& pe : g.peers) {
      m.sample("proxyd_upstream_server_failures_total", peer_labels(g, pe), pe.failures);
    }
  }
  m.family("proxyd_upstream_server_selected_total", "counter",
           "Times each upstream server was chosen for a try.");
  for (const GroupSnapshot& g : groups) {
    for (const PeerSnapshot& pe : g.peers) {
      m.sample("proxyd_upstream_server_selected_total", peer_labels(g, pe), pe.selected);
    }
  }
  m.family("proxyd_upstream_server_active", "gauge", "Sessions on each upstream server now.");
  for (const GroupSnapshot& g : groups) {
    for (const PeerSnapshot& pe : g.peers) {
      m.sample("proxyd_upstream_server_active", peer_labels(g, pe),
               static_cast<std::uint64_t>(pe.active));
    }
  }
}

}  // namespace

std::string renderMetrics(const StatsSnapshot& snap) {
  Metrics m;
  addProcessMetrics(m, snap);
  addWorkerMetrics(m, snap);
  addStatusPageMetrics(m, snap.status_page);
  addServerMetrics(m, snap.servers);
  addUpstreamConnectMetrics(m, snap.servers);
  addUpstreamServerMetrics(m, snap.groups);
  return m.take();
}

StatusReply renderEndpoint(const std::string& path, const StatsSnapshot& snap) {
  if (path == "/") return renderRoot(snap);
  if (path == "/stub_status") return text(200, "OK", renderStubStatus(snap));
  if (path == "/status") {
    return StatusReply{200, "OK", "application/json", renderStatusJson(snap), false};
  }
  if (path == "/metrics") {
    return StatusReply{200, "OK", "text/plain; version=0.0.4; charset=utf-8", renderMetrics(snap),
                       false};
  }
  if (path == "/ready") return renderReady(snap);
  return text(404, "Not Found", "404 Not Found\n");
}

}  // namespace proxyd
