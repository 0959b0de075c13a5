#include "vrrpd/core/announcement.h"

namespace vrrpd {
namespace {

constexpr std::size_t kEtherHeaderLen = 14;
constexpr std::size_t kArpLen = 28;
constexpr std::uint16_t kEtherTypeArp = 0x0806;   // ETH_P_ARP
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;  // ETH_P_IP
constexpr std::uint8_t kNeighborAdvert = 136;     // ND_NEIGHBOR_ADVERT (RFC 4861 4.4)
constexpr std::uint8_t kNaOverride = 0x20;        // RFC 4861 4.4: R=0x80, S=0x40, O=0x20
constexpr std::uint8_t kOptTargetLinkLayer = 2;

void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x & 0xff));
}
void putBytes(std::vector<std::uint8_t>& v, const std::uint8_t* p, std::size_t n) {
  v.insert(v.end(), p, p + n);
}

}  // namespace

std::vector<std::uint8_t> buildGratuitousArp(const MacAddress& mac, const common::IpAddress& vip) {
  // keepalived vrrp_arp.c send_gratuitous_arp_immediate(): an ARP request
  // broadcast from the interface's MAC in which sender and target IP are
  // both the VIP, and the target hardware address is ff:ff:ff:ff:ff:ff
  // (RFC 5227 3 would leave it zero; keepalived fills it with 0xff and
  // switches accept both). 42 bytes: the driver pads to the Ethernet minimum.
  static constexpr std::uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  std::vector<std::uint8_t> f;
  f.reserve(kEtherHeaderLen + kArpLen);
  putBytes(f, kBroadcast, 6);
  putBytes(f, mac.data(), 6);
  put16(f, kEtherTypeArp);
  put16(f, 1);                  // hardware type: Ethernet
  put16(f, kEtherTypeIpv4);     // protocol type: IPv4
  f.push_back(6);               // hardware address length
  f.push_back(4);               // protocol address length
  put16(f, 1);                  // ARP request
  putBytes(f, mac.data(), 6);   // sender hardware address
  putBytes(f, vip.bytes(), 4);  // sender protocol address
  putBytes(f, kBroadcast, 6);   // target hardware address
  putBytes(f, vip.bytes(), 4);  // target protocol address
  return f;
}

std::vector<std::uint8_t> buildUnsolicitedNa(const MacAddress& mac, const common::IpAddress& vip) {
  // RFC 4861 4.4 / 7.2.6: type 136, code 0; Override set so neighbours
  // replace their cached link-layer address, Solicited clear (unsolicited).
  // Router stays clear: keepalived copies the interface's forwarding
  // setting into it, vrrpd announces hosts' VIPs. The checksum (bytes 2-3)
  // is computed by the kernel for an IPPROTO_ICMPV6 raw socket.
  std::vector<std::uint8_t> m;
  m.reserve(32);
  m.push_back(kNeighborAdvert);
  m.push_back(0);  // code
  put16(m, 0);     // checksum
  m.push_back(kNaOverride);
  m.push_back(0);
  m.push_back(0);
  m.push_back(0);
  putBytes(m, vip.bytes(), 16);  // target address
  m.push_back(kOptTargetLinkLayer);
  m.push_back(1);  // option length in units of 8 bytes
  putBytes(m, mac.data(), 6);
  return m;
}

}  // namespace vrrpd
