#include "proxyd/io/proxy.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "common/sd_notify.h"
#include "common/sys_error.h"
#include "common/version.h"
#include "proxyd/core/status_http.h"
#include "proxyd/io/error_log_chain.h"
#include "proxyd/io/listener.h"
#include "proxyd/io/tls_context.h"
#include "proxyd/io/udp_listener.h"

namespace proxyd {

namespace {

constexpr std::chrono::milliseconds kStopCheck{50};

// A listener is (address, transport): TCP and UDP may share a port.
std::string addrKey(const common::SocketAddress& a, bool udp) {
  return udp ? a.toString() + " udp" : a.toString();
}

int countOpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

double unixNow(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// The compiled hash key of a group that hashes.
common::Result<std::optional<Template>> hashKeyOf(const UpstreamSection& up,
                                                  const VariableTable* table) {
  using R = common::Result<std::optional<Template>>;
  if (up.method != BalanceMethod::hash && up.method != BalanceMethod::consistent_hash) {
    return std::optional<Template>();
  }
  auto key = Template::compile(up.hash_key, table);
  if (!key) return R::fail(key.error());
  return std::optional<Template>(std::move(*key));
}

// Every group of `gen`, for proxy_pass with variables.
common::Result<std::shared_ptr<const RouteGroups>> routeGroupsOf(const Generation& gen,
                                                                 const VariableTable* table) {
  using R = common::Result<std::shared_ptr<const RouteGroups>>;
  auto all = std::make_shared<RouteGroups>();
  for (const GroupRuntime& g : gen.groups) {
    auto key = hashKeyOf(g.section, table);
    if (!key) return R::fail(key.error());
    all->add({g.section.name, g.group, g.errors, std::move(*key)});
  }
  return std::shared_ptr<const RouteGroups>(std::move(all));
}

}  // namespace

common::Result<std::unique_ptr<Generation>> buildGeneration(
    const ProxyConfig& cfg, const std::shared_ptr<common::Log>& main_log,
    const Generation* previous, const std::vector<GroupStep>& groups,
    std::map<std::string, std::shared_ptr<ServerStats>>& stats, std::size_t workers) {
  using R = common::Result<std::unique_ptr<Generation>>;
  auto gen = std::make_unique<Generation>();
  gen->cfg = cfg;
  std::map<std::string, const GroupRuntime*> by_name;
  for (const UpstreamSection& up : cfg.upstreams) {
    GroupRuntime g;
    g.section = up;
    // The plan keeps a group whose section is unchanged: its live state is
    // still true of the new configuration.
    bool kept = std::any_of(groups.begin(), groups.end(), [&](const GroupStep& s) {
      return s.name == up.name && s.step == ReloadStep::keep;
    });
    for (std::size_t i = 0; kept && previous != nullptr && i < previous->groups.size(); ++i) {
      const GroupRuntime& old = previous->groups[i];
      if (old.section.name == up.name) {
        g.group = old.group;
        g.errors = old.errors;
        break;
      }
    }
    if (!g.group) {
      g.group = std::make_shared<UpstreamGroup>(up.name, up.method, up.servers);
      g.errors = std::make_shared<PeerErrors>();
    }
    gen->groups.push_back(std::move(g));
  }
  for (const GroupRuntime& g : gen->groups) by_name[g.section.name] = &g;

  auto zones =
      adoptZones(cfg.main.limit_conn_zones,
                 previous ? previous->zones : std::vector<std::shared_ptr<LimitConnZone>>{});
  if (!zones) return R::fail(zones.error());
  gen->zones = std::move(*zones);

  // One table of user variables for the whole generation, as nginx's.
  std::shared_ptr<const VariableTable> variables = cfg.variables.table;
  std::shared_ptr<const RouteGroups> route_groups;
  for (const ServerSection& sec : cfg.servers) {
    auto block = std::make_shared<ServerBlock>();
    block->section = sec;
    block->variables = variables;
    if (sec.passHasVariables() && !route_groups) {
      auto all = routeGroupsOf(*gen, variables.get());
      if (!all) return R::fail(all.error());
      route_groups = std::move(*all);
    }
    if (auto r = compileScripts(*block, route_groups); !r) return R::fail(r.error());
    auto limits = compileLimitConn(sec, cfg.main.limit_conn_zones, gen->zones, variables.get());
    if (!limits) return R::fail(limits.error());
    block->limit_conn = std::move(*limits);
    if (auto it = by_name.find(sec.proxy_pass); !sec.passHasVariables() && it != by_name.end()) {
      const GroupRuntime* g = it->second;
      block->group = g->group;
      block->peer_errors = g->errors;
      auto key = hashKeyOf(g->section, variables.get());
      if (!key) return R::fail(key.error());
      block->hash_key = std::move(*key);
    }
    for (const AccessLogTarget& target : sec.access_logs) {
      auto compiled = compileAccessLog(cfg, target, block->variables.get());
      if (!compiled) return R::fail(compiled.error());
      block->access_logs.push_back(std::move(*compiled));
    }
    if (!sec.error_log.empty()) {
      auto log = std::make_shared<common::Log>();
      if (auto r = log->setOutputs(errorLogOutputs(sec.error_log)); !r) return R::fail(r.error());
      block->error_log = std::move(log);
    } else {
      block->error_log = main_log;
    }
    block->listen_text = sec.listen.empty() ? "" : sec.listen.front().address.toString();
    if (!sec.server_names.empty()) {
      if (auto name = parseServerName(sec.server_names.front())) block->server_name = name->text;
    }
    if (auto r = buildTlsContexts(cfg.path, *block); !r) return R::fail(r.error());
    auto& st = stats[sec.name];
    if (!st) st = std::make_shared<ServerStats>(workers);
    block->stats = st;
    gen->blocks.push_back(std::move(block));
  }
  for (const AddressServers& a : serversByAddress(cfg)) {
    std::vector<std::shared_ptr<const ServerBlock>> blocks;
    for (std::size_t k : a.servers) blocks.push_back(gen->blocks[k]);
    bool ssl = blocks[a.default_pos]->tls != nullptr && servesTls(cfg, a);
    gen->addresses.push_back(
        {a.addr, a.udp,
         makeVirtualServers(std::move(blocks), a.default_pos, a.listen.proxy_protocol, ssl)});
  }
  return gen;
}

Proxy::Proxy(ProxyConfig cfg, std::shared_ptr<common::Log> log, ProcessInfo process)
    : log_(std::move(log)), process_(std::move(process)), initial_cfg_(std::move(cfg)) {}

Proxy::~Proxy() {
  // Whatever still runs on the workers stops before anything they use goes.
  for (auto& w : workers_) {
    Worker* raw = w.get();
    raw->post([raw] { raw->stopNow(); });
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
  shutdown_timer_.reset();
  stop_check_.reset();
  signals_.clear();
  status_.reset();
  health_checkers_.clear();
}

void Proxy::applyRlimit(int nofile) {
  if (nofile <= 0) return;
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rlimit want{static_cast<rlim_t>(nofile), std::max<rlim_t>(rl.rlim_max, nofile)};
  if (::setrlimit(RLIMIT_NOFILE, &want) != 0) {
    int err = errno;
    log_->alert("{}, the limit stays {}",
                common::SysError{fmt::format("setrlimit(RLIMIT_NOFILE, {})", nofile), err},
                rl.rlim_cur);
  }
}

common::Result<void> Proxy::start() {
  using R = common::Result<void>;
  started_ = std::chrono::system_clock::now();
  applyRlimit(initial_cfg_.main.worker_rlimit_nofile);
  base_.reset(event_base_new());
  if (!base_) return R::fail("event_base_new() failed");
  // Before any socket is bound: a supervisor or test that sees the port
  // listening may send HUP at once, whose default action would kill us.
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1}) {
    common::EventPtr ev(evsignal_new(base_.get(), sig, onSignal, this));
    if (!ev || event_add(ev.get(), nullptr) != 0) return R::fail("cannot install signal handlers");
    signals_.push_back(std::move(ev));
  }
  std::signal(SIGPIPE, SIG_IGN);

  const auto n = static_cast<std::size_t>(std::max(1, initial_cfg_.main.worker_processes));
  finished_ = std::make_unique<std::atomic<bool>[]>(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(i, *log_, process_, access_log_locks_);
    if (auto r = w->init(); !r) return r;
    workers_.push_back(std::move(w));
  }

  // Everything starts: the plan from an empty configuration.
  const ReloadPlan plan = planReload(ProxyConfig{}, initial_cfg_);
  auto gen =
      buildGeneration(initial_cfg_, log_, nullptr, plan.groups, server_stats_, workers_.size());
  if (!gen) return R::fail(gen.error());
  auto fds = openNewSockets(plan.listeners, socket_files_);
  if (!fds) return R::fail(fds.error());
  auto checkers = healthChecksFor(**gen);
  if (!checkers) return R::fail(checkers.error());
  health_checkers_ = std::move(*checkers);
  auto resolver = resolverFor(**gen);
  if (!resolver) return R::fail(resolver.error());
  upstream_resolver_ = std::move(*resolver);
  if (initial_cfg_.status) {
    auto page = openStatusPage(*initial_cfg_.status);
    if (!page) return R::fail(page.error());
    status_ = std::move(*page);
  }
  deploy(**gen, std::move(*fds));
  current_ = std::move(*gen);

  // Signals go to the control thread: the workers block them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    std::atomic<bool>* done = &finished_[i];
    threads_.emplace_back([w, done] {
      w->run();
      done->store(true);
    });
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return {};
}

common::Result<std::map<std::string, std::vector<common::UniqueFd>>> Proxy::openNewSockets(
    const std::vector<ListenStep>& listeners, std::map<std::string, UnixSocketFile>& files) {
  using R = common::Result<std::map<std::string, std::vector<common::UniqueFd>>>;
  std::map<std::string, std::vector<common::UniqueFd>> fds;
  for (const ListenStep& l : listeners) {
    if (l.step != ReloadStep::start) continue;
    auto& list = fds[addrKey(l.addr, l.listen.udp)];
    const ListenSocketOptions& options = l.listen.socket;
    if (l.addr.family() == AF_UNIX) {
      // A path is bound once: the workers share the one socket (each its
      // own descriptor of it), the kernel waking one of them per connection.
      auto fd =
          UnixSocketFile::open(l.addr, options.backlog, files[addrKey(l.addr, false)], log_.get());
      if (!fd) return R::fail(fmt::format("[server {}]: {}", l.server, fd.error()));
      for (std::size_t i = 1; i < workers_.size(); ++i) {
        common::UniqueFd copy(::fcntl(fd->get(), F_DUPFD_CLOEXEC, 0));
        if (!copy) return R::fail(common::SysError{"fcntl(F_DUPFD_CLOEXEC)", errno}.message());
        list.push_back(std::move(copy));
      }
      list.insert(list.begin(), std::move(*fd));
      continue;
    }
    std::vector<std::string> warnings;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      auto fd = l.listen.udp ? UdpListener::open(l.addr)
                             : Listener::open(l.addr, options, i == 0 ? &warnings : nullptr);
      if (!fd) return R::fail(fmt::format("[server {}]: {}", l.server, fd.error()));
      list.push_back(std::move(*fd));
    }
    for (const std::string& w : warnings) log_->alert("{}", w);  // nginx's level for these
  }
  return fds;
}

void Proxy::deploy(const Generation& gen,
                   std::map<std::string, std::vector<common::UniqueFd>> fds) {
  std::vector<common::SocketAddress> now_listening;
  // The top of RLIMIT_NOFILE stays free for the control thread (the status
  // page above all), whatever the sessions use.
  rlimit rl{};
  const int ceiling =
      ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? workerDescriptorCeiling(rl.rlim_cur) : 0;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    auto plan = std::make_shared<std::vector<ListenerPlan>>();
    for (const auto& a : gen.addresses) {
      ListenerPlan p;
      p.addr = a.addr;
      p.udp = a.udp;
      p.servers = a.servers;
      auto it = fds.find(addrKey(a.addr, a.udp));
      if (it != fds.end()) p.fd = std::move(it->second[i]);
      plan->push_back(std::move(p));
      if (i == 0) now_listening.push_back(a.addr);
    }
    Worker* w = workers_[i].get();
    int limit = gen.cfg.main.worker_connections;
    w->post([w, plan, limit, ceiling] {
      // A reload ends nginx's old workers, and their exit writes every
      // access_log buffer= out: so here, before the new blocks log.
      w->flushAccessLogs(true);
      w->setConnectionLimit(limit);
      w->setDescriptorCeiling(ceiling);
      w->applyListeners(std::move(*plan));
    });
  }
  listening_ = std::move(now_listening);
}

common::Result<std::unique_ptr<StatusPage>> Proxy::openStatusPage(const StatusSection& cfg) {
  using R = common::Result<std::unique_ptr<StatusPage>>;
  auto fd = Listener::open(cfg.listen);
  if (!fd) return R::fail(fmt::format("[status]: {}", fd.error()));
  auto page = std::make_unique<StatusPage>(
      base_.get(), *log_, cfg, [this] { return snapshot(); }, status_stats_);
  if (auto r = page->start(std::move(*fd)); !r) return R::fail(r.error());
  return page;
}

// Checkers for the groups of `gen` that have none yet; the checkers of
// groups taken over from the running configuration are kept by the caller.
common::Result<std::vector<std::unique_ptr<HealthChecker>>> Proxy::healthChecksFor(
    const Generation& gen) {
  std::vector<std::shared_ptr<UpstreamGroup>> fresh;
  for (const auto& block : gen.blocks) {
    for (const auto& group : block->reachableGroups()) {
      bool checked = false;
      for (const auto& hc : health_checkers_) checked = checked || &hc->group() == group.get();
      if (!checked) fresh.push_back(group);
    }
  }
  return startHealthChecks(base_.get(), gen.cfg, fresh, *log_);
}

// Run-time DNS for the groups of `gen` with `resolve` servers.
common::Result<std::unique_ptr<UpstreamResolver>> Proxy::resolverFor(const Generation& gen) {
  auto resolver = std::make_unique<UpstreamResolver>(base_.get(), *log_);
  for (const GroupRuntime& g : gen.groups) {
    if (auto r = resolver->add(g.section, g.group); !r) {
      return common::Result<std::unique_ptr<UpstreamResolver>>::fail(
          fmt::format("upstream \"{}\": {}", g.section.name, r.error()));
    }
  }
  return resolver;
}

std::string Proxy::summary() const {
  std::size_t active = 0;
  for (const auto& w : workers_) active += w->counters().active.get();
  return fmt::format("generation {}, {} worker(s), {} listener(s), {} session(s)", generation_,
                     workers_.size(), listening_.size(), active);
}

int Proxy::run() {
  log_->notice("proxyd started: {} worker(s), {} listener(s), pid {}", workers_.size(),
               listening_.size(), process_.pid);
  common::notifyReady(summary());
  event_base_dispatch(base_.get());
  for (auto& t : threads_) t.join();
  threads_.clear();
  log_->notice("proxyd exiting");
  return 0;
}

void Proxy::onSignal(evutil_socket_t sig, short, void* arg) {
  auto* self = static_cast<Proxy*>(arg);
  switch (sig) {
    case SIGTERM:
    case SIGINT:
      self->log_->notice("signal {} received, exiting", sig);
      self->fastStop();
      break;
    case SIGQUIT:
      self->log_->notice("signal {} received, gracefully shutting down", sig);
      self->gracefulStop();
      break;
    case SIGUSR1:
      self->log_->notice("signal {} received, reopening logs", sig);
      if (auto r = self->log_->reopen(); !r) self->log_->alert("{}", r.error());
      for (const auto& block : self->current_->blocks) {
        if (block->error_log != self->log_) {
          if (auto r = block->error_log->reopen(); !r) self->log_->alert("{}", r.error());
        }
      }
      for (auto& w : self->workers_) {
        Worker* raw = w.get();
        raw->post([raw] { raw->reopenLogs(); });
      }
      break;
    case SIGHUP:
      self->log_->notice("signal {} received, reconfiguring", sig);
      if (!self->stopping_) self->reload();
      break;
  }
}

void Proxy::rejectReload(const std::vector<std::string>& errors) {
  ++reloads_failed_;
  last_reload_ = std::chrono::system_clock::now();
  last_reload_ok_ = false;
  last_reload_errors_ = errors;
  log_->error("reload failed, still running generation {}", generation_);
  common::notifyReady(fmt::format(
      "reload failed: {}{}; still running {}", errors.empty() ? "?" : errors.front(),
      errors.size() > 1 ? fmt::format(" (+{} more)", errors.size() - 1) : "", summary()));
}

// HUP: nginx's reconfiguration, in-process. Nothing changes until the new
// configuration has been read, checked, built and every new socket opened;
// what changes is what planReload() says.
void Proxy::reload() {
  common::notifyReloading();
  std::optional<ProxyConfig> cfg = loadForReload();
  if (!cfg) return;
  const ReloadPlan plan = planReload(current_->cfg, *cfg);
  auto staged = stage(*cfg, plan);
  if (!staged) {
    log_->emerg("{}", staged.error());
    return rejectReload({staged.error()});
  }
  takeOverHealthChecks(*staged);
  // Point of no return: apply.
  applyMain(cfg->main, plan);
  commit(plan, std::move(*staged));
}

// The file read and checked again, with its diagnostics logged; none when it
// has errors (the reload is rejected).
std::optional<ProxyConfig> Proxy::loadForReload() {
  common::Diagnostics diag;
  ProxyConfig cfg = loadProxyConfig(initial_cfg_.path, current_->cfg.prefix, diag);
  std::vector<std::string> errors;
  for (const common::Diagnostic& d : diag.items()) {
    if (d.severity == common::Severity::error) {
      log_->emerg("{}", d.format());
      errors.push_back(d.format());
    } else {
      log_->warn("{}", d.format());
    }
  }
  if (!errors.empty()) {
    rejectReload(errors);
    return std::nullopt;
  }
  return cfg;
}

// Everything the new configuration needs that can fail, made before anything
// running changes: a reload rejected here leaves the running one untouched.
common::Result<Proxy::Staged> Proxy::stage(const ProxyConfig& cfg, const ReloadPlan& plan) {
  using R = common::Result<Staged>;
  Staged st;
  auto gen =
      buildGeneration(cfg, log_, current_.get(), plan.groups, server_stats_, workers_.size());
  if (!gen) return R::fail(gen.error());
  st.gen = std::move(*gen);
  auto fds = openNewSockets(plan.listeners, st.files);
  if (!fds) return R::fail(fds.error());
  st.fds = std::move(*fds);
  st.status_kept =
      status_ && (plan.status == ReloadStep::keep || plan.status == ReloadStep::update);
  if (cfg.status && !st.status_kept) {
    auto page = openStatusPage(*cfg.status);
    if (!page) return R::fail(page.error());
    st.status = std::move(*page);
  }
  // Health checks: groups taken over keep their checker, new groups get one.
  auto fresh = healthChecksFor(*st.gen);
  if (!fresh) return R::fail(fresh.error());
  st.checkers = std::move(*fresh);
  auto resolver = resolverFor(*st.gen);
  if (!resolver) return R::fail(resolver.error());
  st.resolver = std::move(*resolver);
  return st;
}

// The checkers of the groups the new generation took over go on (and re-read
// their TLS files, so a rotated client certificate is picked up); the others
// stop, and the new groups' checkers start.
void Proxy::takeOverHealthChecks(Staged& st) {
  std::vector<std::unique_ptr<HealthChecker>> checkers;
  for (auto& hc : health_checkers_) {
    for (const GroupRuntime& g : st.gen->groups) {
      if (hc && &hc->group() == g.group.get()) {
        if (auto r = hc->reloadTls(); !r) {
          log_->warn("{}; the health check keeps its previous TLS files", r.error());
        }
        checkers.push_back(std::move(hc));
      }
    }
  }
  health_checkers_ = std::move(checkers);
  for (auto& hc : st.checkers) health_checkers_.push_back(std::move(hc));
}

// [main] (kMainSectionDecisions): what the running process can take now.
void Proxy::applyMain(const MainSection& main, const ReloadPlan& plan) {
  if (main.worker_processes != static_cast<int>(workers_.size())) {
    log_->warn("worker_processes changed to {}: takes effect at the next restart, running {}",
               main.worker_processes, workers_.size());
  }
  if (plan.rlimit_changed) applyRlimit(main.worker_rlimit_nofile);
  if (!main.error_log.empty()) {
    if (auto r = log_->setOutputs(errorLogOutputs(main.error_log)); !r) {
      log_->alert("{}", r.error());
    }
  }
}

void Proxy::commit(const ReloadPlan& plan, Staged st) {
  std::size_t kept = 0, opened = 0, closed = 0;
  for (const ListenStep& l : plan.listeners) {
    kept += l.step == ReloadStep::keep || l.step == ReloadStep::update;
    opened += l.step == ReloadStep::start;
    closed += l.step == ReloadStep::stop;
  }
  deploy(*st.gen, std::move(st.fds));
  for (const ListenStep& l : plan.listeners) {
    auto file = socket_files_.find(addrKey(l.addr, false));
    if (l.step != ReloadStep::stop || file == socket_files_.end()) continue;
    log_->warn("deleting socket {}", file->second.path());  // as nginx's reload
    socket_files_.erase(file);
  }
  for (auto& [key, file] : st.files) socket_files_[key] = std::move(file);
  if (st.status_kept) {
    status_->setConfig(*st.gen->cfg.status);
  } else {
    status_ = std::move(st.status);  // closes the old page, if any
  }
  current_ = std::move(st.gen);
  upstream_resolver_ = std::move(st.resolver);  // kept groups are looked up afresh
  ++generation_;
  ++reloads_ok_;
  last_reload_ = std::chrono::system_clock::now();
  last_reload_ok_ = true;
  last_reload_errors_.clear();
  log_->notice("reloaded: generation {}, {} listening address(es): {} kept, {} opened, {} closed",
               generation_, listening_.size(), kept, opened, closed);
  common::notifyReady(fmt::format("reloaded: {}", summary()));
}

void Proxy::gracefulStop() {
  if (stopping_) return;
  stopping_ = true;
  common::notifyStopping();
  // The status page goes first: the track script fails and the VIP moves
  // while the sessions drain.
  status_.reset();
  health_checkers_.clear();
  for (auto& w : workers_) {
    Worker* raw = w.get();
    raw->post([raw] { raw->drain(); });
  }
  auto timeout = current_->cfg.main.worker_shutdown_timeout;
  if (timeout.count() > 0) {
    shutdown_timer_.reset(evtimer_new(base_.get(), onShutdownTimeout, this));
    timeval tv = common::toTimeval(timeout);
    evtimer_add(shutdown_timer_.get(), &tv);
  }
  watchStop();
}

void Proxy::onShutdownTimeout(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Proxy*>(arg);
  self->log_->notice("worker_shutdown_timeout reached, closing the remaining sessions");
  for (auto& w : self->workers_) {
    Worker* raw = w.get();
    raw->post([raw] { raw->stopNow(); });
  }
}

void Proxy::fastStop() {
  if (!stopping_) common::notifyStopping();
  stopping_ = true;
  status_.reset();
  health_checkers_.clear();
  for (auto& w : workers_) {
    Worker* raw = w.get();
    raw->post([raw] { raw->stopNow(); });
  }
  watchStop();
}

void Proxy::watchStop() {
  if (!stop_check_) stop_check_.reset(event_new(base_.get(), -1, EV_PERSIST, onStopCheck, this));
  timeval tv = common::toTimeval(kStopCheck);
  event_add(stop_check_.get(), &tv);
}

void Proxy::onStopCheck(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Proxy*>(arg);
  for (std::size_t i = 0; i < self->workers_.size(); ++i) {
    if (!self->finished_[i].load()) return;
  }
  event_base_loopbreak(self->base_.get());
}

namespace {

// One worker's counters; `now_ns` is the steady clock, as its heartbeat.
WorkerSnapshot workerSnapshot(const WorkerCounters& c, std::int64_t now_ns) {
  WorkerSnapshot ws;
  ws.accepted = c.accepted.get();
  ws.handled = c.handled.get();
  ws.active = c.active.get();
  ws.accept_pauses = c.accept_pauses.get();
  ws.access_log_lost_lines = c.access_log_lost_lines.get();
  ws.udp_sessions = c.udp_sessions.get();
  ws.udp_dropped = c.udp_dropped.get();
  ws.heartbeat_age =
      static_cast<double>(now_ns - c.heartbeat_ns.load(std::memory_order_relaxed)) / 1e9;
  return ws;
}

// A [server]'s counters, summed over the workers' slots.
ServerSnapshot serverSnapshot(const ServerBlock& block, std::size_t workers) {
  ServerSnapshot s;
  s.name = block.section.name;
  for (const auto& a : block.section.listen) s.listen.push_back(a.toString());
  for (std::size_t i = 0; i < workers; ++i) {
    const ServerCounters& c = block.stats->slot(i);
    s.active += c.active.get();
    s.total += c.total.get();
    for (std::size_t k = 0; k < s.by_status.size(); ++k) s.by_status[k] += c.by_status[k].get();
    s.client_received += c.client_received.get();
    s.client_sent += c.client_sent.get();
    s.upstream_sent += c.upstream_sent.get();
    s.upstream_received += c.upstream_received.get();
    s.connect_failures += c.connect_failures.get();
    for (std::size_t k = 0; k < s.connect_buckets.size(); ++k) {
      s.connect_buckets[k] += c.connect_buckets[k].get();
    }
    s.connect_count += c.connect_count.get();
    s.connect_sum_us += c.connect_sum_us.get();
  }
  return s;
}

// An upstream group's peers with their states and last connect errors.
GroupSnapshot groupSnapshot(const GroupRuntime& g, std::chrono::steady_clock::time_point mono,
                            std::chrono::system_clock::time_point wall) {
  GroupSnapshot gs;
  gs.name = g.section.name;
  gs.method = balanceMethodName(g.section.method);
  std::vector<Peer> peers = g.group->snapshot();
  for (std::size_t i = 0; i < peers.size(); ++i) {
    PeerSnapshot ps = describePeer(peers[i], mono, wall);
    ps.backup = peers[i].backup;
    if (auto e = g.errors->get(ps.addr)) {
      ps.last_error = e->text;
      ps.last_error_time = unixNow(e->when);
    }
    gs.peers.push_back(std::move(ps));
  }
  return gs;
}

}  // namespace

ProcessSnapshot Proxy::processSnapshot(std::chrono::system_clock::time_point wall) const {
  ProcessSnapshot p;
  p.version = common::kVersion;
  p.hostname = process_.hostname;
  p.pid = process_.pid;
  p.start_time = unixNow(started_);
  p.now = unixNow(wall);
  p.config_path = initial_cfg_.path;
  p.generation = generation_;
  p.reloads_ok = reloads_ok_;
  p.reloads_failed = reloads_failed_;
  if (last_reload_) p.last_reload_time = unixNow(*last_reload_);
  p.last_reload_ok = last_reload_ok_;
  p.last_reload_errors = last_reload_errors_;
  p.worker_connections = current_->cfg.main.worker_connections;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) p.rlimit_nofile = rl.rlim_cur;
  p.open_fds = countOpenFds();
  return p;
}

StatsSnapshot Proxy::snapshot() const {
  StatsSnapshot snap;
  auto wall = std::chrono::system_clock::now();
  auto mono = std::chrono::steady_clock::now();
  snap.process = processSnapshot(wall);
  snap.status_page = status_stats_;
  const std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(mono.time_since_epoch()).count();
  for (const auto& w : workers_) snap.workers.push_back(workerSnapshot(w->counters(), now_ns));
  for (const auto& block : current_->blocks) {
    snap.servers.push_back(serverSnapshot(*block, workers_.size()));
  }
  for (const GroupRuntime& g : current_->groups)
    snap.groups.push_back(groupSnapshot(g, mono, wall));
  return snap;
}

}  // namespace proxyd
