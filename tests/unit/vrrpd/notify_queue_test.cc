#include "vrrpd/core/notify_queue.h"

#include <catch2/catch.hpp>

using vrrpd::NotifyCall;
using vrrpd::NotifyEvent;
using vrrpd::NotifyQueue;

namespace {

NotifyEvent event(const std::string& state, std::vector<std::string> keys) {
  NotifyEvent ev;
  ev.state = state;
  for (auto& k : keys) ev.calls.push_back(NotifyCall{k, "/x.sh " + state, {}, "", "", {}});
  return ev;
}

}  // namespace

TEST_CASE("notify queue: a transition's calls run one at a time, in order") {
  NotifyQueue q;
  CHECK(q.idle());
  q.push(event("MASTER", {"notify_master", "notify"}));
  auto first = q.next();
  REQUIRE(first);
  CHECK(first->key == "notify_master");
  CHECK_FALSE(q.next());  // the generic notify waits for notify_master
  q.done();
  auto second = q.next();
  REQUIRE(second);
  CHECK(second->key == "notify");
  q.done();
  CHECK_FALSE(q.next());
  CHECK(q.idle());
}

TEST_CASE("notify queue: a notify never overtakes the one before it") {
  NotifyQueue q;
  q.push(event("BACKUP", {"notify_backup"}));
  REQUIRE(q.next()->command == "/x.sh BACKUP");
  q.push(event("MASTER", {"notify_master"}));
  CHECK_FALSE(q.next());  // BACKUP is still running
  CHECK(q.busy());
  q.done();
  REQUIRE(q.next()->command == "/x.sh MASTER");
}

TEST_CASE("notify queue: one transition waits, newer ones coalesce to the latest state") {
  NotifyQueue q;
  q.push(event("MASTER", {"notify_master"}));
  REQUIRE(q.next());
  // Eight flaps while notify_master hangs: one waiting event, the latest.
  std::vector<std::string> dropped;
  for (int i = 0; i < 8; ++i) {
    auto d =
        q.push(event(i % 2 ? "MASTER" : "BACKUP", {i % 2 ? "notify_master" : "notify_backup"}));
    if (d) dropped.push_back(d->state);
    CHECK(q.waiting() <= NotifyQueue::kMaxWaiting);
  }
  CHECK(dropped.size() == 7);
  q.done();
  auto next = q.next();
  REQUIRE(next);
  CHECK(next->command == "/x.sh MASTER");  // the eighth flap's state
  q.done();
  CHECK(q.idle());
}

TEST_CASE("notify queue: a transition with no script still supersedes the waiting one") {
  // MASTER waits behind a running notify; the node is BACKUP again before
  // it starts, and BACKUP has no notify: the stale notify_master must not run.
  NotifyQueue q;
  q.push(event("FAULT", {"notify_fault"}));
  REQUIRE(q.next());
  q.push(event("MASTER", {"notify_master"}));
  auto d = q.push(event("BACKUP", {}));
  REQUIRE(d);
  CHECK(d->state == "MASTER");
  q.done();
  CHECK_FALSE(q.next());
  CHECK(q.idle());
}
