// A deterministic discrete-event simulation of 2-4 VRRP state machines on a
// simulated broadcast segment (STYLE.md "Time is injected"): per-packet delay
// and loss, partitions that heal, crashes (silent), graceful stops (priority
// 0), restarts, faults, priority changes and deleted VIPs, all drawn from a
// seeded std::mt19937. No sockets, no real time: each run is a loop over an
// event queue. Checked, for thousands of seeds:
//  (a) once the network is clean for 5 x Master_Down_Interval, exactly one
//      MASTER among the live, non-faulted nodes, and no more transitions;
//  (b) after the master crashes, a new master within the Master_Down_Interval
//      of the best remaining backup plus the network delay (RFC 5798 6.4.2);
//  (c) after a graceful stop (priority 0), within its Skew_Time plus delay;
//  (d) a recovered nopreempt node does not take the VIPs back; a preempting
//      higher one does;
// and, after every input, that the VIPs are held exactly by MASTERs, that a
// MASTER has its advert timer and a BACKUP its master down timer running, and
// that GARPs are only sent for VIPs that are held.
//
// On a failure the seed and the event trace are printed. Replay one seed:
//   VRRP_SIM_SEED=1234 ./unit_tests "vrrp simulation*"
// More or fewer runs: VRRP_SIM_RUNS=20000. A summary: VRRP_SIM_VERBOSE=1.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <queue>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ip_address.h"
#include "vrrpd/core/vrrp_state_machine.h"

using namespace std::chrono_literals;
using common::Duration;
using common::TimePoint;
using vrrpd::Actions;
using vrrpd::AdvertIn;
using vrrpd::MachineConfig;
using vrrpd::State;
using vrrpd::TimerKind;
using vrrpd::VrrpStateMachine;

namespace {

constexpr int kTimerKinds = static_cast<int>(TimerKind::garp_refresh) + 1;

int timerIndex(TimerKind k) {
  return static_cast<int>(k);
}

double secs(Duration d) {
  return std::chrono::duration<double>(d).count();
}

struct SimFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Node {
  MachineConfig cfg;
  std::optional<VrrpStateMachine> m;
  bool alive = false;
  bool faulted = false;  // what the trackers say (kept across restarts)
  std::uint64_t incarnation = 0;
  std::array<std::uint64_t, kTimerKinds> timer_gen{};
  std::array<bool, kTimerKinds> timer_pending{};
  bool vips = false;         // holds the VIPs
  State seen = State::init;  // state according to the Transition actions
  int group = 0;             // partition: nodes talk only within a group
};

struct Event {
  TimePoint at;
  std::uint64_t seq;
  bool is_timer;
  int node;
  TimerKind kind;
  std::uint64_t gen;
  std::uint64_t incarnation;
  AdvertIn advert;
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

struct TransitionRecord {
  TimePoint at;
  int node;
  State from;
  State to;
};

// What the runs measured, over all seeds.
struct Stats {
  int runs = 0;
  int crash_checks = 0;
  int stop_checks = 0;
  int nopreempt_checks = 0;      // (d) with a recovered node of higher priority
  int preempt_back_checks = 0;   // (d) preempting higher node took over
  double max_crash_latency = 0;  // seconds
  double max_crash_ratio = 0;    // latency / bound
  double max_stop_latency = 0;
  double max_stop_ratio = 0;
  std::uint64_t events = 0;
};

class Simulation {
 public:
  Simulation(std::uint32_t seed, bool trace, Stats& stats)
      : rng_(seed), trace_on_(trace), stats_(stats) {}

  // Returns the failure, or nothing.
  std::optional<std::string> run() {
    try {
      scenario();
    } catch (const SimFailure& e) {
      return std::string(e.what());
    }
    return std::nullopt;
  }

  const std::vector<std::string>& trace() const { return trace_; }
  std::size_t headerLines() const { return header_lines_; }  // the configuration

 private:
  // ---- random draws -------------------------------------------------------
  int uniformInt(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  Duration uniformDuration(Duration lo, Duration hi) {
    return Duration(std::uniform_int_distribution<Duration::rep>(lo.count(), hi.count())(rng_));
  }

  // ---- tracing and failing ------------------------------------------------
  template <class... Args>
  void note(fmt::format_string<Args...> f, Args&&... args) {
    if (!trace_on_) return;
    trace_.push_back(fmt::format("[{:10.6f}] ", secs(now_ - start_)) +
                     fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
    throw SimFailure(fmt::format("t={:.6f}: ", secs(now_ - start_)) +
                     fmt::format(f, std::forward<Args>(args)...));
  }

  // ---- the network --------------------------------------------------------
  bool linked(int a, int b) const { return nodes_[a].group == nodes_[b].group; }

  void push(Event e) {
    e.seq = seq_++;
    queue_.push(e);
  }

  void send(int from, std::uint8_t priority) {
    const Node& n = nodes_[from];
    note("n{} sends advert priority {}", from, priority);
    for (int to = 0; to < static_cast<int>(nodes_.size()); ++to) {
      if (to == from) continue;
      if (!linked(from, to)) {
        note("  -> n{} partitioned", to);
        continue;
      }
      if (loss_ > 0 && chance(loss_)) {
        note("  -> n{} lost", to);
        continue;
      }
      // Per-packet delay, but a link keeps its order (a switch does not
      // reorder one sender's packets; a priority 0 overtaken by the advert
      // before it would be lost in effect).
      TimePoint at =
          std::max(now_ + uniformDuration(Duration::zero(), max_delay_), link_free_[from][to]);
      link_free_[from][to] = at;
      Event e{};
      e.at = at;
      e.is_timer = false;
      e.node = to;
      e.advert = AdvertIn{priority, n.cfg.primary, n.cfg.advert_interval};
      push(e);
    }
  }

  // ---- carrying out actions -----------------------------------------------
  void apply(int i, const Actions& actions) {
    Node& n = nodes_[i];
    for (const auto& action : actions) {
      std::visit(
          [&](const auto& a) {
            using T = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<T, vrrpd::SendAdvert>) {
              send(i, a.priority);
            } else if constexpr (std::is_same_v<T, vrrpd::AddVips>) {
              if (n.vips) fail("n{}: AddVips while holding the VIPs", i);
              n.vips = true;
              note("n{} adds VIPs", i);
            } else if constexpr (std::is_same_v<T, vrrpd::DelVips>) {
              if (!n.vips) fail("n{}: DelVips without holding the VIPs", i);
              n.vips = false;
              note("n{} removes VIPs", i);
            } else if constexpr (std::is_same_v<T, vrrpd::SendGratuitous>) {
              if (!n.vips) fail("n{}: GARP for VIPs it does not hold", i);
              ++garps_;
            } else if constexpr (std::is_same_v<T, vrrpd::ArmTimer>) {
              if (a.after < Duration::zero()) fail("n{}: negative timer", i);
              int k = timerIndex(a.kind);
              ++n.timer_gen[k];
              n.timer_pending[k] = true;
              Event e{};
              e.at = now_ + a.after;
              e.is_timer = true;
              e.node = i;
              e.kind = a.kind;
              e.gen = n.timer_gen[k];
              e.incarnation = n.incarnation;
              push(e);
              note("n{} arms {} for {:.6f} s", i, vrrpd::timerName(a.kind), secs(a.after));
            } else if constexpr (std::is_same_v<T, vrrpd::CancelTimer>) {
              int k = timerIndex(a.kind);
              ++n.timer_gen[k];
              n.timer_pending[k] = false;
            } else if constexpr (std::is_same_v<T, vrrpd::Transition>) {
              if (a.from != n.seen) {
                fail("n{}: Transition from {} but it was {}", i, vrrpd::stateName(a.from),
                     vrrpd::stateName(n.seen));
              }
              n.seen = a.to;
              transitions_.push_back({now_, i, a.from, a.to});
              note("n{} {} -> {} ({})", i, vrrpd::stateName(a.from), vrrpd::stateName(a.to),
                   a.cause);
            }
          },
          action);
    }
    checkNode(i);
  }

  void checkNode(int i) {
    const Node& n = nodes_[i];
    if (!n.alive) return;
    State s = n.m->state();
    if (s != n.seen) {
      fail("n{}: state {} but transitions say {}", i, vrrpd::stateName(s),
           vrrpd::stateName(n.seen));
    }
    if (n.vips != (s == State::master)) {
      fail("n{}: {} and {} the VIPs", i, vrrpd::stateName(s), n.vips ? "holds" : "does not hold");
    }
    if (s == State::master && !n.timer_pending[timerIndex(TimerKind::advert)]) {
      fail("n{}: MASTER without an advert timer", i);
    }
    if (s == State::backup && !n.timer_pending[timerIndex(TimerKind::master_down)]) {
      fail("n{}: BACKUP without a master down timer", i);
    }
  }

  // ---- node life ----------------------------------------------------------
  void start(int i) {
    Node& n = nodes_[i];
    ++n.incarnation;
    n.timer_pending.fill(false);
    for (auto& g : n.timer_gen) ++g;
    n.m.emplace(n.cfg);
    n.alive = true;
    n.vips = false;
    n.seen = State::init;
    note("n{} starts (priority {}, {}{}{})", i, n.cfg.priority,
         n.cfg.preempt ? "preempt" : "nopreempt", n.cfg.initial_master ? ", state MASTER" : "",
         n.faulted ? ", faulted" : "");
    apply(i, n.m->onStartup(now_));
    // As the instance does: a fault known at start is reported right after.
    if (n.faulted) apply(i, n.m->onFault(true, "fault at start", now_));
  }

  void crash(int i) {
    Node& n = nodes_[i];
    note("n{} crashes", i);
    n.alive = false;
    n.m.reset();
    n.vips = false;  // the host is gone, and its addresses with it
    ++n.incarnation;
  }

  void stop(int i) {
    Node& n = nodes_[i];
    note("n{} stops", i);
    apply(i, n.m->onShutdown(now_));
    if (n.vips) fail("n{}: still holds the VIPs after stopping", i);
    n.alive = false;
    n.m.reset();
    ++n.incarnation;
  }

  void setFault(int i, bool faulted) {
    Node& n = nodes_[i];
    n.faulted = faulted;
    note("n{} fault {}", i, faulted ? "on" : "off");
    if (n.alive) apply(i, n.m->onFault(faulted, faulted ? "tracker failed" : "tracker ok", now_));
  }

  // ---- the event loop -----------------------------------------------------
  void runUntil(TimePoint end) {
    while (!queue_.empty() && queue_.top().at <= end) {
      Event e = queue_.top();
      queue_.pop();
      now_ = e.at;
      if (++events_ > 5'000'000) fail("runaway simulation");
      Node& n = nodes_[e.node];
      if (!n.alive) continue;
      if (e.is_timer) {
        int k = timerIndex(e.kind);
        if (e.incarnation != n.incarnation || e.gen != n.timer_gen[k]) continue;  // replaced
        n.timer_pending[k] = false;
        note("n{} timer {}", e.node, vrrpd::timerName(e.kind));
        apply(e.node, n.m->onTimer(e.kind, now_));
      } else {
        note("n{} receives priority {} from {}", e.node, e.advert.priority,
             e.advert.src.toString());
        apply(e.node, n.m->onAdvert(e.advert, now_));
      }
    }
    now_ = end;
  }

  // ---- helpers for the checks ---------------------------------------------
  std::vector<int> liveNodes(bool with_faulted) const {
    std::vector<int> out;
    for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
      if (nodes_[i].alive && (with_faulted || !nodes_[i].faulted)) out.push_back(i);
    }
    return out;
  }

  std::vector<int> masters() const {
    std::vector<int> out;
    for (int i : liveNodes(true)) {
      if (nodes_[i].m->state() == State::master) out.push_back(i);
    }
    return out;
  }

  // (a): exactly one MASTER among the live non-faulted nodes (none if there
  // are none), and no transition in the last Master_Down_Interval.
  int checkOneMaster(const char* when, TimePoint quiet_since) {
    std::vector<int> m = masters();
    std::size_t want = liveNodes(false).empty() ? 0 : 1;
    if (m.size() != want) {
      fail("{}: {} masters among live nodes, expected {}", when, m.size(), want);
    }
    for (auto it = transitions_.rbegin(); it != transitions_.rend() && it->at > quiet_since; ++it) {
      fail("{}: n{} still changing state ({} -> {}) at t={:.6f}", when, it->node,
           vrrpd::stateName(it->from), vrrpd::stateName(it->to), secs(it->at - start_));
    }
    return m.empty() ? -1 : m[0];
  }

  std::optional<TimePoint> firstNewMaster(TimePoint since) const {
    for (const auto& t : transitions_) {
      if (t.at >= since && t.to == State::master) return t.at;
    }
    return std::nullopt;
  }

  // RFC 5798 6.1 (v3) / RFC 3768 6.1 (v2), with the node's effective
  // priority; every node here has the same advert interval.
  Duration rfcSkewTime(int i) const {
    const MachineConfig& c = nodes_[i].cfg;
    Duration unit = c.version == 3 ? c.advert_interval : Duration(1s);
    return unit * (256 - nodes_[i].m->priority()) / 256;
  }
  Duration rfcMasterDownInterval(int i) const {
    return 3 * nodes_[i].cfg.advert_interval + rfcSkewTime(i);
  }

  void cleanNetwork() {
    loss_ = 0;
    for (auto& n : nodes_) n.group = 0;
    note("network clean");
  }

  // ---- the scenario -------------------------------------------------------
  void configure() {
    int count = uniformInt(2, 4);
    int version = chance(0.5) ? 2 : 3;
    Duration advert = version == 2 ? Duration(1s) : Duration(uniformInt(10, 100) * 10ms);
    bool all_nopreempt = chance(0.3);
    bool ties = chance(0.3);
    std::array<int, 4> octets{10, 20, 100, 200};  // numeric order differs from text order
    std::shuffle(octets.begin(), octets.end(), rng_);
    max_delay_ = uniformDuration(Duration::zero(), 20ms);
    nodes_.resize(count);
    for (int i = 0; i < count; ++i) {
      MachineConfig& c = nodes_[i].cfg;
      c.version = version;
      c.advert_interval = advert;
      c.priority = static_cast<std::uint8_t>(ties ? (chance(0.5) ? 100 : 150) : uniformInt(1, 254));
      if (i == 0 && chance(0.1)) c.priority = 255;
      c.preempt = all_nopreempt ? false : chance(0.6);
      c.initial_master = chance(0.15);
      if (chance(0.15)) c.preempt_delay = uniformInt(1, 3) * 1s;
      if (chance(0.1)) c.garp_master_refresh = 10 * advert;
      c.primary = *common::IpAddress::parse(fmt::format("192.0.2.{}", octets[i]));
      max_preempt_delay_ = std::max(max_preempt_delay_, c.preempt_delay);
      note("n{}: {} v{} advert {:.2f} s priority {} {}{}{}", i, c.primary.toString(), c.version,
           secs(c.advert_interval), c.priority, c.preempt ? "preempt" : "nopreempt",
           c.initial_master ? " state MASTER" : "",
           c.preempt_delay > Duration::zero()
               ? fmt::format(" preempt_delay {:.0f} s", secs(c.preempt_delay))
               : "");
    }
    // The longest Master_Down_Interval any node can have (priority 1).
    mdi_max_ = 3 * advert + (version == 3 ? advert : Duration(1s));
    note("max delay {:.6f} s", secs(max_delay_));
    header_lines_ = trace_.size();
  }

  void chaos() {
    enum Kind {
      start_node,
      network,
      crash_node,
      stop_node,
      restart,
      fault,
      priority,
      vips_lost,
      heal
    };
    struct Step {
      TimePoint at;
      Kind kind;
      int node;
    };
    Duration advert = nodes_[0].cfg.advert_interval;
    Duration length = uniformInt(5, 15) * mdi_max_;
    std::vector<Step> steps;
    for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
      steps.push_back({start_ + uniformDuration(Duration::zero(), advert), start_node, i});
    }
    int count = uniformInt(3, 15);
    for (int j = 0; j < count; ++j) {
      steps.push_back({start_ + uniformDuration(Duration::zero(), length),
                       static_cast<Kind>(uniformInt(network, heal)), -1});
    }
    std::stable_sort(steps.begin(), steps.end(),
                     [](const Step& a, const Step& b) { return a.at < b.at; });
    if (chance(0.5)) loss_ = std::uniform_real_distribution<double>(0, 0.3)(rng_);

    auto pick = [&](bool alive) -> int {
      std::vector<int> c;
      for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
        if (nodes_[i].alive == alive) c.push_back(i);
      }
      return c.empty() ? -1 : c[uniformInt(0, static_cast<int>(c.size()) - 1)];
    };

    for (const Step& s : steps) {
      runUntil(s.at);
      switch (s.kind) {
        case start_node:
          start(s.node);
          break;
        case network:
          loss_ = std::uniform_real_distribution<double>(0, 0.3)(rng_);
          if (chance(0.5)) {
            for (auto& n : nodes_) n.group = uniformInt(0, 1);
          }
          note("network: loss {:.2f}, groups {}{}{}{}", loss_, nodes_[0].group,
               nodes_.size() > 1 ? nodes_[1].group : 0, nodes_.size() > 2 ? nodes_[2].group : 0,
               nodes_.size() > 3 ? nodes_[3].group : 0);
          break;
        case crash_node:
          if (int i = pick(true); i >= 0) crash(i);
          break;
        case stop_node:
          if (int i = pick(true); i >= 0) stop(i);
          break;
        case restart:
          if (int i = pick(false); i >= 0) start(i);
          break;
        case fault: {
          int i = uniformInt(0, static_cast<int>(nodes_.size()) - 1);
          setFault(i, !nodes_[i].faulted);
          break;
        }
        case priority:
          if (int i = pick(true); i >= 0) {
            auto p = static_cast<std::uint8_t>(uniformInt(1, 254));
            note("n{} effective priority {}", i, p);
            apply(i, nodes_[i].m->onPriority(p, now_));
          }
          break;
        case vips_lost: {
          std::vector<int> m = masters();
          if (!m.empty()) {
            int i = m[uniformInt(0, static_cast<int>(m.size()) - 1)];
            note("n{} loses a VIP", i);
            apply(i, nodes_[i].m->onVipsLost(now_));
          }
          break;
        }
        case heal:
          cleanNetwork();
          break;
      }
    }
    runUntil(now_ + uniformDuration(Duration::zero(), advert));
  }

  void scenario() {
    now_ = start_ = TimePoint{} + std::chrono::hours(1);
    configure();
    Duration settle = 5 * mdi_max_ + max_preempt_delay_;
    Duration advert = nodes_[0].cfg.advert_interval;

    chaos();

    // Heal: clean network, most crashed nodes back, most faults cleared.
    cleanNetwork();
    for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
      if (!nodes_[i].alive && chance(0.8)) start(i);
      if (nodes_[i].faulted && chance(0.7)) setFault(i, false);
    }
    runUntil(now_ + settle);
    int master = checkOneMaster("(a) after the network healed", now_ - mdi_max_);

    // (b) The master crashes on a clean network.
    std::vector<int> backups = liveNodes(false);
    std::erase(backups, master);
    if (master < 0 || backups.empty()) return;
    runUntil(now_ + uniformDuration(Duration::zero(), advert));
    // The bound from the RFC's formulas, not from the machine under test.
    Duration bound = Duration::max();
    for (int i : backups) bound = std::min(bound, rfcMasterDownInterval(i));
    bound += max_delay_;
    TimePoint t0 = now_;
    crash(master);
    runUntil(t0 + bound + mdi_max_);
    auto taken = firstNewMaster(t0);
    if (!taken) fail("(b) no new master after the master crashed");
    Duration latency = *taken - t0;
    if (latency > bound) {
      fail("(b) takeover after a crash took {:.6f} s, bound {:.6f} s", secs(latency), secs(bound));
    }
    ++stats_.crash_checks;
    stats_.max_crash_latency = std::max(stats_.max_crash_latency, secs(latency));
    stats_.max_crash_ratio = std::max(stats_.max_crash_ratio, secs(latency) / secs(bound));
    runUntil(now_ + settle);
    master = checkOneMaster("(a) after the crash", now_ - mdi_max_);

    // (c) The new master stops gracefully (priority 0).
    backups = liveNodes(false);
    std::erase(backups, master);
    if (master < 0 || backups.empty()) return;
    runUntil(now_ + uniformDuration(Duration::zero(), advert));
    bound = Duration::max();
    for (int i : backups) bound = std::min(bound, rfcSkewTime(i));
    bound += max_delay_;
    TimePoint t1 = now_;
    int stopped = master;
    stop(stopped);
    runUntil(t1 + bound + mdi_max_);
    taken = firstNewMaster(t1);
    if (!taken) fail("(c) no new master after the master stopped");
    latency = *taken - t1;
    if (latency > bound) {
      fail("(c) takeover after priority 0 took {:.6f} s, bound {:.6f} s", secs(latency),
           secs(bound));
    }
    ++stats_.stop_checks;
    stats_.max_stop_latency = std::max(stats_.max_stop_latency, secs(latency));
    stats_.max_stop_ratio = std::max(stats_.max_stop_ratio, secs(latency) / secs(bound));
    runUntil(now_ + settle);
    master = checkOneMaster("(a) after the graceful stop", now_ - mdi_max_);
    if (master < 0) return;

    // (d) The stopped node comes back.
    const MachineConfig& rc = nodes_[stopped].cfg;
    bool nopreempt = !rc.preempt && !rc.initial_master && rc.priority != 255;
    std::uint8_t master_priority = nodes_[master].m->priority();
    std::size_t seen = transitions_.size();
    if (nodes_[stopped].faulted) setFault(stopped, false);
    start(stopped);
    runUntil(now_ + settle);
    int final_master = checkOneMaster("(d) after the old master came back", now_ - mdi_max_);
    if (nopreempt) {
      for (std::size_t k = seen; k < transitions_.size(); ++k) {
        const auto& t = transitions_[k];
        if (t.to == State::master || t.from == State::master) {
          fail("(d) nopreempt n{} came back but n{} went {} -> {}", stopped, t.node,
               vrrpd::stateName(t.from), vrrpd::stateName(t.to));
        }
      }
      if (rc.priority > master_priority) ++stats_.nopreempt_checks;
    } else if (rc.priority > master_priority) {
      if (final_master != stopped) {
        fail("(d) preempting n{} (priority {}) came back but n{} (priority {}) is master", stopped,
             rc.priority, final_master, master_priority);
      }
      ++stats_.preempt_back_checks;
    } else if (rc.priority < master_priority && final_master != master) {
      fail("(d) lower n{} came back and n{} replaced n{} as master", stopped, final_master, master);
    }
  }

  std::mt19937 rng_;
  bool trace_on_;
  Stats& stats_;
  std::vector<std::string> trace_;
  std::size_t header_lines_ = 0;

  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::uint64_t seq_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t garps_ = 0;
  TimePoint start_{};
  TimePoint now_{};
  double loss_ = 0;
  Duration max_delay_{};
  Duration max_preempt_delay_{};
  Duration mdi_max_{};
  std::vector<TransitionRecord> transitions_;
  std::array<std::array<TimePoint, 4>, 4> link_free_{};  // last delivery per (from, to)

 public:
  ~Simulation() { stats_.events += events_; }
};

std::string replay(std::uint32_t seed, const std::string& failure) {
  Stats ignored;
  Simulation sim(seed, true, ignored);
  sim.run();
  const auto& t = sim.trace();
  std::string out = fmt::format(
      "seed {} failed: {}\nreplay: VRRP_SIM_SEED={} ./unit_tests "
      "\"vrrp simulation*\"\ntrace ({} lines",
      seed, failure, seed, t.size());
  std::size_t head = std::min(sim.headerLines(), t.size());
  std::size_t from = std::max(head, t.size() > 400 ? t.size() - 400 : 0);
  out += from > head ? ", the configuration and the last 400):\n" : "):\n";
  for (std::size_t i = 0; i < head; ++i) out += t[i] + "\n";
  if (from > head) out += "  ...\n";
  for (std::size_t i = from; i < t.size(); ++i) out += t[i] + "\n";
  return out;
}

}  // namespace

TEST_CASE("vrrp simulation: one master, RFC failover bounds, nopreempt", "[vrrp_simulation]") {
  Stats stats;
  if (const char* one = std::getenv("VRRP_SIM_SEED")) {
    auto seed = static_cast<std::uint32_t>(std::strtoul(one, nullptr, 10));
    Simulation sim(seed, true, stats);
    auto failure = sim.run();
    for (const auto& line : sim.trace()) fmt::print("{}\n", line);
    if (failure) FAIL(fmt::format("seed {}: {}", seed, *failure));
    return;
  }
  int runs = 2000;
  if (const char* r = std::getenv("VRRP_SIM_RUNS")) runs = std::atoi(r);
  for (int k = 0; k < runs; ++k) {
    auto seed = static_cast<std::uint32_t>(k + 1);
    std::optional<std::string> failure;
    {
      Simulation sim(seed, false, stats);
      failure = sim.run();
    }
    ++stats.runs;
    if (failure) FAIL(replay(seed, *failure));
  }
  if (std::getenv("VRRP_SIM_VERBOSE")) {
    fmt::print(
        "vrrp simulation: {} runs, {} events; crash takeovers {} (max {:.3f} s, {:.1f}% of "
        "bound); priority-0 takeovers {} (max {:.3f} s, {:.1f}% of bound); nopreempt checks {}, "
        "preempt-back checks {}\n",
        stats.runs, stats.events, stats.crash_checks, stats.max_crash_latency,
        100 * stats.max_crash_ratio, stats.stop_checks, stats.max_stop_latency,
        100 * stats.max_stop_ratio, stats.nopreempt_checks, stats.preempt_back_checks);
  }
  // The scenarios must actually have been exercised.
  CHECK(stats.crash_checks > runs / 4);
  CHECK(stats.stop_checks > runs / 8);
  CHECK(stats.nopreempt_checks > runs / 50);
  CHECK(stats.preempt_back_checks > runs / 50);
}
