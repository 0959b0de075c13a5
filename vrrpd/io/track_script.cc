#include "vrrpd/io/track_script.h"

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
                         ScriptPolicy policy, common::Log& log)
    : cfg_(cfg),
      base_(base),
      runner_(runner),
      policy_(std::move(policy)),
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
  // keepalived never starts a script again while it is still running; here
  // "running" lasts until every process the last run started is gone.
  if (running_ != 0 && runner_.running(running_)) {
    log_.debug("vrrp_script {}: still running, not started again", name());
    return;
  }
  running_ = 0;
  auto timeout = cfg_.timeout.value_or(cfg_.interval);
  // Who runs it is looked up at every run: a user created later is used
  // from then on, one deleted makes the script fail, never run as root.
  auto job = prepareScript(cfg_.script, {}, cfg_.user, cfg_.group, policy_, timeout);
  if (job) {
    std::weak_ptr<bool> alive = alive_;
    auto pid = runner_.run(*job, [this, alive](const ScriptExit& ex) {
      if (alive.expired() || !*alive.lock()) return;
      finished(ex);
    });
    if (pid) {
      not_run_.clear();
      running_ = *pid;
      ++runs_;
      return;
    }
    job = common::Result<ScriptJob>::fail(pid.error());
  }
  // Not run: it counts as failing, and the reason is logged once.
  if (job.error() != not_run_) {
    log_.error("vrrp_script {}: \"{}\" not run: {}", name(), cfg_.script, job.error());
    not_run_ = job.error();
  }
  last_failure_ = "not run: " + job.error();
  judge(false);
}

void TrackScript::finished(const ScriptExit& ex) {
  bool success = ex.ok();
  if (!success) {
    auto timeout = cfg_.timeout.value_or(cfg_.interval);
    last_failure_ = ex.timed_out   ? fmt::format("timed out after {} ms", timeout.count())
                    : ex.signalled ? fmt::format("killed by signal {}", ex.status)
                                   : fmt::format("exited with {}", ex.status);
  }
  judge(success);
}

void TrackScript::judge(bool success) {
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
