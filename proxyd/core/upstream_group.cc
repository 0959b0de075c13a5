// The balancers and the passive health accounting of an upstream group, after
// nginx's src/stream/ngx_stream_upstream_round_robin.c and the hash,
// least_conn and random modules. Each get* function below names the nginx
// function it follows; the decisions (which peers are skipped, which counters
// move, when) are the same, in the same order.
//
// Time: nginx compares whole seconds (ngx_time()); we compare
// common::TimePoint at full precision. The comparisons are written exactly as
// nginx writes them (`now - checked <= fail_timeout` skips a failed peer,
// `now - checked > fail_timeout` opens a new probe window), so a peer comes
// back after fail_timeout plus a moment here, where nginx needs fail_timeout
// plus up to one second.
#include "proxyd/core/upstream_group.h"

#include <algorithm>
#include <random>
#include <string>

#include "proxyd/core/crc32.h"

namespace proxyd {
namespace {

using common::TimePoint;

// Where nginx's balancers bail out of a hash or random walk and use round
// robin instead.
constexpr unsigned kMaxWalk = 20;

// The default RandomSource: xorshift64*, one per thread so that workers never
// share (or lock) a generator; seeded from std::random_device.
std::uint32_t threadLocalRandom() {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    std::uint64_t s = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    return s != 0 ? s : 0x9e3779b97f4a7c15ull;
  }();
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return static_cast<std::uint32_t>((state * 0x2545f4914f6cdd1dull) >> 32);
}

// The max_fails / fail_timeout test every nginx balancer makes.
bool failedNow(const Peer& peer, TimePoint now) {
  return peer.max_fails != 0 && peer.fails >= peer.max_fails &&
         now - peer.checked <= peer.fail_timeout;
}

// Skipped by every balancer next to `down`: failing its active health check.
bool failingCheck(const Peer& peer) {
  return peer.unhealthy;
}

bool full(const Peer& peer) {
  return peer.max_conns != 0 && peer.conns >= peer.max_conns;
}

// The tests every balancer makes before it considers a peer: not `down`,
// not failing its health check, not inside a max_fails window, not at
// max_conns. (Whether this session already tried it is the caller's.)
bool usable(const Peer& peer, TimePoint now) {
  return !peer.down && !failingCheck(peer) && !failedNow(peer, now) && !full(peer);
}

}  // namespace

bool UpstreamGroup::allowsBackup(BalanceMethod method) {
  return method == BalanceMethod::round_robin || method == BalanceMethod::least_conn;
}

UpstreamGroup::UpstreamGroup(std::string name, BalanceMethod method,
                             std::vector<UpstreamServer> servers, RandomSource random)
    : name_(std::move(name)),
      method_(method),
      random_(random ? std::move(random) : RandomSource(threadLocalRandom)),
      servers_(std::move(servers)) {
  dynamic_ = std::any_of(servers_.begin(), servers_.end(),
                         [](const UpstreamServer& sv) { return sv.resolve; });
  resolved_.resize(servers_.size());
  set_ = buildPeers(nullptr);
}

std::shared_ptr<Peer> UpstreamGroup::newPeer(const UpstreamServer& server, std::size_t index,
                                             const ResolvedPeer& rp) const {
  auto peer = std::make_shared<Peer>();
  peer->server_index = index;
  peer->backup = rp.backup;
  peer->server_name = rp.name;
  peer->addr = rp.addr;
  peer->addr_text = rp.addr.toString();
  peer->weight = rp.weight;
  peer->max_fails = server.max_fails;
  peer->fail_timeout = server.fail_timeout;
  peer->max_conns = server.max_conns;
  peer->down = server.down;
  peer->effective_weight = rp.weight;
  peer->health_checked = health_checked_;
  peer->unhealthy = health_mandatory_;
  if (health_mandatory_) peer->last_check_error = "not checked yet (mandatory)";
  return peer;
}

// ngx_stream_upstream_init_round_robin: one peer per address, primary and
// backup servers in two lists, each in configuration order.
std::shared_ptr<const PeerSet> UpstreamGroup::buildPeers(const PeerSet* old) const {
  auto set = std::make_shared<PeerSet>();
  std::vector<std::shared_ptr<Peer>> reusable;
  if (old != nullptr) {
    reusable = old->primary;
    reusable.insert(reusable.end(), old->backup.begin(), old->backup.end());
  }
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    const UpstreamServer& server = servers_[i];
    std::vector<ResolvedPeer> wanted = resolved_[i];
    if (!server.resolve) {
      for (const common::SocketAddress& addr : server.addrs) {
        wanted.push_back({addr, server.name, server.weight, server.backup});
      }
    }
    for (const ResolvedPeer& rp : wanted) {
      auto same = std::find_if(reusable.begin(), reusable.end(), [&](const auto& p) {
        return p && p->server_index == i && p->addr == rp.addr && p->server_name == rp.name &&
               p->weight == rp.weight && p->backup == rp.backup;
      });
      std::shared_ptr<Peer> peer;
      if (same != reusable.end()) {
        peer = std::move(*same);  // taken: an address listed twice gets two peers
      } else {
        peer = newPeer(server, i, rp);
      }
      (rp.backup ? set->backup : set->primary).push_back(std::move(peer));
    }
  }

  set->single = set->primary.size() == 1 && set->backup.empty();
  for (const auto& peer : set->primary) {
    set->ranges.push_back(set->total_weight);
    set->total_weight += peer->weight;
  }

  if (method_ == BalanceMethod::consistent_hash) {
    std::vector<KetamaRing::Member> members;
    for (std::size_t i = 0; i < set->primary.size(); ++i) {
      std::uint32_t id = static_cast<std::uint32_t>(i);
      for (std::size_t j = 0; j < i; ++j) {
        if (set->primary[j]->server_name == set->primary[i]->server_name) {
          id = set->server_id[j];
          break;
        }
      }
      set->server_id.push_back(id);
      members.push_back({set->primary[i]->server_name, set->primary[i]->weight, id});
    }
    set->ring = KetamaRing(members);
  }
  return set;
}

bool UpstreamGroup::setResolved(std::size_t server_index, std::vector<ResolvedPeer> peers) {
  std::lock_guard<std::mutex> lock(mu_);
  if (server_index >= servers_.size() || !servers_[server_index].resolve) return false;
  if (resolved_[server_index] == peers) return false;
  resolved_[server_index] = std::move(peers);
  set_ = buildPeers(set_.get());
  return true;
}

UpstreamGroup::Attempts UpstreamGroup::begin(std::string key, unsigned max_tries) const {
  Attempts a;
  if (dynamic_) {
    std::lock_guard<std::mutex> lock(mu_);
    a.hold_ = set_;
  }
  // A group without `resolve` servers never replaces its list: no lock.
  a.set_ = dynamic_ ? a.hold_.get() : set_.get();
  const PeerSet& s = *a.set_;
  // ngx_stream_upstream_init_round_robin_peer: the tried bitmap covers the
  // longer of the two lists; the budget is the number of peers not marked
  // `down` in both lists (peers->tries, ngx_stream_upstream_tries), cut to
  // proxy_next_upstream_tries.
  std::size_t longest = std::max(s.primary.size(), s.backup.size());
  a.tried_.assign((longest + 63) / 64 + 1, 0);
  auto up = [](const auto& p) { return !p->down; };
  a.tries_ = static_cast<unsigned>(std::count_if(s.primary.begin(), s.primary.end(), up) +
                                   std::count_if(s.backup.begin(), s.backup.end(), up));
  if (max_tries != 0 && a.tries_ > max_tries) a.tries_ = max_tries;

  if (method_ == BalanceMethod::hash || method_ == BalanceMethod::consistent_hash) {
    a.key_ = std::move(key);
  }
  // ngx_stream_upstream_init_chash_peer: the walk starts at the first point
  // at or after crc32(key). A published list never changes, so no lock is
  // needed to read its ring.
  if (method_ == BalanceMethod::consistent_hash && !s.ring.empty()) {
    a.hash_ = static_cast<std::uint32_t>(s.ring.find(crc32(a.key_)));
  }
  return a;
}

const Peer* UpstreamGroup::choose(Attempts& a, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  a.current_ = -1;
  Peer* peer = nullptr;
  switch (method_) {
    case BalanceMethod::round_robin:
      peer = getRoundRobin(a, now);
      break;
    case BalanceMethod::hash:
      peer = getHash(a, now);
      break;
    case BalanceMethod::consistent_hash:
      peer = getConsistentHash(a, now);
      break;
    case BalanceMethod::least_conn:
      peer = getLeastConn(a, now);
      break;
    case BalanceMethod::random:
      peer = getRandom(a, now);
      break;
    case BalanceMethod::random_two:
      peer = getRandomTwo(a, now);
      break;
  }
  if (peer != nullptr) ++peer->total_selected;
  return peer;
}

void UpstreamGroup::connected(const Attempts& a) {
  std::lock_guard<std::mutex> lock(mu_);
  if (a.current_ < 0) return;
  Peer& peer = *peersOf(a)[static_cast<std::size_t>(a.current_)];
  // The same test as a successful release: only an attempt that began after
  // the last failure (the probe window moved `checked` past `accessed`)
  // proves the peer alive. A lone server never has fails to clear.
  if (peer.accessed < peer.checked) peer.fails = 0;
}

void UpstreamGroup::release(Attempts& a, bool failed, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (a.current_ < 0) return;
  Peer& peer = *peersOf(a)[static_cast<std::size_t>(a.current_)];
  a.current_ = -1;
  // total_failures is for the status page only; no decision reads it.
  if (failed) ++peer.total_failures;

  // ngx_stream_upstream_free_round_robin_peer.
  if (a.set_->single && !a.backup_) {
    // A lone server is never marked failed and never retried.
    --peer.conns;
    a.tries_ = 0;
    return;
  }

  if (failed) {
    ++peer.fails;
    peer.accessed = now;
    peer.checked = now;
    if (peer.max_fails != 0) peer.effective_weight -= peer.weight / peer.max_fails;
    if (peer.effective_weight < 0) peer.effective_weight = 0;
  } else if (peer.accessed < peer.checked) {
    // Only an attempt that began after the last failure proves the peer
    // alive again: the probe window moved `checked` past `accessed`.
    peer.fails = 0;
  }

  --peer.conns;
  if (a.tries_ != 0) --a.tries_;
}

std::vector<Peer> UpstreamGroup::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Peer> all;
  for (const auto& peer : set_->primary) all.push_back(*peer);
  for (const auto& peer : set_->backup) all.push_back(*peer);
  return all;
}

void UpstreamGroup::enableHealthChecks(bool mandatory) {
  std::lock_guard<std::mutex> lock(mu_);
  health_checked_ = true;  // for peers a later answer adds
  health_mandatory_ = mandatory;
  for (const auto* list : {&set_->primary, &set_->backup}) {
    for (const auto& peer : *list) {
      peer->health_checked = true;
      peer->unhealthy = mandatory;
      if (mandatory) peer->last_check_error = "not checked yet (mandatory)";
    }
  }
}

void UpstreamGroup::recordHealthCheck(std::size_t index, bool unhealthy, std::string error) {
  std::lock_guard<std::mutex> lock(mu_);
  const PeerSet& s = *set_;
  if (index >= s.primary.size() + s.backup.size()) return;
  Peer& peer = index < s.primary.size() ? *s.primary[index] : *s.backup[index - s.primary.size()];
  ++peer.health_checks;
  if (!error.empty()) ++peer.health_check_fails;
  if (unhealthy && !peer.unhealthy) ++peer.unhealthy_times;
  peer.unhealthy = unhealthy;
  peer.last_check_error = std::move(error);
}

// Commits the choice of peer `i` of the current list: the bookkeeping every
// nginx balancer does once it has a peer.
void UpstreamGroup::take(Attempts& a, Peer& peer, std::size_t i, TimePoint now) {
  a.current_ = static_cast<int>(i);
  markTried(a, i);
  ++peer.conns;
  // Opens a new probe window: a failed peer chosen after fail_timeout gets
  // this one try, and the next only after another fail_timeout.
  if (now - peer.checked > peer.fail_timeout) peer.checked = now;
}

// The `failed:` branch of ngx_stream_upstream_get_round_robin_peer: the
// backup list is walked with a fresh tried bitmap.
void UpstreamGroup::switchToBackup(Attempts& a) {
  a.backup_ = true;
  std::fill(a.tried_.begin(), a.tried_.end(), 0);
}

// ngx_stream_upstream_get_round_robin_peer.
Peer* UpstreamGroup::getRoundRobin(Attempts& a, TimePoint now) {
  const PeerList& peers = peersOf(a);
  if (!a.backup_ && a.set_->single) {
    // The single-peer shortcut checks neither fails nor the tried bit.
    Peer& peer = *peers[0];
    if (!peer.down && !failingCheck(peer) && !full(peer)) {
      a.current_ = 0;
      ++peer.conns;
      return &peer;
    }
  } else if (Peer* peer = getSmoothWeighted(a, peers, now)) {
    ++peer->conns;
    return peer;
  }

  if (!a.backup_ && !a.set_->backup.empty()) {
    switchToBackup(a);
    return getRoundRobin(a, now);
  }
  return nullptr;
}

// ngx_stream_upstream_get_peer: smooth weighted round robin. Every usable peer
// gains its effective weight; the richest is chosen and pays the total. With
// weights 5,1,1 this gives a a b a c a a.
Peer* UpstreamGroup::getSmoothWeighted(Attempts& a, const PeerList& peers, TimePoint now) {
  Peer* best = nullptr;
  std::size_t best_i = 0;
  int total = 0;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    Peer& peer = *peers[i];
    if (tried(a, i) || !usable(peer, now)) continue;

    peer.current_weight += peer.effective_weight;
    total += peer.effective_weight;
    // A peer that failed earns its weight back one step per consideration.
    if (peer.effective_weight < peer.weight) ++peer.effective_weight;

    if (best == nullptr || peer.current_weight > best->current_weight) {
      best = &peer;
      best_i = i;
    }
  }
  if (best == nullptr) return nullptr;

  best->current_weight -= total;
  a.current_ = static_cast<int>(best_i);
  markTried(a, best_i);
  if (now - best->checked > best->fail_timeout) best->checked = now;
  return best;
}

// ngx_stream_upstream_get_least_conn_peer: fewest connections per unit of
// weight (compared as conns_a * weight_b < conns_b * weight_a), smooth round
// robin among the peers that tie, then the backup list.
Peer* UpstreamGroup::getLeastConn(Attempts& a, TimePoint now) {
  if (!a.backup_ && a.set_->single) return getRoundRobin(a, now);

  const PeerList& peers = peersOf(a);
  auto load = [](const Peer& x, const Peer& y) {
    return static_cast<std::int64_t>(x.conns) * y.weight;
  };

  Peer* best = nullptr;
  std::size_t best_i = 0;
  bool many = false;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    Peer& peer = *peers[i];
    if (tried(a, i) || !usable(peer, now)) continue;
    if (best == nullptr || load(peer, *best) < load(*best, peer)) {
      best = &peer;
      best_i = i;
      many = false;
    } else if (load(peer, *best) == load(*best, peer)) {
      many = true;
    }
  }

  if (best == nullptr) {
    if (!a.backup_ && !a.set_->backup.empty()) {
      switchToBackup(a);
      return getLeastConn(a, now);
    }
    return nullptr;
  }

  int total = 0;
  if (many) {
    for (std::size_t i = best_i; i < peers.size(); ++i) {
      Peer& peer = *peers[i];
      if (tried(a, i) || !usable(peer, now)) continue;
      if (load(peer, *best) != load(*best, peer)) continue;

      peer.current_weight += peer.effective_weight;
      total += peer.effective_weight;
      if (peer.effective_weight < peer.weight) ++peer.effective_weight;

      if (peer.current_weight > best->current_weight) {
        best = &peer;
        best_i = i;
      }
    }
  }
  best->current_weight -= total;
  take(a, *best, best_i, now);
  return best;
}

// ngx_stream_upstream_get_hash_peer: Cache::Memcached compatible,
//   hash += (crc32([REHASH] KEY) >> 16) & 0x7fff
// with REHASH (the decimal retry count) left out the first time; the peer is
// found by walking the weights. Round robin takes over after 20 steps, for a
// group of fewer than two peers, and for an empty key.
Peer* UpstreamGroup::getHash(Attempts& a, TimePoint now) {
  const PeerSet& s = *a.set_;
  if (a.hash_tries_ > kMaxWalk || s.primary.size() < 2 || a.key_.empty()) {
    return getRoundRobin(a, now);
  }

  for (;;) {
    Crc32 crc;
    if (a.rehash_ > 0) crc.update(std::to_string(a.rehash_));
    crc.update(a.key_);
    a.hash_ += (crc.final() >> 16) & 0x7fff;
    ++a.rehash_;

    std::uint32_t w = a.hash_ % static_cast<std::uint32_t>(s.total_weight);
    std::size_t p = 0;
    while (w >= static_cast<std::uint32_t>(s.primary[p]->weight)) {
      w -= static_cast<std::uint32_t>(s.primary[p]->weight);
      ++p;
    }

    Peer& peer = *s.primary[p];
    if (!tried(a, p) && usable(peer, now)) {
      take(a, peer, p, now);
      return &peer;
    }
    if (++a.hash_tries_ > kMaxWalk) return getRoundRobin(a, now);
  }
}

// ngx_stream_upstream_get_chash_peer: from the key's point walk the ring; at
// each point, smooth round robin among the usable peers of that point's
// server (a name may have resolved to several addresses). Round robin takes
// over after 20 steps, for a single peer, and for an empty key.
Peer* UpstreamGroup::getConsistentHash(Attempts& a, TimePoint now) {
  const PeerSet& s = *a.set_;
  if (a.hash_tries_ > kMaxWalk || s.single || a.key_.empty()) return getRoundRobin(a, now);
  if (s.primary.empty() || s.ring.empty()) return nullptr;

  for (;;) {
    std::uint32_t server = s.ring.serverAt(a.hash_);

    Peer* best = nullptr;
    std::size_t best_i = 0;
    int total = 0;
    for (std::size_t i = 0; i < s.primary.size(); ++i) {
      Peer& peer = *s.primary[i];
      if (tried(a, i) || !usable(peer, now)) continue;
      if (s.server_id[i] != server) continue;

      peer.current_weight += peer.effective_weight;
      total += peer.effective_weight;
      if (peer.effective_weight < peer.weight) ++peer.effective_weight;

      if (best == nullptr || peer.current_weight > best->current_weight) {
        best = &peer;
        best_i = i;
      }
    }

    if (best != nullptr) {
      best->current_weight -= total;
      take(a, *best, best_i, now);
      return best;
    }

    ++a.hash_;
    if (++a.hash_tries_ > kMaxWalk) return getRoundRobin(a, now);
  }
}

// ngx_stream_upstream_peek_random_peer: a weighted pick, by binary search of
// the cumulative weights.
std::size_t UpstreamGroup::peekRandom(const PeerSet& s) {
  std::uint32_t x = random_() % static_cast<std::uint32_t>(s.total_weight);
  std::size_t i = 0;
  std::size_t j = s.primary.size();
  while (j - i > 1) {
    std::size_t k = (i + j) / 2;
    if (x < static_cast<std::uint32_t>(s.ranges[k])) {
      j = k;
    } else {
      i = k;
    }
  }
  return i;
}

// ngx_stream_upstream_get_random_peer: weighted random pick, drawing again
// on a tried or unusable peer; round robin after 20 draws or for a group of
// fewer than two peers.
Peer* UpstreamGroup::getRandom(Attempts& a, TimePoint now) {
  const PeerSet& s = *a.set_;
  if (a.hash_tries_ > kMaxWalk || s.primary.size() < 2) return getRoundRobin(a, now);

  for (;;) {
    std::size_t i = peekRandom(s);
    Peer& peer = *s.primary[i];
    if (!tried(a, i) && usable(peer, now)) {
      take(a, peer, i, now);
      return &peer;
    }
    if (++a.hash_tries_ > kMaxWalk) return getRoundRobin(a, now);
  }
}

// ngx_stream_upstream_get_random2_peer (`random two`): draw two different
// usable peers and keep the second unless it carries more connections per
// unit of weight than the first.
Peer* UpstreamGroup::getRandomTwo(Attempts& a, TimePoint now) {
  const PeerSet& s = *a.set_;
  if (a.hash_tries_ > kMaxWalk || s.primary.size() < 2) return getRoundRobin(a, now);

  Peer* prev = nullptr;
  std::size_t prev_i = 0;
  for (;;) {
    std::size_t i = peekRandom(s);
    Peer& peer = *s.primary[i];
    bool candidate = &peer != prev && !tried(a, i) && usable(peer, now);
    if (candidate) {
      if (prev != nullptr) {
        Peer* chosen = &peer;
        std::size_t chosen_i = i;
        if (static_cast<std::int64_t>(peer.conns) * prev->weight >
            static_cast<std::int64_t>(prev->conns) * peer.weight) {
          chosen = prev;
          chosen_i = prev_i;
        }
        take(a, *chosen, chosen_i, now);
        return chosen;
      }
      prev = &peer;
      prev_i = i;
    }
    if (++a.hash_tries_ > kMaxWalk) return getRoundRobin(a, now);
  }
}

}  // namespace proxyd
