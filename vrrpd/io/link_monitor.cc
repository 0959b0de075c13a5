#include "vrrpd/io/link_monitor.h"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "common/unique_fd.h"

namespace vrrpd {

namespace {

using Callback = std::function<void(int, bool)>;

int onLinkMessage(nl_msg* msg, void* arg) {
  auto* cb = static_cast<const Callback*>(arg);
  nlmsghdr* h = nlmsg_hdr(msg);
  if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) return NL_OK;
  if (!nlmsg_valid_hdr(h, sizeof(ifinfomsg))) return NL_OK;
  ifinfomsg ifi;
  std::memcpy(&ifi, nlmsg_data(h), sizeof ifi);
  bool up =
      h->nlmsg_type == RTM_NEWLINK && (ifi.ifi_flags & IFF_UP) && (ifi.ifi_flags & IFF_RUNNING);
  if (cb && *cb) (*cb)(ifi.ifi_index, up);
  return NL_OK;
}

}  // namespace

LinkMonitor::~LinkMonitor() = default;

common::Result<std::unique_ptr<LinkMonitor>> LinkMonitor::open() {
  using R = common::Result<std::unique_ptr<LinkMonitor>>;
  std::unique_ptr<LinkMonitor> m(new LinkMonitor());
  m->sock_.reset(nl_socket_alloc());
  if (!m->sock_) return R::fail("netlink: out of memory");
  nl_sock* s = m->sock_.get();
  nl_socket_disable_seq_check(s);
  if (int err = nl_connect(s, NETLINK_ROUTE); err < 0) {
    return R::fail(fmt::format("netlink link monitor: {}", nl_geterror(err)));
  }
  if (int err = nl_socket_add_memberships(s, RTNLGRP_LINK, 0); err < 0) {
    return R::fail(fmt::format("netlink link monitor: join link group: {}", nl_geterror(err)));
  }
  if (int err = nl_socket_set_nonblocking(s); err < 0) {
    return R::fail(fmt::format("netlink link monitor: {}", nl_geterror(err)));
  }
  return m;
}

int LinkMonitor::fd() const {
  return nl_socket_get_fd(sock_.get());
}

void LinkMonitor::drain(const std::function<void(int, bool)>& on_change) {
  nl_sock* s = sock_.get();
  nl_socket_modify_cb(s, NL_CB_VALID, NL_CB_CUSTOM, onLinkMessage,
                      const_cast<Callback*>(&on_change));
  for (int i = 0; i < 1024; ++i) {
    if (nl_recvmsgs_default(s) < 0) break;
  }
  nl_socket_modify_cb(s, NL_CB_VALID, NL_CB_CUSTOM, onLinkMessage, nullptr);
}

bool linkIsUp(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex <= 0 || ::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
    return false;
  }
  common::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name, sizeof name);  // both IF_NAMESIZE, NUL-terminated
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &ifr) != 0) return false;
  return (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
}

int HostLinkTable::index(const std::string& name) const {
  return static_cast<int>(::if_nametoindex(name.c_str()));
}

}  // namespace vrrpd
