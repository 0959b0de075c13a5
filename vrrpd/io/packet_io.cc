#include "vrrpd/io/packet_io.h"

#include "vrrpd/io/announcer.h"
#include "vrrpd/io/vrrp_socket.h"

namespace vrrpd {

SocketPacketIo::SocketPacketIo(VrrpSocket& socket, std::unique_ptr<Announcer> announcer)
    : socket_(socket), announcer_(std::move(announcer)) {}

SocketPacketIo::~SocketPacketIo() = default;

common::Result<void> SocketPacketIo::sendAdvert(std::span<const std::uint8_t> msg,
                                                const common::IpAddress& src,
                                                const common::IpAddress& dst) {
  return socket_.send(msg, src, dst);
}

common::Result<void> SocketPacketIo::announce(const common::IpAddress& vip) {
  if (!announcer_) return common::Result<void>::fail("gratuitous ARP/NA disabled");
  return announcer_->announce(vip);
}

}  // namespace vrrpd
