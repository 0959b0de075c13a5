#include "vrrpd/io/interface_info.h"

#include <linux/if_addr.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/c_handles.h"
#include "common/sys_error.h"
#include "common/unique_fd.h"

namespace vrrpd {
namespace {

common::Result<InterfaceInfo> fail(const std::string& name, const common::SysError& e) {
  return common::Result<InterfaceInfo>::fail(fmt::format("interface {}: {}", name, e.brief()));
}

// Fills the addresses from a netlink dump of all addresses (libnl route
// cache): only netlink tells a primary IPv4 address from a secondary one
// (IFA_F_SECONDARY), which getifaddrs() hides.
common::Result<void> readAddresses(InterfaceInfo& info) {
  common::NlSockPtr sock(nl_socket_alloc());
  if (!sock) return common::Result<void>::fail("netlink: out of memory");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0)
    return common::Result<void>::fail(fmt::format("netlink: {}", nl_geterror(err)));
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock.get(), &raw); err < 0)
    return common::Result<void>::fail(fmt::format("netlink address dump: {}", nl_geterror(err)));
  common::NlCachePtr cache(raw);

  // keepalived uses the interface's primary address as the advert source
  // when no mcast_src_ip / unicast_src_ip is set. VIPs that we add are /32
  // (their own primary when no other address covers them) or secondaries of
  // a covering prefix, so prefer the first primary that is not a /32 and
  // fall back to the first primary at all.
  std::optional<common::IpAddress> first_primary;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != info.index) continue;
    nl_addr* local = rtnl_addr_get_local(a);
    if (!local) continue;
    const int family = rtnl_addr_get_family(a);
    if (family == AF_INET && nl_addr_get_len(local) == 4) {
      if (rtnl_addr_get_flags(a) & IFA_F_SECONDARY) continue;
      in_addr in{};
      std::memcpy(&in, nl_addr_get_binary_addr(local), 4);
      auto ip = common::IpAddress::v4(in);
      if (!first_primary) first_primary = ip;
      if (!info.primary_v4 && rtnl_addr_get_prefixlen(a) < 32) info.primary_v4 = ip;
    } else if (family == AF_INET6 && nl_addr_get_len(local) == 16) {
      in6_addr in6{};
      std::memcpy(&in6, nl_addr_get_binary_addr(local), 16);
      // RFC 5798 5.1.2.2: an IPv6 advert's source is the link-local address.
      if (IN6_IS_ADDR_LINKLOCAL(&in6) && !info.link_local_v6 &&
          !(rtnl_addr_get_flags(a) & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
        info.link_local_v6 = common::IpAddress::v6(in6);
    }
  }
  if (!info.primary_v4) info.primary_v4 = first_primary;
  return {};
}

}  // namespace

common::Result<InterfaceInfo> lookupInterface(const std::string& name) {
  InterfaceInfo info;
  info.name = name;
  if (name.empty() || name.size() >= IFNAMSIZ)
    return common::Result<InterfaceInfo>::fail(
        fmt::format("interface \"{}\": invalid name (1 to {} characters)", name, IFNAMSIZ - 1));

  common::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail(name, {"socket", errno});
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());

  if (::ioctl(fd.get(), SIOCGIFINDEX, &ifr) < 0) return fail(name, {"SIOCGIFINDEX", errno});
  info.index = ifr.ifr_ifindex;
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &ifr) < 0) return fail(name, {"SIOCGIFFLAGS", errno});
  // keepalived's IF_ISUP(): administratively up and the link is running.
  info.up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
  if (::ioctl(fd.get(), SIOCGIFHWADDR, &ifr) < 0) return fail(name, {"SIOCGIFHWADDR", errno});
  std::memcpy(info.mac.data(), ifr.ifr_hwaddr.sa_data, info.mac.size());

  if (auto r = readAddresses(info); !r)
    return common::Result<InterfaceInfo>::fail(fmt::format("interface {}: {}", name, r.error()));
  return info;
}

}  // namespace vrrpd
