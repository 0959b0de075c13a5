// The user variables of one configuration ([map $x], [geo $x],
// [split_clients $x], `set = $x ...` and named regex captures), compiled at
// load: every block of a generation shares the table, and a session keeps one
// value per index (session_variables.h).
#pragma once

#include <memory>
#include <string>

#include "proxyd/core/variable_table.h"

namespace proxyd {

struct UserVariables {
  std::shared_ptr<VariableTable> table = std::make_shared<VariableTable>();
  // Every [map], [geo] and [split_clients] section as written ("[type
  // label]\nkey=value\n..."): two configurations have the same variables
  // when their text is the same, which is what the reload plan compares.
  std::string text;
  bool operator==(const UserVariables& o) const { return text == o.text; }
};

}  // namespace proxyd
