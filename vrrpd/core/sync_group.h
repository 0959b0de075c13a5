// keepalived's sync groups: a FAULT in one member faults them all, and they
// leave FAULT together (vrrp_sync.c). Pure: the daemon says which instances
// are FAULT of their own accord and hands each member the cause returned.
#pragma once

#include <set>
#include <string>

#include "vrrpd/core/config.h"

namespace vrrpd {

// Why `group` puts `member` in FAULT: the first other member, in the group's
// order, that is in `own_faults` ("sync group G: VI_2 is FAULT"); empty if
// there is none.
std::string groupFault(const SyncGroupSection& group, const std::string& member,
                       const std::set<std::string>& own_faults);

}  // namespace vrrpd
