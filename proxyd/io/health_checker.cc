#include "proxyd/io/health_checker.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "common/event.h"
#include "common/sys_error.h"
#include "common/unique_fd.h"
#include "proxyd/core/config.h"
#include "proxyd/core/server_block.h"

namespace proxyd {
namespace {

using common::TimePoint;

// A status line longer than this is not one.
constexpr std::size_t kMaxStatusLine = 4096;

// Every queued OpenSSL error of this thread, joined; clears the queue.
std::string drainOpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

TimePoint now() {
  return std::chrono::steady_clock::now();
}

}  // namespace

// One peer: its fall/rise state and the check in flight, if any. A check is
// connect (plain event on the non-blocking socket), then for http/https a
// bufferevent (bufferevent_openssl for https) that sends the request and
// reads the status line; `deadline` bounds the whole check.
struct HealthChecker::Probe {
  HealthChecker* owner;
  std::size_t index;  // in UpstreamGroup::snapshot() order
  common::SocketAddress addr;
  std::string addr_text;
  std::string server_name;  // as written: "192.0.2.11:6443", the Host header
  std::string host;         // server_name's host, without port or brackets
  bool host_is_ip = false;
  HealthState state;

  common::EventPtr next_timer;  // the next check
  common::EventPtr deadline;    // the running check's timeout
  common::EventPtr connect_ev;  // EV_WRITE while connecting
  common::UniqueFd fd;          // the socket until a bufferevent owns it
  common::BufferEventPtr bev;
  std::string response;
  TimePoint started{};
  const char* phase = "connecting";
  bool running = false;

  Probe(HealthChecker* o, std::size_t i, const Peer& peer, const HealthCheckOptions& opts)
      : owner(o),
        index(i),
        addr(peer.addr),
        addr_text(peer.addr_text),
        server_name(peer.server_name),
        state(opts.fall, opts.rise, opts.mandatory) {
    auto hp = common::splitHostPort(server_name);
    host = hp ? hp->host : addr.hostText();
    host_is_ip = common::SocketAddress::fromNumeric(host, 0).ok();
  }

  void schedule(common::Duration delay) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(delay);
    timeval tv = common::toTimeval(us);
    evtimer_add(next_timer.get(), &tv);
  }

  static void onTimer(evutil_socket_t, short, void* arg) { static_cast<Probe*>(arg)->begin(); }

  void begin() {
    const HealthCheckOptions& opts = owner->opts_;
    running = true;
    started = now();
    phase = "connecting";
    response.clear();
    timeval tv = common::toTimeval(opts.timeout);
    evtimer_add(deadline.get(), &tv);

    fd.reset(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return finish(false, common::SysError{"socket()", errno}.message());
    if (::connect(fd.get(), addr.sa(), addr.len()) != 0 && errno != EINPROGRESS) {
      return finish(false, common::SysError{"connect()", errno}.message());
    }
    connect_ev.reset(event_new(owner->base_, fd.get(), EV_WRITE, onConnected, this));
    if (!connect_ev || event_add(connect_ev.get(), nullptr) != 0) {
      return finish(false, "cannot add a connect event");
    }
  }

  static void onConnected(evutil_socket_t, short, void* arg) {
    static_cast<Probe*>(arg)->connected();
  }

  void connected() {
    connect_ev.reset();
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return finish(false, common::SysError{"connect()", err}.message());

    const HealthCheckOptions& opts = owner->opts_;
    if (opts.type == HealthCheckType::tcp) return finish(true, "");

    if (opts.type == HealthCheckType::https) {
      SSL* ssl = SSL_new(owner->ssl_ctx_.get());
      if (ssl == nullptr) return finish(false, "SSL_new() failed: " + drainOpenSslErrors());
      if (!configureTls(ssl)) {
        SSL_free(ssl);
        return finish(false, "TLS set-up failed: " + drainOpenSslErrors());
      }
      // On success the bufferevent owns both the SSL and the socket.
      bev.reset(bufferevent_openssl_socket_new(owner->base_, fd.get(), ssl,
                                               BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE));
      if (!bev) {
        SSL_free(ssl);
        return finish(false, "bufferevent_openssl_socket_new() failed");
      }
      fd.release();
      phase = "TLS handshake";
    } else {
      bev.reset(bufferevent_socket_new(owner->base_, fd.get(), BEV_OPT_CLOSE_ON_FREE));
      if (!bev) return finish(false, "bufferevent_socket_new() failed");
      fd.release();
      phase = "waiting for the response";
    }
    // HTTP/1.0 with Connection: close: the server closes after one answer,
    // and no chunked body is ever sent to us.
    std::string host_header = opts.sni.empty() ? server_name : opts.sni;
    std::string request = fmt::format(
        "GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: proxyd-health-check\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n",
        opts.uri, host_header);
    bufferevent_setcb(bev.get(), onRead, nullptr, onEvent, this);
    bufferevent_write(bev.get(), request.data(), request.size());
    bufferevent_enable(bev.get(), EV_READ | EV_WRITE);
  }

  // SNI and the name the certificate must carry: sni= if given; else the
  // server's own name when it is one (RFC 6066 keeps IP literals out of
  // SNI), checked against the certificate's IP SANs when it is an address,
  // as kube-apiserver certificates list the node IPs.
  bool configureTls(SSL* ssl) {
    const HealthCheckOptions& opts = owner->opts_;
    std::string name = !opts.sni.empty() ? opts.sni : host_is_ip ? std::string() : host;
    if (!name.empty() && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) return false;
    if (!opts.verify) return true;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (!name.empty()) {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      return X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0) == 1;
    }
    return X509_VERIFY_PARAM_set1_ip_asc(param, addr.hostText().c_str()) == 1;
  }

  static void onRead(bufferevent* bev, void* arg) {
    auto* self = static_cast<Probe*>(arg);
    evbuffer* in = bufferevent_get_input(bev);
    std::size_t n = evbuffer_get_length(in);
    std::size_t room = kMaxStatusLine + 2 - std::min(self->response.size(), kMaxStatusLine + 2);
    std::size_t take = std::min(n, room);
    std::size_t old = self->response.size();
    self->response.resize(old + take);
    evbuffer_remove(in, self->response.data() + old, take);
    evbuffer_drain(in, evbuffer_get_length(in));
    self->readResponse(false);
  }

  void readResponse(bool eof) {
    const HealthCheckOptions& opts = owner->opts_;
    auto nl = response.find('\n');
    if (nl == std::string::npos) {
      if (response.size() > kMaxStatusLine) return finish(false, "status line too long");
      if (eof) {
        return finish(false,
                      response.empty()
                          ? fmt::format("connection closed without a response to {}", opts.uri)
                          : "connection closed in the status line");
      }
      return;
    }
    auto status = parseStatusLine(std::string_view(response).substr(0, nl));
    if (!status) return finish(false, status.error());
    if (!expectedStatus(opts, *status)) {
      return finish(false, fmt::format("HTTP {} from {}", *status, opts.uri));
    }
    finish(true, "");
  }

  static void onEvent(bufferevent* bev, short what, void* arg) {
    auto* self = static_cast<Probe*>(arg);
    if (what & BEV_EVENT_CONNECTED) {
      self->phase = "waiting for the response";
      return;
    }
    if (what & BEV_EVENT_EOF) return self->readResponse(true);
    if (what & BEV_EVENT_ERROR) {
      std::string why;
      if (self->owner->opts_.type == HealthCheckType::https) {
        SSL* ssl = bufferevent_openssl_get_ssl(bev);
        // The verify result is computed with verify=off too; only report it
        // when it decided.
        long verify = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
        if (self->owner->opts_.verify && verify != X509_V_OK) {
          why = fmt::format("certificate verify failed: {}", X509_verify_cert_error_string(verify));
        }
        while (unsigned long e = bufferevent_get_openssl_error(bev)) {
          // libevent queues SSL_get_error()'s code as an error of library 0
          // next to the real ones: it says nothing more.
          if (ERR_GET_LIB(e) == 0) continue;
          char buf[256];
          ERR_error_string_n(e, buf, sizeof buf);
          why += (why.empty() ? "" : "; ") + std::string(buf);
        }
      }
      int err = EVUTIL_SOCKET_ERROR();
      if (why.empty() && err != 0) why = common::SysError::errnoText(err);
      if (why.empty()) why = "connection error";
      return self->finish(false, fmt::format("{} ({})", why, self->phase));
    }
  }

  static void onDeadline(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<Probe*>(arg);
    self->finish(false, fmt::format("timed out after {} ms ({})",
                                    self->owner->opts_.timeout.count(), self->phase));
  }

  // Ends the running check: frees its resources (from inside a bufferevent
  // callback too: libevent defers the actual free), counts the result, logs
  // a change of health, and schedules the next check.
  void finish(bool passed, std::string error) {
    if (!running) return;
    running = false;
    evtimer_del(deadline.get());
    connect_ev.reset();
    bev.reset();
    fd.reset();
    response.clear();

    const HealthCheckOptions& opts = owner->opts_;
    UpstreamGroup& group = *owner->group_;
    common::Log& log = owner->log_;
    HealthState::Change change = state.record(passed);
    if (!passed) {
      log.info("health check of upstream server {} in \"{}\" failed: {} ({} of {})", addr_text,
               group.name(), error, state.failures(), opts.fall);
    }
    switch (change) {
      case HealthState::Change::became_unhealthy:
        log.warn("upstream server {} in \"{}\" is unhealthy: {} ({} check{})", addr_text,
                 group.name(), error, state.failures(), state.failures() == 1 ? "" : "s");
        break;
      case HealthState::Change::became_healthy:
        log.notice("upstream server {} in \"{}\" is healthy again ({} check{} passed)", addr_text,
                   group.name(), state.successes(), state.successes() == 1 ? "" : "s");
        break;
      case HealthState::Change::none:
        break;
    }
    group.recordHealthCheck(index, !state.healthy(), passed ? std::string() : std::move(error));
    schedule(nextCheckDelay(started, now(), opts.interval));
  }
};

HealthChecker::HealthChecker(event_base* base, std::shared_ptr<UpstreamGroup> group,
                             HealthCheckOptions opts, common::Log& log)
    : base_(base), group_(std::move(group)), opts_(std::move(opts)), log_(log) {}

HealthChecker::~HealthChecker() = default;

common::Result<void> HealthChecker::loadTls() {
  using R = common::Result<void>;
  const HealthCheckOptions& o = opts_;
  std::string where = fmt::format("health_check of upstream \"{}\"", group_->name());
  ERR_clear_error();
  common::SslCtxPtr fresh(SSL_CTX_new(TLS_client_method()));
  if (!fresh) return R::fail(fmt::format("{}: SSL_CTX_new() failed", where));
  SSL_CTX* ctx = fresh.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (o.verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    int ok = o.ca.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                          : SSL_CTX_load_verify_locations(ctx, o.ca.c_str(), nullptr);
    if (ok != 1) {
      return R::fail(
          fmt::format("{}: cannot load the CA file \"{}\": {}", where, o.ca, drainOpenSslErrors()));
    }
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!o.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert.c_str()) != 1) {
      return R::fail(fmt::format("{}: cannot load the certificate \"{}\": {}", where, o.cert,
                                 drainOpenSslErrors()));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return R::fail(
          fmt::format("{}: cannot load the key \"{}\": {}", where, o.key, drainOpenSslErrors()));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return R::fail(fmt::format("{}: the key \"{}\" does not match the certificate \"{}\"", where,
                                 o.key, o.cert));
    }
  }
  // A check in flight keeps the old context: SSL_new() took a reference.
  ssl_ctx_ = std::move(fresh);
  return {};
}

common::Result<std::unique_ptr<HealthChecker>> HealthChecker::create(
    event_base* base, std::shared_ptr<UpstreamGroup> group, HealthCheckOptions opts,
    common::Log& log) {
  using R = common::Result<std::unique_ptr<HealthChecker>>;
  std::unique_ptr<HealthChecker> hc(
      new HealthChecker(base, std::move(group), std::move(opts), log));
  const HealthCheckOptions& o = hc->opts_;
  std::string where = fmt::format("health_check of upstream \"{}\"", hc->group_->name());

  if (o.type == HealthCheckType::https) {
    if (auto r = hc->loadTls(); !r) return R::fail(r.error());
  }

  std::vector<Peer> peers = hc->group_->snapshot();
  for (std::size_t i = 0; i < peers.size(); ++i) {
    auto probe = std::make_unique<Probe>(hc.get(), i, peers[i], hc->opts_);
    Probe* p = probe.get();
    p->next_timer.reset(evtimer_new(base, Probe::onTimer, p));
    p->deadline.reset(evtimer_new(base, Probe::onDeadline, p));
    if (!p->next_timer || !p->deadline)
      return R::fail(fmt::format("{}: evtimer_new() failed", where));
    hc->probes_.push_back(std::move(probe));
  }
  return hc;
}

void HealthChecker::start() {
  group_->enableHealthChecks(opts_.mandatory);
  log_.info("health checks of upstream \"{}\": {} every {} ms, timeout {} ms, fall {}, rise {}",
            group_->name(), healthCheckTypeName(opts_.type), opts_.interval.count(),
            opts_.timeout.count(), opts_.fall, opts_.rise);
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    probes_[i]->schedule(firstCheckDelay(i, probes_.size(), opts_.interval));
  }
}

common::Result<std::vector<std::unique_ptr<HealthChecker>>> startHealthChecks(
    event_base* base, const ProxyConfig& cfg,
    const std::vector<std::shared_ptr<UpstreamGroup>>& groups, common::Log& log) {
  using R = common::Result<std::vector<std::unique_ptr<HealthChecker>>>;
  std::vector<std::unique_ptr<HealthChecker>> checkers;
  std::map<const UpstreamGroup*, bool> done;
  for (const auto& group : groups) {
    if (!group || done[group.get()]) continue;
    done[group.get()] = true;
    const UpstreamSection* up = cfg.findUpstream(group->name());
    if (up == nullptr || !up->health_check) continue;
    auto hc = HealthChecker::create(base, group, *up->health_check, log);
    if (!hc) return R::fail(hc.error());
    checkers.push_back(std::move(*hc));
  }
  for (auto& hc : checkers) hc->start();
  return checkers;
}

}  // namespace proxyd
