// Asynchronous DNS lookups on an event loop: c-ares (which can ask for SRV
// records, as libevent 2.1's evdns cannot) driven by libevent. One client
// asks the servers of one `resolver` with its resolver_timeout; answers come
// back on the loop's thread as nginx's resolver states (dns_answer.h).
#pragma once

#include <event2/event.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/c_handles.h"
#include "common/result.h"
#include "proxyd/core/dns_answer.h"
#include "proxyd/core/resolver_spec.h"

struct ares_channeldata;

namespace proxyd {

class DnsClient {
 public:
  struct HostAnswer {
    int state = kResolveOk;                    // dns_answer.h's ResolveState
    std::vector<common::SocketAddress> addrs;  // port 0
    std::chrono::seconds ttl{0};               // the lowest of the records'
  };
  struct SrvAnswer {
    int state = kResolveOk;
    std::vector<SrvRecord> records;  // without their addresses
  };
  using HostDone = std::function<void(HostAnswer)>;
  using SrvDone = std::function<void(SrvAnswer)>;

  static common::Result<std::unique_ptr<DnsClient>> create(event_base* base,
                                                           const ResolverSpec& spec,
                                                           std::chrono::milliseconds timeout);
  ~DnsClient();
  DnsClient(const DnsClient&) = delete;
  DnsClient& operator=(const DnsClient&) = delete;

  // A and/or AAAA (the resolver's ipv4= / ipv6=), merged: one answer with
  // addresses is success. `done` is not called once the client is gone.
  void resolveHost(const std::string& name, HostDone done);
  void resolveSrv(const std::string& name, SrvDone done);

 private:
  struct ChannelFree {
    void operator()(ares_channeldata* c) const;
  };
  struct HostQuery;
  DnsClient(event_base* base, const ResolverSpec& spec) : base_(base), spec_(spec) {}
  static void onSocketState(void* data, int fd, int readable, int writable);
  static void onSocket(evutil_socket_t fd, short what, void* arg);
  static void onTimer(evutil_socket_t, short, void* arg);
  static void onHostReply(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  static void onSrvReply(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  void rearmTimer();

  event_base* base_;
  ResolverSpec spec_;
  std::map<int, common::EventPtr> sockets_;  // c-ares's sockets and what they wait for
  common::EventPtr timer_;
  std::unique_ptr<ares_channeldata, ChannelFree> channel_;  // last: destroyed first
};

}  // namespace proxyd
