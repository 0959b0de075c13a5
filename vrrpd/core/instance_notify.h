// Which notify scripts an instance's transition runs, and with what:
// notify_STATE, then keepalived's generic notify with TYPE NAME STATE
// PRIORITY. Pure: the daemon's Notifier runs them in order.
#pragma once

#include <cstdint>

#include "vrrpd/core/config.h"
#include "vrrpd/core/notify_queue.h"
#include "vrrpd/core/vrrp_state_machine.h"

namespace vrrpd {

// keepalived's names for a notify's STATE: MASTER, BACKUP, FAULT, STOP.
const char* notifyStateName(State s);

// The calls of `cfg`'s transition to `to` with the priority it now has.
NotifyEvent transitionNotify(const InstanceSection& cfg, State to, std::uint8_t priority);

}  // namespace vrrpd
