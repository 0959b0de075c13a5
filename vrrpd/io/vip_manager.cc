#include "vrrpd/io/vip_manager.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/socket.h>

#include <fmt/format.h>

#include <cstring>
#include <optional>

namespace vrrpd {
namespace {

using common::NlAddrPtr;
using common::NlCachePtr;
using common::RtnlAddrPtr;

// An rtnl_addr naming vip on ifindex (local address, prefix length,
// interface): what both RTM_NEWADDR and RTM_DELADDR need.
common::Result<RtnlAddrPtr> makeAddr(const Vip& vip, int ifindex) {
  RtnlAddrPtr a(rtnl_addr_alloc());
  NlAddrPtr local(nl_addr_build(vip.addr.family(), vip.addr.bytes(), vip.addr.size()));
  if (!a || !local) return common::Result<RtnlAddrPtr>::fail("netlink: out of memory");
  nl_addr_set_prefixlen(local.get(), vip.prefixLength());
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_family(a.get(), vip.addr.family());
  if (int err = rtnl_addr_set_local(a.get(), local.get()); err < 0)  // takes its own reference
    return common::Result<RtnlAddrPtr>::fail(fmt::format("netlink: {}", nl_geterror(err)));
  rtnl_addr_set_prefixlen(a.get(), vip.prefixLength());
  return a;
}

std::string vipText(const Vip& vip, int ifindex) {
  char name[IF_NAMESIZE] = {};
  const char* n = ::if_indextoname(static_cast<unsigned>(ifindex), name);
  return fmt::format("{}/{} dev {}", vip.addr.toString(), vip.prefixLength(),
                     n ? std::string(n) : fmt::format("#{}", ifindex));
}

// State handed to the monitor callback during one drain().
struct DrainContext {
  const std::function<void(const common::IpAddress&, int)>* on_deleted;
};

// Reports an RTM_DELADDR notification. Parsed from the bytes (ifaddrmsg
// and its attributes): IFA_LOCAL is the local address for IPv4 (IFA_ADDRESS
// is the peer on point-to-point links); IPv6 sends IFA_ADDRESS only.
int onMonitorMessage(nl_msg* msg, void* arg) {
  auto* ctx = static_cast<DrainContext*>(arg);
  nlmsghdr* h = nlmsg_hdr(msg);
  if (h->nlmsg_type != RTM_DELADDR) return NL_OK;
  if (!nlmsg_valid_hdr(h, sizeof(ifaddrmsg))) return NL_OK;
  ifaddrmsg ifa;
  std::memcpy(&ifa, nlmsg_data(h), sizeof ifa);
  nlattr* tb[IFA_MAX + 1] = {};
  if (nlmsg_parse(h, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0) return NL_OK;
  nlattr* attr = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
  if (!attr) return NL_OK;
  common::IpAddress ip;
  if (ifa.ifa_family == AF_INET && nla_len(attr) == 4) {
    in_addr a;
    std::memcpy(&a, nla_data(attr), 4);
    ip = common::IpAddress::v4(a);
  } else if (ifa.ifa_family == AF_INET6 && nla_len(attr) == 16) {
    in6_addr a;
    std::memcpy(&a, nla_data(attr), 16);
    ip = common::IpAddress::v6(a);
  } else {
    return NL_OK;
  }
  if (ctx && ctx->on_deleted && *ctx->on_deleted)
    (*ctx->on_deleted)(ip, static_cast<int>(ifa.ifa_index));
  return NL_OK;
}

}  // namespace

NetlinkVipManager::~NetlinkVipManager() = default;

common::Result<std::unique_ptr<NetlinkVipManager>> NetlinkVipManager::open() {
  using R = common::Result<std::unique_ptr<NetlinkVipManager>>;
  std::unique_ptr<NetlinkVipManager> m(new NetlinkVipManager());
  m->sock_.reset(nl_socket_alloc());
  m->monitor_.reset(nl_socket_alloc());
  if (!m->sock_ || !m->monitor_) return R::fail("netlink: out of memory");
  if (int err = nl_connect(m->sock_.get(), NETLINK_ROUTE); err < 0)
    return R::fail(fmt::format("netlink: {}", nl_geterror(err)));

  // The monitor: address notifications of both families. Notifications
  // carry sequence number 0, so no sequence check; non-blocking for the
  // event loop.
  nl_sock* mon = m->monitor_.get();
  nl_socket_disable_seq_check(mon);
  if (int err = nl_connect(mon, NETLINK_ROUTE); err < 0)
    return R::fail(fmt::format("netlink monitor: {}", nl_geterror(err)));
  if (int err = nl_socket_add_memberships(mon, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, 0);
      err < 0)
    return R::fail(fmt::format("netlink monitor: join address groups: {}", nl_geterror(err)));
  if (int err = nl_socket_set_nonblocking(mon); err < 0)
    return R::fail(fmt::format("netlink monitor: {}", nl_geterror(err)));
  return m;
}

common::Result<void> NetlinkVipManager::add(const Vip& vip, int ifindex) {
  auto a = makeAddr(vip, ifindex);
  if (!a) return common::Result<void>::fail(a.error());
  rtnl_addr* addr = a->get();
  if (vip.addr.isV4()) {
    // keepalived ignores label and scope on IPv6 VIPs (alloc_ipaddress()).
    if (!vip.label.empty()) rtnl_addr_set_label(addr, vip.label.c_str());
    rtnl_addr_set_scope(addr, vipScopeNumber(vip.scope).value_or(RT_SCOPE_UNIVERSE));
  } else {
    // keepalived netlink_ipaddress(): no duplicate address detection, so
    // the VIP is usable at once and never ends up "dadfailed" after a
    // split brain; VRRP is its own DAD.
    rtnl_addr_set_flags(addr, IFA_F_NODAD);
    // And a /128 VIP is marked deprecated (preferred lifetime 0) so that it
    // is not picked as the source of the host's own connections.
    if (vip.prefixLength() == 128) {
      rtnl_addr_set_preferred_lifetime(addr, 0);
      rtnl_addr_set_valid_lifetime(addr, 0xffffffffU);
    }
  }
  // NLM_F_EXCL: an address that is already there is reported (EEXIST) and
  // left alone, not replaced; that counts as success.
  const int err = rtnl_addr_add(sock_.get(), addr, NLM_F_EXCL);
  if (err < 0 && err != -NLE_EXIST)
    return common::Result<void>::fail(
        fmt::format("add {}: {}", vipText(vip, ifindex), nl_geterror(err)));
  return {};
}

common::Result<void> NetlinkVipManager::remove(const Vip& vip, int ifindex) {
  auto a = makeAddr(vip, ifindex);
  if (!a) return common::Result<void>::fail(a.error());
  const int err = rtnl_addr_delete(sock_.get(), a->get(), 0);
  // EADDRNOTAVAIL (NLE_NOADDR): not there, which is what we wanted.
  if (err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND)
    return common::Result<void>::fail(
        fmt::format("remove {}: {}", vipText(vip, ifindex), nl_geterror(err)));
  return {};
}

bool NetlinkVipManager::present(const Vip& vip, int ifindex) {
  nl_cache* raw = nullptr;
  if (rtnl_addr_alloc_cache(sock_.get(), &raw) < 0) return false;
  NlCachePtr cache(raw);
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != vip.addr.family())
      continue;
    nl_addr* local = rtnl_addr_get_local(a);
    if (local && nl_addr_get_len(local) == vip.addr.size() &&
        std::memcmp(nl_addr_get_binary_addr(local), vip.addr.bytes(), vip.addr.size()) == 0)
      return true;
  }
  return false;
}

int NetlinkVipManager::monitorFd() const {
  return nl_socket_get_fd(monitor_.get());
}

void NetlinkVipManager::drain(
    const std::function<void(const common::IpAddress&, int ifindex)>& on_deleted) {
  DrainContext ctx{&on_deleted};
  nl_sock* mon = monitor_.get();
  nl_socket_modify_cb(mon, NL_CB_VALID, NL_CB_CUSTOM, onMonitorMessage, &ctx);
  // Until EAGAIN. An overflow of the socket buffer (ENOBUFS: events were
  // lost) also ends this round; the next read goes on with new events.
  for (int i = 0; i < 1024; ++i) {
    if (nl_recvmsgs_default(mon) < 0) break;
  }
  nl_socket_modify_cb(mon, NL_CB_VALID, NL_CB_CUSTOM, onMonitorMessage, nullptr);
}

}  // namespace vrrpd
