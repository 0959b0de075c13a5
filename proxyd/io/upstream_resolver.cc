#include "proxyd/io/upstream_resolver.h"

#include <fmt/format.h>

#include "common/event.h"
#include "proxyd/core/config.h"

namespace proxyd {

struct UpstreamResolver::Client {
  std::unique_ptr<DnsClient> dns;
  std::optional<std::chrono::seconds> valid;
  std::chrono::milliseconds timeout{};
};

// One `resolve` server of a group and its lookup timer.
struct UpstreamResolver::Task {
  UpstreamResolver* owner = nullptr;
  std::shared_ptr<UpstreamGroup> group;
  std::size_t index = 0;  // the server, in the group's order
  Client* client = nullptr;
  common::EventPtr timer;
  bool answered_once = false;  // a first answer with addresses came
  bool warned = false;         // the "not resolved yet" warning was given
  std::uint64_t round = 0;     // the lookup running; stale SRV target answers are dropped
  const UpstreamServer& server() const { return group->servers()[index]; }
};

UpstreamResolver::UpstreamResolver(event_base* base, common::Log& log) : base_(base), log_(log) {}

UpstreamResolver::~UpstreamResolver() {
  // The DNS clients go first: their pending callbacks are dropped, never
  // called into the tasks.
  clients_.clear();
}

common::Result<void> UpstreamResolver::add(const UpstreamSection& section,
                                           std::shared_ptr<UpstreamGroup> group) {
  if (!group->resolvesAtRunTime() || !section.resolver.resolver) return {};
  auto dns = DnsClient::create(base_, *section.resolver.resolver, section.resolver.timeout);
  if (!dns) return common::Result<void>::fail(dns.error());
  auto client = std::make_unique<Client>();
  client->dns = std::move(*dns);
  client->valid = section.resolver.resolver->valid;
  client->timeout = section.resolver.timeout;
  for (std::size_t i = 0; i < group->servers().size(); ++i) {
    if (!group->servers()[i].resolve) continue;
    auto t = std::make_unique<Task>();
    t->owner = this;
    t->group = group;
    t->index = i;
    t->client = client.get();
    t->timer.reset(evtimer_new(base_, onTimer, t.get()));
    timeval now{0, 0};
    evtimer_add(t->timer.get(), &now);
    tasks_.push_back(std::move(t));
  }
  clients_.push_back(std::move(client));
  return {};
}

void UpstreamResolver::onTimer(evutil_socket_t, short, void* arg) {
  auto* t = static_cast<Task*>(arg);
  t->owner->lookup(*t);
}

void UpstreamResolver::lookup(Task& t) {
  std::uint64_t round = ++t.round;
  const UpstreamServer& sv = t.server();
  if (sv.service.empty()) {
    t.client->dns->resolveHost(lookupName(sv), [this, &t](DnsClient::HostAnswer a) {
      answered(t, a.state, peersFromAddresses(t.server(), a.addrs), a.ttl);
    });
    return;
  }
  t.client->dns->resolveSrv(lookupName(sv), [this, &t, round](DnsClient::SrvAnswer a) {
    if (round != t.round) return;
    if (a.state != kResolveOk) {
      answered(t, a.state, {}, std::chrono::seconds(0));
      return;
    }
    lookupTargets(t, std::move(a.records));
  });
}

// The addresses of every SRV target, then one answer for the server. The
// answer holds as long as its shortest-lived target's (c-ares gives no TTL
// for the SRV records themselves).
void UpstreamResolver::lookupTargets(Task& t, std::vector<SrvRecord> records) {
  struct Pending {
    std::vector<SrvRecord> records;
    std::size_t left = 0;
    std::optional<std::chrono::seconds> ttl;
  };
  auto p = std::make_shared<Pending>();
  p->records = std::move(records);
  p->left = p->records.size();
  std::uint64_t round = t.round;
  for (std::size_t i = 0; i < p->records.size(); ++i) {
    t.client->dns->resolveHost(
        p->records[i].target, [this, &t, p, i, round](DnsClient::HostAnswer a) {
          if (round != t.round) return;
          SrvRecord& r = p->records[i];
          if (a.state != kResolveOk) {
            log_.error("{} while resolving service {} of {}", notResolvedText(r.target, a.state),
                       t.server().service, t.server().host);
          } else {
            r.addrs = std::move(a.addrs);
            p->ttl = p->ttl ? std::min(*p->ttl, a.ttl) : a.ttl;
          }
          if (--p->left != 0) return;
          auto peers = peersFromSrv(t.server(), p->records);
          int state = peers.empty() ? kResolveNxDomain : kResolveOk;  // before the move
          answered(t, state, std::move(peers), p->ttl.value_or(std::chrono::seconds(0)));
        });
  }
}

void UpstreamResolver::answered(Task& t, int state, std::vector<ResolvedPeer> peers,
                                std::chrono::seconds ttl) {
  const UpstreamServer& sv = t.server();
  const std::string& group = t.group->name();
  std::chrono::milliseconds next = answerLifetime(ttl, t.client->valid);
  if (state != kResolveOk) {
    std::string what = sv.service.empty()
                           ? notResolvedText(sv.host, state)
                           : fmt::format("service {} of {} could not be resolved ({}: {})",
                                         sv.service, sv.host, state, resolveStateText(state));
    if (!t.answered_once && !t.warned) {
      // Not a start failure: the server has no address until an answer comes.
      log_.warn("{}; upstream \"{}\" has no address for server {} until it resolves", what, group,
                sv.name);
      t.warned = true;
    } else {
      log_.error("{}", what);
    }
    // nginx: NXDOMAIN is an answer (the server has no address, asked again
    // when it expires); other errors keep what it had and retry.
    if (state == kResolveNxDomain) {
      t.group->setResolved(t.index, {});
    } else {
      next = retryDelay(t.client->timeout);
    }
  } else {
    std::string list;
    for (const ResolvedPeer& p : peers) list += (list.empty() ? "" : ", ") + p.addr.toString();
    if (t.group->setResolved(t.index, std::move(peers))) {
      log_.notice("upstream \"{}\": server {} resolved to {}", group, sv.name, list);
    }
    t.answered_once = true;
  }
  timeval tv = common::toTimeval(next);
  evtimer_add(t.timer.get(), &tv);
}

}  // namespace proxyd
