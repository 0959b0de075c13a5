// Virtual IP addresses through netlink (libnl-route-3): added when an
// instance becomes MASTER, removed when it leaves MASTER and at stop, stale
// copies removed at start. A monitor reports addresses deleted from outside
// (keepalived then goes BACKUP).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/c_handles.h"
#include "common/ip_address.h"
#include "common/result.h"
#include "vrrpd/core/vip.h"

namespace vrrpd {

// What an instance does with its VIPs. A seam: the instance tests give a
// fake that holds them in a set.
class VipManager {
 public:
  virtual ~VipManager() = default;
  // Adds the address to interface `ifindex`. Already present counts as
  // success.
  virtual common::Result<void> add(const Vip& vip, int ifindex) = 0;
  // Removes it; already absent counts as success.
  virtual common::Result<void> remove(const Vip& vip, int ifindex) = 0;
  // Whether the address is on the interface now.
  virtual bool present(const Vip& vip, int ifindex) = 0;
};

class NetlinkVipManager final : public VipManager {
 public:
  static common::Result<std::unique_ptr<NetlinkVipManager>> open();
  ~NetlinkVipManager() override;

  // IPv6 with IFA_F_NODAD, as keepalived.
  common::Result<void> add(const Vip& vip, int ifindex) override;
  common::Result<void> remove(const Vip& vip, int ifindex) override;
  bool present(const Vip& vip, int ifindex) override;

  // Address deletions seen on the netlink monitor: fd for the event loop,
  // and drain() which reports each deleted (address, ifindex).
  int monitorFd() const;
  void drain(const std::function<void(const common::IpAddress&, int ifindex)>& on_deleted);

 private:
  NetlinkVipManager() = default;
  common::NlSockPtr sock_;
  common::NlSockPtr monitor_;
};

}  // namespace vrrpd
