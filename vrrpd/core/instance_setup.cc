#include "vrrpd/core/instance_setup.h"

#include <sys/socket.h>

namespace vrrpd {

common::IpAddress pickSourceAddress(const InstanceSection& cfg, int family,
                                    const std::optional<common::IpAddress>& primary_v4,
                                    const std::optional<common::IpAddress>& link_local_v6) {
  if (cfg.unicast_src_ip) return *cfg.unicast_src_ip;
  if (cfg.mcast_src_ip) return *cfg.mcast_src_ip;
  if (family == AF_INET && primary_v4) return *primary_v4;
  if (family == AF_INET6 && link_local_v6) return *link_local_v6;
  return {};
}

Advert advertTemplate(const InstanceSection& cfg, int version) {
  Advert a;
  a.version = version;
  a.vrid = static_cast<std::uint8_t>(cfg.vrid);
  a.interval_cs = static_cast<std::uint16_t>(cfg.advert_interval.count() / 10);
  if (version == 2) {
    a.auth_type = cfg.auth_type;
    if (cfg.auth_type == AuthType::pass) a.auth_data = passwordBytes(cfg.auth_pass);
  }
  for (const Vip& v : cfg.vips) a.addrs.push_back(v.addr);
  return a;
}

AdvertExpectation advertExpectation(const InstanceSection& cfg, const InstanceGlobals& globals,
                                    const Advert& ours, const common::IpAddress& src) {
  AdvertExpectation e;
  e.version = ours.version;
  e.vrid = ours.vrid;
  e.unicast = cfg.unicast();
  e.auth_type = ours.auth_type;
  e.auth_data = ours.auth_data;
  e.interval_cs = ours.interval_cs;
  e.addrs = ours.addrs;
  e.skip_check_adv_addr = globals.skip_check_adv_addr;
  if (!src.empty()) e.own_addresses.push_back(src);
  if (globals.check_unicast_src) e.unicast_peers = cfg.unicast_peers;
  return e;
}

MachineConfig machineConfig(const InstanceSection& cfg, int version, const common::IpAddress& src) {
  MachineConfig mc;
  mc.version = version;
  mc.priority = static_cast<std::uint8_t>(cfg.priority);
  mc.advert_interval = cfg.advert_interval;
  mc.preempt = cfg.preempt;
  mc.preempt_delay = cfg.preempt_delay;
  mc.initial_master = cfg.initial_master;
  mc.primary = src;
  mc.garp_master_delay = cfg.garp_master_delay;
  mc.garp_master_refresh = cfg.garp_master_refresh;
  return mc;
}

}  // namespace vrrpd
