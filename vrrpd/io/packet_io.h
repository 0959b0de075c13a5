// What an instance sends: its adverts, through the raw VRRP socket of its
// interface, and its GARPs / NAs, through its announcer. A seam: the instance
// tests give a fake that records what was sent.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/ip_address.h"
#include "common/result.h"

namespace vrrpd {

class Announcer;
class VrrpSocket;

class PacketIo {
 public:
  virtual ~PacketIo() = default;
  // Sends `msg` (a VRRP message) from `src` to `dst`.
  virtual common::Result<void> sendAdvert(std::span<const std::uint8_t> msg,
                                          const common::IpAddress& src,
                                          const common::IpAddress& dst) = 0;
  // Whether GARP / NA can be sent at all (the announcer opened).
  virtual bool canAnnounce() const = 0;
  // One gratuitous ARP (IPv4) or unsolicited NA (IPv6) for `vip`.
  virtual common::Result<void> announce(const common::IpAddress& vip) = 0;
};

// The daemon's: the socket is shared by the interface's instances, the
// announcer (null when it could not be opened) is the instance's own.
class SocketPacketIo final : public PacketIo {
 public:
  SocketPacketIo(VrrpSocket& socket, std::unique_ptr<Announcer> announcer);
  ~SocketPacketIo() override;

  common::Result<void> sendAdvert(std::span<const std::uint8_t> msg, const common::IpAddress& src,
                                  const common::IpAddress& dst) override;
  bool canAnnounce() const override { return announcer_ != nullptr; }
  common::Result<void> announce(const common::IpAddress& vip) override;

 private:
  VrrpSocket& socket_;
  std::unique_ptr<Announcer> announcer_;
};

}  // namespace vrrpd
