// What an instance's section means for the parts it drives: the address it
// sends from, its advert (all but the priority), what it expects of a
// received advert, and its state machine's settings. Pure: the instance
// builds itself from these once.
#pragma once

#include <optional>

#include "common/ip_address.h"
#include "vrrpd/core/advert_filter.h"
#include "vrrpd/core/config.h"
#include "vrrpd/core/reload_plan.h"
#include "vrrpd/core/vrrp_packet.h"
#include "vrrpd/core/vrrp_state_machine.h"

namespace vrrpd {

// unicast_src_ip, else mcast_src_ip, else the interface's primary IPv4
// address or its IPv6 link-local address, as keepalived picks it. Empty
// when there is none (the instance is FAULT then).
common::IpAddress pickSourceAddress(const InstanceSection& cfg, int family,
                                    const std::optional<common::IpAddress>& primary_v4,
                                    const std::optional<common::IpAddress>& link_local_v6);

// Our advert with everything but the priority (v2 carries the password).
Advert advertTemplate(const InstanceSection& cfg, int version);

// The receive filter's view of us; `known_master` is filled in as it changes.
AdvertExpectation advertExpectation(const InstanceSection& cfg, const InstanceGlobals& globals,
                                    const Advert& ours, const common::IpAddress& src);

MachineConfig machineConfig(const InstanceSection& cfg, int version, const common::IpAddress& src);

}  // namespace vrrpd
