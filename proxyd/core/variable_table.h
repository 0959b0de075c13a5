// The user variables of one configuration (map, geo, split_clients, set, and
// the named captures of regular expressions), as nginx's variables array: each
// name gets an index once at load, templates refer to it by index, and a
// session keeps one cached value per index (session_variables.h).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace proxyd {

class SessionVariables;

// How a user variable gets its value for a session: a map, a geo, a
// split_clients. Variables that are only assigned (set, named captures) have
// none: until assigned they are not found.
class VariableSource {
 public:
  virtual ~VariableSource() = default;
  // Appends the value to `out`; false: the variable is not found.
  virtual bool evaluate(SessionVariables& vars, std::string& out) const = 0;
};

class VariableTable {
 public:
  struct Entry {
    std::string name;  // lower case, without the '$'
    std::shared_ptr<const VariableSource> source;
    bool is_volatile = false;  // map ... volatile: evaluated at each use, never cached
  };

  // The index of `name` (without '$'), declared now if it is new. A built-in
  // name is refused as nginx refuses it ("the duplicate "x" variable").
  common::Result<std::size_t> declare(std::string_view name);
  std::optional<std::size_t> find(std::string_view name) const;
  // Gives a declared variable its source. Defining one twice is refused.
  common::Result<void> define(std::size_t index, std::shared_ptr<const VariableSource> source,
                              bool is_volatile = false);

  std::size_t size() const { return entries_.size(); }
  const Entry& at(std::size_t index) const { return entries_[index]; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace proxyd
