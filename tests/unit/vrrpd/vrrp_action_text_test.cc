// Every action kind has its line of text (the state machine test compares
// whole lists of them).
#include "vrrpd/core/vrrp_action_text.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;

TEST_CASE("action text: one line per action kind", "[vrrp_action_text]") {
  using namespace vrrpd;
  Actions all{SendAdvert{0},
              AddVips{},
              DelVips{},
              SendGratuitous{},
              ArmTimer{TimerKind::master_down, 3609375us},
              CancelTimer{TimerKind::garp_refresh},
              Transition{State::backup, State::master, "master down timer"}};
  CHECK(actionsText(all) ==
        std::vector<std::string>{"SendAdvert(0)", "AddVips", "DelVips", "SendGratuitous",
                                 "ArmTimer(master_down, 3.609375s)", "CancelTimer(garp_refresh)",
                                 "Transition(BACKUP -> MASTER: master down "
                                 "timer)"});
}
