#include "vrrpd/track_script.h"

#include <fmt/format.h>

namespace vrrpd {

bool RiseFall::feed(bool success) {
  if (success == ok_) {
    streak_ = 0;
    return false;
  }
  ++streak_;
  if (streak_ >= (ok_ ? fall_ : rise_)) {
    ok_ = !ok_;
    streak_ = 0;
    return true;
  }
  return false;
}

TrackScript::TrackScript(const ScriptSection& cfg, event_base* base, ScriptRunner& runner,
                         ScriptUser user, common::Log& log)
    : cfg_(cfg),
      base_(base),
      runner_(runner),
      user_(std::move(user)),
      log_(log),
      state_(cfg.rise, cfg.fall, !cfg.init_fail) {
  tick_.reset(event_new(base_, -1, EV_PERSIST, onTick, this));
}

TrackScript::~TrackScript() {
  *alive_ = false;
}

void TrackScript::start() {
  timeval tv = common::toTimeval(cfg_.interval);
  evtimer_add(tick_.get(), &tv);
  runOnce();
}

void TrackScript::onTick(evutil_socket_t, short, void* arg) {
  static_cast<TrackScript*>(arg)->runOnce();
}

void TrackScript::runOnce() {
  // keepalived never starts a script again while it is still running.
  if (running_ != 0 && runner_.running(running_)) return;
  auto timeout = cfg_.timeout.value_or(cfg_.interval);
  std::weak_ptr<bool> alive = alive_;
  auto pid = runner_.run(cfg_.script, {}, user_, timeout, [this, alive](const ScriptExit& ex) {
    if (alive.expired() || !*alive.lock()) return;
    finished(ex);
  });
  if (!pid) {
    log_.error("vrrp_script {}: cannot run \"{}\": {}", name(), cfg_.script, pid.error());
    finished(ScriptExit{false, false, 127});
    return;
  }
  running_ = *pid;
}

void TrackScript::finished(const ScriptExit& ex) {
  running_ = 0;
  bool success = ex.ok();
  if (!success) {
    auto timeout = cfg_.timeout.value_or(cfg_.interval);
    last_failure_ = ex.timed_out   ? fmt::format("timed out after {} ms", timeout.count())
                    : ex.signalled ? fmt::format("killed by signal {}", ex.status)
                                   : fmt::format("exited with {}", ex.status);
  }
  if (!state_.feed(success)) return;
  if (state_.ok()) {
    log_.notice("vrrp_script {} succeeded {} time(s) in a row: now OK", name(), cfg_.rise);
  } else {
    log_.warn("vrrp_script {} failed {} time(s) in a row ({}): now FAILED", name(), cfg_.fall,
              last_failure_);
  }
  for (auto& l : listeners_) l(*this);
}

}  // namespace vrrpd
