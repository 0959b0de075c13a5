// An upstream group and its balancer, with nginx's passive health accounting
// (ngx_stream_upstream_round_robin.c and the hash, least_conn and random
// modules), matched decision for decision.
//
// nginx keeps this state per worker process; ours is per proxyd process and
// shared by all worker threads, so the group is internally locked.
//
// Servers with `resolve` change their addresses while running. The peers of
// the group are an immutable list (PeerSet) of shared Peer objects; a new
// answer publishes a new list under the lock, reusing the Peer of every
// address that stays, so its live state (fails, conns, counters, its place
// on the consistent-hash ring, which is built from server names) goes on. A
// session walks the list it began with to its end: its indices stay valid,
// and what it records lands on the shared Peers the new list has too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/clock.h"
#include "proxyd/core/consistent_hash.h"
#include "proxyd/core/upstream_server.h"

namespace proxyd {

enum class BalanceMethod {
  round_robin,      // smooth weighted round robin (the default)
  hash,             // hash KEY
  consistent_hash,  // hash KEY consistent (ketama)
  least_conn,
  random,
  random_two,  // random two [least_conn]
};

// One resolved address of a server: what nginx calls a peer.
struct Peer {
  std::size_t server_index = 0;  // in the group's configuration order
  bool backup = false;
  std::string server_name;  // the server as written; the ketama ring is built from it
  common::SocketAddress addr;
  std::string addr_text;  // addr.toString(), for $upstream_addr
  int weight = 1;
  int max_fails = 1;
  common::Duration fail_timeout = std::chrono::seconds(10);
  int max_conns = 0;
  bool down = false;

  // Live state, guarded by the group's mutex.
  int current_weight = 0;
  int effective_weight = 1;
  int fails = 0;
  int conns = 0;
  common::TimePoint accessed{};
  common::TimePoint checked{};
  std::uint64_t total_selected = 0;
  std::uint64_t total_failures = 0;

  // Active health checks (health_checker.h), guarded by the group's mutex.
  // An unhealthy peer is skipped by every balancer, as a `down` one is, until
  // `rise` checks pass; the passive max_fails accounting above still applies.
  bool health_checked = false;  // the group has a health_check
  bool unhealthy = false;
  std::uint64_t health_checks = 0;       // checks run
  std::uint64_t health_check_fails = 0;  // checks failed
  std::uint64_t unhealthy_times = 0;     // times the peer became unhealthy
  std::string last_check_error;          // why the last check failed; empty if it passed
};

// A run-time answer for one server: an address it stands for now.
struct ResolvedPeer {
  common::SocketAddress addr;  // with the port to connect to
  std::string name;            // the server's name, or the SRV target
  int weight = 1;
  bool backup = false;  // an SRV record of a priority other than the lowest
  bool operator==(const ResolvedPeer&) const = default;
};

// The peers of a group at one moment, and what the balancers derive from
// them. Never changed once published; the Peers' live state is (under the
// group's lock).
struct PeerSet {
  std::vector<std::shared_ptr<Peer>> primary;
  std::vector<std::shared_ptr<Peer>> backup;
  // nginx's peers->single: one primary peer and no backup. Such a group
  // never counts failures and never retries.
  bool single = false;
  // Sum of the primary peers' weights, down ones included (peers->total_weight).
  int total_weight = 0;
  // consistent_hash: the ring, and for each primary peer the id of its
  // server (peers written identically share one, as nginx compares names).
  KetamaRing ring;
  std::vector<std::uint32_t> server_id;
  // random: the weight of the primary peers before each one (nginx's ranges).
  std::vector<int> ranges;
};

class UpstreamGroup {
 public:
  // Random numbers for `random`; tests inject a deterministic source.
  using RandomSource = std::function<std::uint32_t()>;

  UpstreamGroup(std::string name, BalanceMethod method, std::vector<UpstreamServer> servers,
                RandomSource random = {});
  UpstreamGroup(const UpstreamGroup&) = delete;
  UpstreamGroup& operator=(const UpstreamGroup&) = delete;

  // nginx accepts `backup` only with round robin and least_conn (the other
  // methods leave NGX_STREAM_UPSTREAM_BACKUP out of their flags). The
  // constructor cannot fail, so the config loader checks this and reports
  // "balancing method does not support parameter \"backup\"".
  static bool allowsBackup(BalanceMethod method);

  const std::string& name() const { return name_; }
  BalanceMethod method() const { return method_; }

  // Per-session balancing state (nginx's per-request peer data): which peers
  // were tried, where the hash walk stands, how many tries are left.
  class Attempts {
   public:
    unsigned triesLeft() const { return tries_; }

   private:
    friend class UpstreamGroup;
    // The peer list the session walks: the group's own for a group without
    // `resolve` servers (it never changes), else the one held.
    const PeerSet* set_ = nullptr;
    std::shared_ptr<const PeerSet> hold_;
    std::vector<std::uint64_t> tried_;  // one bit per peer of the list being walked
    bool backup_ = false;               // walking the backup servers now
    int current_ = -1;                  // index of the peer of the running try, -1 if none
    unsigned tries_ = 0;
    std::uint32_t hash_ = 0;    // hash: accumulated value; consistent: ring position
    std::uint32_t rehash_ = 0;  // hash: the Cache::Memcached rehash counter
    unsigned hash_tries_ = 0;   // hash, consistent, random: steps before the RR fallback
    std::string key_;
  };

  // Starts a session: `key` is the rendered hash key (ignored unless the
  // method hashes). The try budget is the number of peers (primary plus
  // backup), capped by `max_tries` when it is not 0
  // (proxy_next_upstream_tries).
  Attempts begin(std::string key, unsigned max_tries = 0) const;

  // The peer for the next try, or nullptr when none can be used ("no live
  // upstreams": the log then shows the group's name). Counts the connection
  // against the peer (conns++).
  const Peer* choose(Attempts& a, common::TimePoint now);

  // The running try has established its connection (nginx's
  // NGX_STREAM_UPSTREAM_NOTIFY_CONNECT, ngx_stream_upstream_notify_round_robin_peer):
  // a probe that connects clears the server's fails at once, so sessions
  // opened while the probe is still running reach the server again. Waiting
  // for the session's end instead would let one session per fail_timeout
  // through for as long as that first (watch) session stays open.
  void connected(const Attempts& a);

  // Ends the running try. `failed` is true only for a failure to establish
  // the connection (connect error or timeout), as in nginx: errors after the
  // connection is up never count. Decrements the try budget.
  void release(Attempts& a, bool failed, common::TimePoint now);

  // A copy of every peer's state, primary then backup, for tests and the
  // status page.
  std::vector<Peer> snapshot() const;

  // Active health checks. enableHealthChecks marks every peer checked and,
  // with `mandatory`, unhealthy until its first check passes.
  // recordHealthCheck stores the result of one check of the peer at `index`
  // (snapshot() order) and its health after fall/rise counting; `error` is
  // empty when the check passed. When no peer is healthy the group has no
  // live upstream (502), as with every peer `down`.
  void enableHealthChecks(bool mandatory);
  void recordHealthCheck(std::size_t index, bool unhealthy, std::string error);

  // The servers as configured, in order (resolve ones included).
  const std::vector<UpstreamServer>& servers() const { return servers_; }
  // Whether some server is resolved at run time.
  bool resolvesAtRunTime() const { return dynamic_; }
  // A new answer for the `resolve` server at `server_index`: its peers
  // become `peers` (none: it has no address now). Peers whose address, name,
  // weight and list are unchanged keep their state; the others start fresh,
  // as nginx's zone resolver adds and removes them. Returns whether the peer
  // list changed.
  bool setResolved(std::size_t server_index, std::vector<ResolvedPeer> peers);

 private:
  using PeerList = std::vector<std::shared_ptr<Peer>>;
  std::string name_;
  BalanceMethod method_;
  RandomSource random_;
  std::vector<UpstreamServer> servers_;
  bool dynamic_ = false;
  mutable std::mutex mu_;
  // The current peers; replaced (never changed) under mu_ when a `resolve`
  // server's answer changes, so a group without one reads it unlocked.
  std::shared_ptr<const PeerSet> set_;
  // The latest answer of each server resolved at run time (by index).
  std::vector<std::vector<ResolvedPeer>> resolved_;
  bool health_checked_ = false;
  bool health_mandatory_ = false;

  // Builds the peer list from servers_ and resolved_, reusing the Peers of
  // `old` that stay (null at construction).
  std::shared_ptr<const PeerSet> buildPeers(const PeerSet* old) const;
  std::shared_ptr<Peer> newPeer(const UpstreamServer& server, std::size_t index,
                                const ResolvedPeer& rp) const;
  // The balancers, nginx's get_*_peer functions; all run with mu_ held. Each
  // returns the chosen peer with conns counted, or nullptr.
  static const PeerList& peersOf(const Attempts& a) {
    return a.backup_ ? a.set_->backup : a.set_->primary;
  }
  static bool tried(const Attempts& a, std::size_t i) { return a.tried_[i / 64] >> (i % 64) & 1; }
  static void markTried(Attempts& a, std::size_t i) {
    a.tried_[i / 64] |= std::uint64_t{1} << (i % 64);
  }
  static void take(Attempts& a, Peer& peer, std::size_t i, common::TimePoint now);
  void switchToBackup(Attempts& a);
  Peer* getRoundRobin(Attempts& a, common::TimePoint now);
  Peer* getSmoothWeighted(Attempts& a, const PeerList& peers, common::TimePoint now);
  Peer* getLeastConn(Attempts& a, common::TimePoint now);
  Peer* getHash(Attempts& a, common::TimePoint now);
  Peer* getConsistentHash(Attempts& a, common::TimePoint now);
  Peer* getRandom(Attempts& a, common::TimePoint now);
  Peer* getRandomTwo(Attempts& a, common::TimePoint now);
  std::size_t peekRandom(const PeerSet& s);
};

}  // namespace proxyd
