#include "vrrpd/core/vrrp_action_text.h"

#include <fmt/format.h>

#include <chrono>
#include <type_traits>

namespace vrrpd {
namespace {

// Seconds with as many digits as they need: "1s", "3.609375s".
std::string seconds(common::Duration d) {
  return fmt::format("{}s", std::chrono::duration<double>(d).count());
}

}  // namespace

std::string actionText(const Action& action) {
  return std::visit(
      [](const auto& a) -> std::string {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, SendAdvert>) {
          return fmt::format("SendAdvert({})", a.priority);
        } else if constexpr (std::is_same_v<T, AddVips>) {
          return "AddVips";
        } else if constexpr (std::is_same_v<T, DelVips>) {
          return "DelVips";
        } else if constexpr (std::is_same_v<T, SendGratuitous>) {
          return "SendGratuitous";
        } else if constexpr (std::is_same_v<T, ArmTimer>) {
          return fmt::format("ArmTimer({}, {})", timerName(a.kind), seconds(a.after));
        } else if constexpr (std::is_same_v<T, CancelTimer>) {
          return fmt::format("CancelTimer({})", timerName(a.kind));
        } else {
          static_assert(std::is_same_v<T, Transition>, "an action without a text");
          return fmt::format("Transition({} -> {}: {})", stateName(a.from), stateName(a.to),
                             a.cause);
        }
      },
      action);
}

std::vector<std::string> actionsText(const Actions& actions) {
  std::vector<std::string> out;
  out.reserve(actions.size());
  for (const auto& a : actions) out.push_back(actionText(a));
  return out;
}

}  // namespace vrrpd
