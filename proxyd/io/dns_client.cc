#include "proxyd/io/dns_client.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <mutex>

#include "common/event.h"

namespace proxyd {
namespace {

// c-ares's statuses as nginx's resolver states: a reply's RCODE, a reply
// without an address (nginx: NXDOMAIN), or no reply in time.
int stateOf(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return kResolveOk;
    case ARES_EFORMERR:
    case ARES_EBADRESP:
      return kResolveFormErr;
    case ARES_ESERVFAIL:
      return kResolveServFail;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
      return kResolveNxDomain;
    case ARES_ENOTIMP:
      return kResolveNotImp;
    case ARES_EREFUSED:
      return kResolveRefused;
    default:  // ARES_ETIMEOUT, ARES_ECONNREFUSED: no answer
      return kResolveTimedOut;
  }
}

}  // namespace

// One A/AAAA lookup: the answers of its one or two queries merged.
struct DnsClient::HostQuery {
  HostDone done;
  int pending = 0;
  HostAnswer answer;
  int first_error = kResolveOk;
  bool any_ttl = false;
};

void DnsClient::ChannelFree::operator()(ares_channeldata* c) const {
  ares_destroy(c);
}

common::Result<std::unique_ptr<DnsClient>> DnsClient::create(event_base* base,
                                                             const ResolverSpec& spec,
                                                             std::chrono::milliseconds timeout) {
  using R = common::Result<std::unique_ptr<DnsClient>>;
  static std::once_flag once;
  static int init_status = ARES_SUCCESS;
  std::call_once(once, [] { init_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (init_status != ARES_SUCCESS) {
    return R::fail(fmt::format("ares_library_init() failed: {}", ares_strerror(init_status)));
  }
  std::unique_ptr<DnsClient> client(new DnsClient(base, spec));
  ares_options opts{};
  // resolver_timeout bounds the whole lookup: c-ares tries each server
  // once, so every server gets its share.
  auto servers = static_cast<long>(std::max<std::size_t>(spec.servers.size(), 1));
  opts.timeout = static_cast<int>(std::clamp<long>(timeout.count() / servers, 1, INT_MAX));
  opts.tries = 1;
  // NOCHECKRESP: a SERVFAIL or REFUSED is an answer (nginx logs its code),
  // not a reason to wait for a server that might say otherwise.
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
  opts.sock_state_cb = [](void* data, ares_socket_t fd, int r, int w) {
    onSocketState(data, fd, r, w);
  };
  opts.sock_state_cb_data = client.get();
  // No /etc/resolv.conf or hosts file: only the configured servers.
  opts.lookups = const_cast<char*>("b");
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_SOCK_STATE_CB |
             ARES_OPT_LOOKUPS;
  ares_channel channel = nullptr;
  if (int rc = ares_init_options(&channel, &opts, mask); rc != ARES_SUCCESS) {
    return R::fail(fmt::format("ares_init_options() failed: {}", ares_strerror(rc)));
  }
  client->channel_.reset(channel);

  std::vector<ares_addr_port_node> nodes(spec.servers.size());
  for (std::size_t i = 0; i < spec.servers.size(); ++i) {
    const common::SocketAddress& a = spec.servers[i];
    ares_addr_port_node& n = nodes[i];
    n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
    n.family = a.family();
    n.udp_port = n.tcp_port = a.port();
    if (a.family() == AF_INET) {
      n.addr.addr4 = reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr;
    } else {
      std::memcpy(&n.addr.addr6, &reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_addr, 16);
    }
  }
  if (int rc = ares_set_servers_ports(channel, nodes.empty() ? nullptr : nodes.data());
      rc != ARES_SUCCESS) {
    return R::fail(fmt::format("ares_set_servers_ports() failed: {}", ares_strerror(rc)));
  }
  client->timer_.reset(evtimer_new(base, onTimer, client.get()));
  return client;
}

DnsClient::~DnsClient() {
  // ares_destroy() calls every pending callback with ARES_EDESTRUCTION; they
  // free their query and call nobody.
  channel_.reset();
}

void DnsClient::onSocketState(void* data, int fd, int readable, int writable) {
  auto* self = static_cast<DnsClient*>(data);
  if (!readable && !writable) {
    self->sockets_.erase(fd);
    return;
  }
  short what =
      static_cast<short>(EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
  common::EventPtr ev(event_new(self->base_, fd, what, onSocket, self));
  event_add(ev.get(), nullptr);
  self->sockets_[fd] = std::move(ev);
}

void DnsClient::onSocket(evutil_socket_t fd, short what, void* arg) {
  auto* self = static_cast<DnsClient*>(arg);
  ares_process_fd(self->channel_.get(), (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                  (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
  self->rearmTimer();
}

void DnsClient::onTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<DnsClient*>(arg);
  ares_process_fd(self->channel_.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  self->rearmTimer();
}

// c-ares's next deadline (a retry or a timeout) on the loop.
void DnsClient::rearmTimer() {
  timeval max{1, 0};
  timeval tv{};
  if (ares_timeout(channel_.get(), &max, &tv) == nullptr) {
    evtimer_del(timer_.get());
    return;
  }
  evtimer_add(timer_.get(), &tv);
}

void DnsClient::resolveHost(const std::string& name, HostDone done) {
  auto owned = std::make_unique<HostQuery>();
  owned->done = std::move(done);
  owned->pending = (spec_.ipv4 ? 1 : 0) + (spec_.ipv6 ? 1 : 0);
  // From here owned by the callbacks: the last one takes it back.
  HostQuery* q = owned.release();
  if (spec_.ipv4) ares_query(channel_.get(), name.c_str(), ns_c_in, ns_t_a, onHostReply, q);
  if (spec_.ipv6) ares_query(channel_.get(), name.c_str(), ns_c_in, ns_t_aaaa, onHostReply, q);
  rearmTimer();
}

void DnsClient::onHostReply(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* q = static_cast<HostQuery*>(arg);
  if (status == ARES_EDESTRUCTION) {
    if (--q->pending == 0) std::unique_ptr<HostQuery>{q};
    return;
  }
  ares_addrttl v4[32];
  ares_addr6ttl v6[32];
  int n4 = 32;
  int n6 = 32;
  if (status == ARES_SUCCESS && ares_parse_a_reply(abuf, alen, nullptr, v4, &n4) == ARES_SUCCESS) {
    for (int i = 0; i < n4; ++i) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_addr = v4[i].ipaddr;
      q->answer.addrs.emplace_back(reinterpret_cast<sockaddr*>(&sin), sizeof sin);
      auto ttl = std::chrono::seconds(std::max(v4[i].ttl, 0));
      q->answer.ttl = q->any_ttl ? std::min(q->answer.ttl, ttl) : ttl;
      q->any_ttl = true;
    }
  } else if (status == ARES_SUCCESS &&
             ares_parse_aaaa_reply(abuf, alen, nullptr, v6, &n6) == ARES_SUCCESS) {
    for (int i = 0; i < n6; ++i) {
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      std::memcpy(&sin6.sin6_addr, &v6[i].ip6addr, 16);
      q->answer.addrs.emplace_back(reinterpret_cast<sockaddr*>(&sin6), sizeof sin6);
      auto ttl = std::chrono::seconds(std::max(v6[i].ttl, 0));
      q->answer.ttl = q->any_ttl ? std::min(q->answer.ttl, ttl) : ttl;
      q->any_ttl = true;
    }
  } else if (q->first_error == kResolveOk) {
    q->first_error = status == ARES_SUCCESS ? kResolveFormErr : stateOf(status);
  }
  if (--q->pending != 0) return;
  std::unique_ptr<HostQuery> owned(q);
  if (owned->answer.addrs.empty()) {
    owned->answer.state = owned->first_error == kResolveOk ? kResolveNxDomain : owned->first_error;
  }
  owned->done(std::move(owned->answer));
}

void DnsClient::resolveSrv(const std::string& name, SrvDone done) {
  // Owned by the callback from here, which takes it back.
  auto d = std::make_unique<SrvDone>(std::move(done));
  ares_query(channel_.get(), name.c_str(), ns_c_in, ns_t_srv, onSrvReply, d.release());
  rearmTimer();
}

void DnsClient::onSrvReply(void* arg, int status, int, unsigned char* abuf, int alen) {
  std::unique_ptr<SrvDone> done(static_cast<SrvDone*>(arg));
  if (status == ARES_EDESTRUCTION) return;
  SrvAnswer answer;
  ares_srv_reply* reply = nullptr;
  if (status != ARES_SUCCESS) {
    answer.state = stateOf(status);
  } else if (ares_parse_srv_reply(abuf, alen, &reply) != ARES_SUCCESS) {
    answer.state = kResolveFormErr;
  } else {
    for (ares_srv_reply* r = reply; r != nullptr; r = r->next) {
      answer.records.push_back({r->host, r->port, r->priority, r->weight, {}});
    }
    ares_free_data(reply);
    if (answer.records.empty()) answer.state = kResolveNxDomain;
  }
  (*done)(std::move(answer));
}

}  // namespace proxyd
