#include "proxyd/core/variable_table.h"

#include "common/config_text.h"

#include <fmt/format.h>

#include "proxyd/core/variables.h"

namespace proxyd {

namespace {}  // namespace

common::Result<std::size_t> VariableTable::declare(std::string_view name) {
  using R = common::Result<std::size_t>;
  if (findBuiltinVariable(name)) {
    return R::fail(fmt::format("the duplicate \"{}\" variable", name));
  }
  if (auto i = find(name)) return *i;
  entries_.push_back(Entry{common::asciiLower(name), nullptr, false});
  return entries_.size() - 1;
}

std::optional<std::size_t> VariableTable::find(std::string_view name) const {
  const std::string key = common::asciiLower(name);
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].name == key) return i;
  }
  return std::nullopt;
}

common::Result<void> VariableTable::define(std::size_t index,
                                           std::shared_ptr<const VariableSource> source,
                                           bool is_volatile) {
  Entry& e = entries_.at(index);
  if (e.source)
    return common::Result<void>::fail(fmt::format("the duplicate \"{}\" variable", e.name));
  e.source = std::move(source);
  e.is_volatile = is_volatile;
  return {};
}

}  // namespace proxyd
