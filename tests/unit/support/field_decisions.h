// The machinery of the reload-plan tests (proxyd and vrrpd): every field of
// a config struct has a row in its decision table (common/reload_step.h),
// checked at compile time, and each field can be changed on its own to see
// what the plan does with it.
#pragma once

#include <string_view>

#include "common/reload_step.h"
#include "tests/unit/support/changed_value.h"
#include "tests/unit/support/field_count.h"

// A field without a row stops the test build, naming the struct and table.
#define EXPECT_DECIDED(T, table)                                                         \
  static_assert(test_support::fieldCount<T>() == (table).size(),                         \
                #T ": a field without a row in " #table                                  \
                   " (the daemon's core/reload_plan.h): decide what a reload does when " \
                   "it changes")

namespace test_support {

// One field of T, named as in its decision table, and how to change it.
template <class T>
struct Mutation {
  std::string_view field;
  void (*apply)(T&);
};

// The step a running thing takes when a field with this decision changes.
constexpr common::ReloadStep expectedStep(common::OnChange c) {
  return c == common::OnChange::restart  ? common::ReloadStep::restart
         : c == common::OnChange::update ? common::ReloadStep::update
                                         : common::ReloadStep::keep;
}

}  // namespace test_support

// A Mutation of T's field `path`, through the test's change() overloads.
#define MUTATE(T, path)                  \
  test_support::Mutation<T> {            \
#path, [](T & s) { change(s.path); } \
  }
