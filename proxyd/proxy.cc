#include "proxyd/proxy.h"

#include <csignal>

#include <fmt/format.h>

#include "common/sd_notify.h"

namespace proxyd {

common::Result<std::vector<std::shared_ptr<const ServerBlock>>> buildServerBlocks(
    const ProxyConfig& cfg, const std::shared_ptr<common::Log>& main_log) {
  using R = common::Result<std::vector<std::shared_ptr<const ServerBlock>>>;
  std::map<std::string, std::shared_ptr<UpstreamGroup>> groups;
  for (const UpstreamSection& up : cfg.upstreams) {
    groups[up.name] = std::make_shared<UpstreamGroup>(up.name, up.method, up.servers);
  }
  std::vector<std::shared_ptr<const ServerBlock>> blocks;
  for (const ServerSection& sec : cfg.servers) {
    auto block = std::make_shared<ServerBlock>();
    block->section = sec;
    block->group = groups.at(sec.proxy_pass);
    const UpstreamSection* up = cfg.findUpstream(sec.proxy_pass);
    if (up && (up->method == BalanceMethod::hash || up->method == BalanceMethod::consistent_hash)) {
      auto key = LogFormat::compile(up->hash_key, Escape::none);
      if (!key) return R::fail(key.error());
      block->hash_key = std::move(*key);
    }
    if (sec.access_log) {
      auto fmt = LogFormat::compile(cfg.log_format_text.at(sec.access_log->format_name));
      if (!fmt) return R::fail(fmt.error());
      block->access_format = std::move(*fmt);
    }
    if (sec.error_log) {
      auto log = std::make_shared<common::Log>(sec.error_log->level);
      if (auto r = log->openFile(sec.error_log->path); !r) return R::fail(r.error());
      block->error_log = std::move(log);
    } else {
      block->error_log = main_log;
    }
    block->listen_text = sec.listen.empty() ? "" : sec.listen.front().toString();
    blocks.push_back(std::move(block));
  }
  return blocks;
}

Proxy::Proxy(ProxyConfig cfg, std::shared_ptr<common::Log> log, ProcessInfo process)
    : cfg_(std::move(cfg)), log_(std::move(log)), process_(std::move(process)) {}

Proxy::~Proxy() {
  // Sessions and listeners hold events of base_: they go first.
  drain_timer_.reset();
  signals_.clear();
  status_.reset();
  listeners_.clear();
  worker_.reset();
}

common::Result<bool> Proxy::start() {
  using R = common::Result<bool>;
  event_config* ec = event_config_new();
  // Edge-triggered events and EV_CLOSED need epoll.
  event_config_require_features(ec, EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE);
  base_.reset(event_base_new_with_config(ec));
  event_config_free(ec);
  if (!base_) return R::fail("event_base_new() failed (epoll with EPOLLRDHUP is required)");
  worker_ = std::make_unique<Worker>(base_.get(), *log_, process_);

  auto blocks = buildServerBlocks(cfg_, log_);
  if (!blocks) return R::fail(blocks.error());
  blocks_ = std::move(*blocks);
  for (const auto& block : blocks_) {
    for (const common::SocketAddress& addr : block->section.listen) {
      auto fd = Listener::open(addr);
      if (!fd) return R::fail(fmt::format("[server {}]: {}", block->section.name, fd.error()));
      auto l = std::make_unique<Listener>(*worker_, block, std::move(*fd), addr);
      if (auto r = l->enable(); !r) return r;
      listeners_.push_back(std::move(l));
    }
  }
  if (cfg_.status) {
    auto fd = Listener::open(cfg_.status->listen);
    if (!fd) return R::fail(fmt::format("[status]: {}", fd.error()));
    status_ = std::make_unique<StatusPage>(*worker_, *cfg_.status);
    if (auto r = status_->start(std::move(*fd)); !r) return r;
  }
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1}) {
    common::EventPtr ev(evsignal_new(base_.get(), sig, onSignal, this));
    if (!ev || event_add(ev.get(), nullptr) != 0) return R::fail("cannot install signal handlers");
    signals_.push_back(std::move(ev));
  }
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}

int Proxy::run() {
  log_->notice("proxyd started: {} listener(s), pid {}", listeners_.size(), process_.pid);
  common::notifyReady(fmt::format("{} listener(s)", listeners_.size()));
  worker_->run();
  common::notifyStopping();
  worker_->closeAllSessions();
  worker_->flushAccessLogs();
  log_->notice("proxyd exiting");
  return 0;
}

void Proxy::onSignal(evutil_socket_t sig, short, void* arg) {
  auto* self = static_cast<Proxy*>(arg);
  switch (sig) {
    case SIGTERM:
    case SIGINT:
      self->log_->notice("signal {} received, exiting", sig);
      self->worker_->stop();
      break;
    case SIGQUIT:
      self->log_->notice("signal {} received, gracefully shutting down", sig);
      self->gracefulStop();
      break;
    case SIGUSR1:
      self->log_->notice("signal {} received, reopening logs", sig);
      if (auto r = self->log_->reopen(); !r) self->log_->alert("{}", r.error());
      for (const auto& block : self->blocks_) {
        if (block->error_log != self->log_) {
          if (auto r = block->error_log->reopen(); !r) self->log_->alert("{}", r.error());
        }
      }
      self->worker_->reopenLogs();
      break;
    case SIGHUP:
      self->log_->warn(
          "signal {} received: configuration reload is not supported yet, "
          "restart proxyd to apply a new configuration",
          sig);
      break;
  }
}

void Proxy::gracefulStop() {
  if (draining_) return;
  draining_ = true;
  for (auto& l : listeners_) l->disable();
  status_.reset();
  drain_timer_.reset(evtimer_new(base_.get(), onDrainCheck, this));
  onDrainCheck(-1, 0, this);
}

void Proxy::onDrainCheck(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Proxy*>(arg);
  if (self->worker_->activeSessions() == 0) {
    self->worker_->stop();
    return;
  }
  timeval tv{0, 100000};
  evtimer_add(self->drain_timer_.get(), &tv);
}

}  // namespace proxyd
