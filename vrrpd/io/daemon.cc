#include "vrrpd/io/daemon.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/safe_file.h"
#include "common/sd_notify.h"
#include "common/sys_error.h"
#include "vrrpd/core/sync_group.h"
#include "vrrpd/io/announcer.h"
#include "vrrpd/io/interface_info.h"

namespace vrrpd {

namespace {

constexpr std::chrono::seconds kStopNotifyWait{10};

std::string wallTime(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm;
  ::localtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  return buf;
}

void makeDirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      ::mkdir(path.substr(0, i).c_str(), 0755);
    }
  }
}

}  // namespace

Daemon::Daemon(VrrpConfig cfg, std::shared_ptr<common::Log> log)
    : cfg_(std::move(cfg)), log_(std::move(log)) {}

Daemon::~Daemon() {
  instances_.clear();
  track_scripts_.clear();
  notifier_.reset();
  link_event_.reset();
  ports_.clear();
  signals_.clear();
  monitor_event_.reset();
  state_timer_.reset();
  drop_log_timer_.reset();
  scripts_.reset();
  vips_.reset();
}

std::string Daemon::stateFilePath() const {
  return cfg_.global.run_dir + "/state.json";
}

common::Result<void> Daemon::start() {
  using R = common::Result<void>;
  base_.reset(event_base_new());
  if (!base_) return R::fail("event_base_new() failed");
  timers_ = std::make_unique<EventTimerFactory>(base_.get());
  auto vips = NetlinkVipManager::open();
  if (!vips) return R::fail(vips.error());
  vips_ = std::move(*vips);
  scripts_ = std::make_unique<ScriptRunner>(base_.get(), *log_);

  notifier_ = std::make_unique<Notifier>(*scripts_, *log_);
  notifier_->setPolicy(ScriptPolicy::from(cfg_.global));

  makeDirs(cfg_.global.run_dir);
  monitor_event_.reset(
      event_new(base_.get(), vips_->monitorFd(), EV_READ | EV_PERSIST, onVipMonitor, this));
  if (!monitor_event_ || event_add(monitor_event_.get(), nullptr) != 0) {
    return R::fail("cannot watch the netlink address monitor");
  }
  auto links = LinkMonitor::open();
  if (!links) return R::fail(links.error());
  links_ = std::move(*links);
  link_event_.reset(
      event_new(base_.get(), links_->fd(), EV_READ | EV_PERSIST, onLinkMonitor, this));
  if (!link_event_ || event_add(link_event_.get(), nullptr) != 0) {
    return R::fail("cannot watch the netlink link monitor");
  }
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
    common::EventPtr ev(evsignal_new(base_.get(), sig, onSignal, this));
    if (!ev || event_add(ev.get(), nullptr) != 0) return R::fail("cannot install signal handlers");
    signals_.push_back(std::move(ev));
  }
  std::signal(SIGPIPE, SIG_IGN);
  state_timer_.reset(evtimer_new(base_.get(), onStateTimer, this));
  drop_log_timer_.reset(evtimer_new(base_.get(), onDropLogTimer, this));

  for (const auto& sec : cfg_.instances) {
    auto inst = makeInstance(sec);
    if (!inst) return R::fail(fmt::format("{}: {}", sec.name, inst.error()));
    instances_.push_back(std::move(*inst));
  }
  startInstances();
  return {};
}

common::Result<Daemon::Port*> Daemon::port(const std::string& ifname, int family, bool multicast) {
  using R = common::Result<Port*>;
  auto key = std::make_pair(ifname, family);
  if (auto it = ports_.find(key); it != ports_.end()) return it->second.get();
  auto ifc = lookupInterface(ifname);
  if (!ifc) return R::fail(ifc.error());
  auto sock = VrrpSocket::open(family, ifname, ifc->index, multicast);
  if (!sock) return R::fail(sock.error());
  auto p = std::make_unique<Port>();
  p->daemon = this;
  p->ifname = ifname;
  p->family = family;
  p->ifc = *ifc;
  p->socket = std::make_unique<VrrpSocket>(std::move(*sock));
  p->event.reset(
      event_new(base_.get(), p->socket->fd(), EV_READ | EV_PERSIST, onReadable, p.get()));
  if (!p->event || event_add(p->event.get(), nullptr) != 0) {
    return R::fail("event_add() failed for a VRRP socket");
  }
  Port* raw = p.get();
  ports_.emplace(key, std::move(p));
  return raw;
}

common::Result<std::unique_ptr<VrrpInstance>> Daemon::makeInstance(const InstanceSection& sec) {
  using R = common::Result<std::unique_ptr<VrrpInstance>>;
  int family = sec.vips.empty() ? AF_INET : sec.vips.front().addr.family();
  // One socket per interface and family serves multicast and unicast
  // instances alike, so it always joins the group: an instance opened
  // later may be a multicast one.
  auto p = port(sec.interface, family, true);
  if (!p) return R::fail(p.error());
  std::unique_ptr<Announcer> announcer;
  if (auto a = Announcer::open((*p)->ifc)) {
    announcer = std::make_unique<Announcer>(std::move(*a));
  } else {
    log_->error("{}: gratuitous ARP/NA disabled: {}", sec.name, a.error());
  }
  InstanceEnv env;
  env.log = log_.get();
  env.clock = &clock_;
  env.timers = timers_.get();
  env.vips = vips_.get();
  env.links = &link_table_;
  env.notify = [this](const std::string& instance, NotifyEvent ev) {
    notifier_->notify(instance, std::move(ev));
  };
  env.changed = [this] { scheduleStateWrite(); };
  env.transitioned = [this](VrrpInstance&, State, State) { syncGroups(); };
  env.fault_changed = [this] { syncGroups(); };
  env.log_drop = [this](DropReason r) { return logDrop(r); };
  return std::make_unique<VrrpInstance>(
      sec, globalsFor(sec, cfg_.global), (*p)->ifc,
      std::make_unique<SocketPacketIo>(*(*p)->socket, std::move(announcer)), std::move(env));
}

void Daemon::wireTracking(const std::vector<ScriptPlan>& plan) {
  // A script the plan does not keep is built anew: its settings may have
  // changed. A fresh script starts as keepalived's do: OK unless init_fail.
  std::map<std::string, std::unique_ptr<TrackScript>> scripts;
  std::vector<TrackScript*> fresh;
  for (const auto& inst : instances_) {
    for (const auto& ref : inst->config().track_scripts) {
      if (scripts.count(ref.name)) continue;
      const ScriptSection* sec = cfg_.findScript(ref.name);
      if (sec == nullptr) continue;  // the config check made this an error
      auto it = track_scripts_.find(ref.name);
      // A script whose way of running and judging is unchanged keeps its
      // state (no flap on HUP); its weight is read from the new file below.
      bool kept = std::any_of(plan.begin(), plan.end(), [&](const ScriptPlan& p) {
        return p.name == ref.name && (p.step == ReloadStep::keep || p.step == ReloadStep::update);
      });
      if (it != track_scripts_.end() && kept) {
        scripts.emplace(ref.name, std::move(it->second));  // keep its state: no flap on HUP
        continue;
      }
      auto script = std::make_unique<TrackScript>(*sec, base_.get(), *scripts_,
                                                  ScriptPolicy::from(cfg_.global), *log_);
      script->subscribe([this](const TrackScript&) {
        for (auto& inst : instances_) inst->reevaluate();
      });
      fresh.push_back(script.get());
      scripts.emplace(ref.name, std::move(script));
    }
  }
  track_scripts_ = std::move(scripts);
  for (auto& inst : instances_) {
    std::vector<TrackedScript> tracked;
    for (const auto& ref : inst->config().track_scripts) {
      auto it = track_scripts_.find(ref.name);
      if (it == track_scripts_.end()) continue;
      const ScriptSection& sec = *cfg_.findScript(ref.name);
      int weight = ref.weight.value_or(sec.reverse ? -sec.weight : sec.weight);
      tracked.push_back({it->second.get(), weight});
    }
    inst->trackScripts(std::move(tracked));
  }
  for (TrackScript* script : fresh) script->start();
}

// keepalived's sync groups (sync_group.h): recomputed whenever a member's
// state or own fault changes (setGroupFault does nothing when the cause is
// the same). A member's cause is taken from the own faults as they are when
// its turn comes: handing an earlier member its cause may have changed them.
void Daemon::syncGroups() {
  auto own_faults = [this] {
    std::set<std::string> names;
    for (const auto& inst : instances_) {
      if (inst->ownFault()) names.insert(inst->name());
    }
    return names;
  };
  for (const auto& group : cfg_.sync_groups) {
    for (const auto& member : group.members) {
      VrrpInstance* target = nullptr;
      for (auto& inst : instances_) {
        if (inst->name() == member) target = inst.get();
      }
      if (target != nullptr) target->setGroupFault(groupFault(group, member, own_faults()));
    }
  }
}

void Daemon::startInstances(const std::vector<ScriptPlan>& scripts) {
  wireTracking(scripts);
  for (auto& inst : instances_) {
    // Instances kept by a reload may track with new weights now.
    if (inst->state() == State::init)
      inst->start();
    else
      inst->reevaluate();
  }
  scheduleStateWrite();
}

int Daemon::run() {
  log_->notice("vrrpd started: {} instance(s), pid {}", instances_.size(), ::getpid());
  common::notifyReady(fmt::format("{} instance(s)", instances_.size()));
  writeStateFile();
  event_base_dispatch(base_.get());
  common::notifyStopping();
  stopAll();
  writeStateFile();
  drainNotifies();
  writeStateFile();
  log_->notice("vrrpd stopped");
  return 0;
}

void Daemon::stopAll() {
  for (auto& inst : instances_) inst->stop();
}

// The notify_stop scripts (and any notify still queued before them) run
// before vrrpd exits, for at most kStopNotifyWait in all (the unit's
// TimeoutStopSec is 15 s); a second TERM ends the wait, and ~ScriptRunner
// kills whatever is left.
void Daemon::drainNotifies() {
  if (!notifier_ || notifier_->idle()) return;
  notifier_->on_idle = [this] { event_base_loopbreak(base_.get()); };
  auto bound = std::min<std::chrono::milliseconds>(
      cfg_.global.notify_timeout + ScriptRunner::kKillGrace + std::chrono::seconds(1),
      kStopNotifyWait);
  timeval tv = common::toTimeval(bound);
  event_base_loopexit(base_.get(), &tv);
  event_base_dispatch(base_.get());
  notifier_->on_idle = nullptr;
  if (!notifier_->idle()) log_->warn("notify scripts still running at exit: killed");
}

void Daemon::onReadable(evutil_socket_t, short, void* arg) {
  auto* port = static_cast<Port*>(arg);
  Daemon* self = port->daemon;
  CodecOptions codec;
  codec.v3_checksum_as_v2 = self->cfg_.global.v3_checksum_as_v2;
  for (int budget = 0; budget < 64; ++budget) {
    Received got = port->socket->receive();
    if (std::holds_alternative<WouldBlock>(got)) return;  // nothing more to read
    if (const auto* err = std::get_if<ReceiveError>(&got)) {
      self->log_->error("{}: receiving VRRP failed: {}", port->ifname,
                        common::SysError{"recvmsg", err->error}.brief());
      return;
    }
    if (const auto* why = std::get_if<Drop>(&got)) {
      ++port->dropped[static_cast<size_t>(why->reason)];
      if (self->logDrop(why->reason)) {
        self->log_->debug("{}: dropped datagram: {} ({})", port->ifname,
                          dropReasonName(why->reason), why->detail);
      }
      continue;
    }
    const Datagram* dg = &std::get<Datagram>(got);
    auto decoded = decodeAdvert(dg->payload, dg->src, dg->dst, codec);
    if (!decoded.ok()) {
      ++port->dropped[static_cast<size_t>(decoded.drop.reason)];
      if (self->logDrop(decoded.drop.reason)) {
        self->log_->debug("{}: dropped packet from {}: {} ({})", port->ifname, dg->src.toString(),
                          dropReasonName(decoded.drop.reason), decoded.drop.detail);
      }
      continue;
    }
    VrrpInstance* target = nullptr;
    for (auto& inst : self->instances_) {
      if (inst->vrid() == decoded.advert->vrid && inst->family() == port->family &&
          inst->interface().name == port->ifname) {
        target = inst.get();
        break;
      }
    }
    if (target == nullptr) {
      ++port->dropped[static_cast<size_t>(DropReason::unknown_vrid)];
      if (self->logDrop(DropReason::unknown_vrid)) {
        self->log_->debug("{}: dropped advert from {}: unknown_vrid (VRID {})", port->ifname,
                          dg->src.toString(), decoded.advert->vrid);
      }
      continue;
    }
    target->receive(*decoded.advert, dg->src, dg->ttl);
  }
}

void Daemon::onVipMonitor(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Daemon*>(arg);
  self->vips_->drain([self](const common::IpAddress& addr, int ifindex) {
    for (auto& inst : self->instances_) inst->addressDeleted(addr, ifindex);
  });
}

void Daemon::onLinkMonitor(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Daemon*>(arg);
  self->links_->drain([self](int ifindex, bool up) {
    for (auto& inst : self->instances_) inst->linkChanged(ifindex, up);
  });
}

void Daemon::onSignal(evutil_socket_t sig, short, void* arg) {
  auto* self = static_cast<Daemon*>(arg);
  switch (sig) {
    case SIGTERM:
    case SIGINT:
      self->log_->notice("signal {} received, stopping: masters send priority 0", sig);
      event_base_loopbreak(self->base_.get());
      break;
    case SIGHUP:
      self->reload();
      break;
    case SIGUSR1:
      self->writeStateFile();
      break;
  }
}

// HUP: unchanged instances keep their state and VIPs (no flap), new ones
// start, removed or changed ones stop (priority 0, VIPs removed) first.
void Daemon::reload() {
  common::notifyReloading();
  common::Diagnostics diag;
  VrrpConfig next = loadVrrpConfig(cfg_.path, diag);
  for (const auto& d : diag.items()) {
    log_->log(
        d.severity == common::Severity::error ? common::LogLevel::error : common::LogLevel::warn,
        "{}", d.format());
  }
  if (diag.hasErrors()) {
    log_->error("reload failed: keeping the running configuration");
    common::notifyReady("reload failed, running the previous configuration");
    return;
  }
  // planReload() decides from the two configurations alone, [global]
  // values the instance uses included (reload_plan.h).
  std::vector<std::unique_ptr<VrrpInstance>> kept;
  std::map<std::string, std::unique_ptr<VrrpInstance>> old;
  for (auto& inst : instances_) {
    std::string n = inst->name();
    old.emplace(n, std::move(inst));
  }
  instances_.clear();
  ReloadPlan plan = planReload(cfg_, next);
  for (const auto& step : plan.instances) {
    auto it = old.find(step.name);
    if (step.step == ReloadStep::keep && it != old.end()) {
      it->second->reloaded();
      kept.push_back(std::move(it->second));
      old.erase(it);
    } else if (it != old.end()) {
      log_->notice("{}: {} by the reload ({}), stopping it", step.name,
                   step.step == ReloadStep::stop ? "removed" : "restarted", step.why);
    }
  }
  for (auto& [name, inst] : old) inst->stop();
  old.clear();
  cfg_ = std::move(next);
  notifier_->setPolicy(ScriptPolicy::from(cfg_.global));
  instances_ = std::move(kept);
  for (const auto& sec : cfg_.instances) {
    bool present = false;
    for (auto& inst : instances_) present |= inst->name() == sec.name;
    if (present) continue;
    auto inst = makeInstance(sec);
    if (!inst) {
      log_->error("{}: {}", sec.name, inst.error());
      continue;
    }
    instances_.push_back(std::move(*inst));
  }
  startInstances(plan.scripts);
  ++reloads_;
  log_->notice("configuration reloaded: {} instance(s)", instances_.size());
  common::notifyReady(fmt::format("{} instance(s)", instances_.size()));
}

bool Daemon::logDrop(DropReason reason) {
  if (!log_->enabled(common::LogLevel::debug)) return false;
  auto v = drop_log_.admit(reason, std::chrono::steady_clock::now());
  if (v.suppressed > 0) {
    log_->debug("dropped packets: {} more {} line(s) suppressed in the last second", v.suppressed,
                dropReasonName(reason));
  }
  if (drop_log_timer_ && !evtimer_pending(drop_log_timer_.get(), nullptr)) armDropLogTimer();
  return v.log;
}

void Daemon::armDropLogTimer() {
  auto at = drop_log_.nextReport();
  if (!at) return;
  auto wait = std::max(common::Duration::zero(), *at - std::chrono::steady_clock::now());
  timeval tv = common::toTimeval(std::chrono::duration_cast<std::chrono::microseconds>(wait));
  evtimer_add(drop_log_timer_.get(), &tv);
}

// A flood's last window: said once it is over, even if no packet follows.
void Daemon::onDropLogTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Daemon*>(arg);
  for (const auto& s : self->drop_log_.expire(std::chrono::steady_clock::now())) {
    self->log_->debug("dropped packets: {} more {} line(s) suppressed in the last second", s.count,
                      dropReasonName(s.reason));
  }
  self->armDropLogTimer();
}

void Daemon::scheduleStateWrite() {
  if (state_write_pending_ || !state_timer_) return;
  state_write_pending_ = true;
  timeval tv{0, 0};
  evtimer_add(state_timer_.get(), &tv);
}

void Daemon::onStateTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<Daemon*>(arg);
  self->state_write_pending_ = false;
  self->writeStateFile();
}

void Daemon::writeStateFile() {
  using nlohmann::json;
  json doc;
  doc["pid"] = ::getpid();
  doc["router_id"] = cfg_.global.router_id;
  doc["config"] = cfg_.path;
  doc["written"] = wallTime(std::chrono::system_clock::now());
  doc["reloads"] = reloads_;
  json insts = json::array();
  for (const auto& inst : instances_) {
    const auto& c = inst->counters();
    json drops = json::object();
    for (size_t i = 0; i < c.dropped.size(); ++i) {
      if (c.dropped[i])
        drops[std::string(dropReasonName(static_cast<DropReason>(i)))] = c.dropped[i];
    }
    json vips = json::array();
    for (const auto& v : inst->config().vips) vips.push_back(v.toString());
    insts.push_back({
        {"name", inst->name()},
        {"interface", inst->interface().name},
        {"vrid", inst->vrid()},
        {"version", inst->version()},
        {"state", stateName(inst->state())},
        {"priority", inst->priority()},
        {"configured_priority", inst->config().priority},
        {"master", inst->masterAddress().empty() ? "" : inst->masterAddress().toString()},
        {"source", inst->sourceAddress().empty() ? "" : inst->sourceAddress().toString()},
        {"vips", vips},
        {"adverts_sent", c.adverts_sent},
        {"adverts_received", c.adverts_received},
        {"became_master", c.became_master},
        {"priority_zero_sent", c.priority_zero_sent},
        {"priority_zero_received", c.priority_zero_received},
        {"send_errors", c.send_errors},
        {"dropped", drops},
        {"last_transition", inst->lastTransition()},
        {"last_transition_time", wallTime(inst->lastTransitionTime())},
    });
  }
  doc["instances"] = insts;
  // One entry per socket, that is per interface AND family: keyed by the
  // name alone, the IPv6 socket's counters overwrote the IPv4 ones.
  json port_drops = json::array();
  for (const auto& [key, p] : ports_) {
    json drops = json::object();
    for (size_t i = 0; i < p->dropped.size(); ++i) {
      if (p->dropped[i]) {
        drops[std::string(dropReasonName(static_cast<DropReason>(i)))] = p->dropped[i];
      }
    }
    if (drops.empty()) continue;
    port_drops.push_back({{"interface", p->ifname},
                          {"family", p->family == AF_INET6 ? "ipv6" : "ipv4"},
                          {"dropped", drops}});
  }
  doc["interface_drops"] = port_drops;
  // Never through a planted link or a fixed temporary name (issue 9).
  if (auto r = common::replaceFile(stateFilePath(), doc.dump(2) + "\n"); !r) {
    log_->error("cannot write state file: {}", r.error());
  }
}

}  // namespace vrrpd
