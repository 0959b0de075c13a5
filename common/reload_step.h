// What a reload does to one running thing (an instance, a listener, an
// upstream group, a track script): the words of both daemons' reload plans
// (vrrpd/core/reload_plan.h, proxyd/core/reload_plan.h).
#pragma once

#include <string_view>

namespace common {

enum class ReloadStep {
  keep,     // unchanged: keeps its state
  update,   // keeps its state, takes new values that do not need a restart
  restart,  // stopped, then started anew from the new configuration
  start,    // new in the file
  stop,     // gone from the file
};

constexpr std::string_view reloadStepName(ReloadStep s) {
  switch (s) {
    case ReloadStep::keep:
      return "keep";
    case ReloadStep::update:
      return "update";
    case ReloadStep::restart:
      return "restart";
    case ReloadStep::start:
      return "start";
    case ReloadStep::stop:
      return "stop";
  }
  return "?";
}

// What a change of one configuration field does (the plans' decision
// tables: every field of every struct a plan reads is named there).
enum class OnChange {
  identity,  // the name that pairs the old and the new entry
  nothing,   // where it was written, or not read by what the plan decides on
  update,    // applied to the running thing, which keeps its state
  restart,   // the running thing restarts
};

struct FieldDecision {
  std::string_view field;
  OnChange on_change;
  std::string_view why;  // who reads it
};

}  // namespace common
