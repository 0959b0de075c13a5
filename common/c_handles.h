// Owners for the handles of the C libraries (libevent, OpenSSL, libnl): every
// deleter in one place. The types are only declared here, so this header
// pulls in no C library header; each library's frees are defined in its own
// file (c_handles_libevent.cc, c_handles_openssl.cc, c_handles_libnl.cc) and
// library, so a binary links only the C libraries it uses.
#pragma once

#include <memory>

struct event_base;
struct event;
struct evconnlistener;
struct bufferevent;
struct ssl_ctx_st;  // SSL_CTX
struct ssl_st;      // SSL
struct nl_sock;
struct nl_cache;
struct nl_addr;
struct rtnl_addr;

namespace common {

// Frees (or drops the reference to) whichever handle it is given.
struct CHandleFree {
  void operator()(event_base* b) const;
  void operator()(event* e) const;
  void operator()(evconnlistener* l) const;
  void operator()(bufferevent* bev) const;
  void operator()(ssl_ctx_st* ctx) const;
  void operator()(ssl_st* ssl) const;
  void operator()(nl_sock* s) const;
  void operator()(nl_cache* c) const;
  void operator()(nl_addr* a) const;    // nl_addr_put
  void operator()(rtnl_addr* a) const;  // rtnl_addr_put
};

using EventBasePtr = std::unique_ptr<event_base, CHandleFree>;
using EventPtr = std::unique_ptr<event, CHandleFree>;
using EvConnListenerPtr = std::unique_ptr<evconnlistener, CHandleFree>;
using BufferEventPtr = std::unique_ptr<bufferevent, CHandleFree>;
using SslCtxPtr = std::unique_ptr<ssl_ctx_st, CHandleFree>;
using SslPtr = std::unique_ptr<ssl_st, CHandleFree>;
using NlSockPtr = std::unique_ptr<nl_sock, CHandleFree>;
using NlCachePtr = std::unique_ptr<nl_cache, CHandleFree>;
using NlAddrPtr = std::unique_ptr<nl_addr, CHandleFree>;
using RtnlAddrPtr = std::unique_ptr<rtnl_addr, CHandleFree>;

}  // namespace common
