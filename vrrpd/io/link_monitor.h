// Interface up/down events from netlink (RTNLGRP_LINK), for the instance's
// own interface (down -> FAULT, as keepalived) and `track_interface`.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/c_handles.h"
#include "common/result.h"

namespace vrrpd {

class LinkMonitor {
 public:
  static common::Result<std::unique_ptr<LinkMonitor>> open();
  ~LinkMonitor();

  int fd() const;
  // Reads every pending notification; reports (ifindex, up) for each, where
  // up means IFF_UP and IFF_RUNNING (carrier), as keepalived judges a link.
  void drain(const std::function<void(int ifindex, bool up)>& on_change);

 private:
  LinkMonitor() = default;
  common::NlSockPtr sock_;
};

// Whether the interface is up now (IFF_UP and IFF_RUNNING); false if it is
// missing.
bool linkIsUp(int ifindex);

// The host's interfaces as an instance asks about them: its VIPs' and its
// tracked interfaces' indexes, and whether a tracked one is up at start. A
// seam: the instance tests give a fake.
class LinkTable {
 public:
  virtual ~LinkTable() = default;
  virtual int index(const std::string& name) const = 0;  // 0: no such interface
  virtual bool up(int ifindex) const = 0;                // linkIsUp()
};

// if_nametoindex() and linkIsUp().
class HostLinkTable final : public LinkTable {
 public:
  int index(const std::string& name) const override;
  bool up(int ifindex) const override { return linkIsUp(ifindex); }
};

}  // namespace vrrpd
