// The state machine's actions as one line of text each ("SendAdvert(100)",
// "ArmTimer(master_down, 3.609375s)", "Transition(BACKUP -> MASTER: ...)"):
// what a test compares to show the whole list on a failure, and what a
// debug line or a simulation trace says about an action.
#pragma once

#include <string>
#include <vector>

#include "vrrpd/core/vrrp_state_machine.h"

namespace vrrpd {

std::string actionText(const Action& action);
std::vector<std::string> actionsText(const Actions& actions);

}  // namespace vrrpd
