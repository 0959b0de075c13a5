#include "proxyd/core/session_variables.h"

namespace proxyd {

SessionVariables::Cache& SessionVariables::cache() {
  if (!cache_) {
    cache_ = std::make_unique<Cache>();
    cache_->slots.resize(table_ != nullptr ? table_->size() : 0);
  }
  return *cache_;
}

SessionVariables::Slot& SessionVariables::slot(std::size_t index) {
  return cache().slots.at(index);
}

const std::string* SessionVariables::user(std::size_t index) {
  Slot& s = slot(index);
  const VariableTable::Entry& entry = table_->at(index);
  if (s.state == State::found && !entry.is_volatile) return &s.value;
  if (s.state == State::not_found && !entry.is_volatile) return nullptr;
  if (s.state == State::computing || !entry.source) {
    // Never assigned, or asked for while it is being computed.
    return s.state == State::found ? &s.value : nullptr;
  }
  s.state = State::computing;
  std::string value;
  const bool found = entry.source->evaluate(*this, value);
  // The source may have asked for other variables, but the slots never grow
  // after their first sizing, so `s` still refers to this variable's slot.
  s.value = std::move(value);
  s.state = found ? State::found : State::not_found;
  return found ? &s.value : nullptr;
}

void SessionVariables::assign(std::size_t index, std::string value) {
  Slot& s = slot(index);
  s.value = std::move(value);
  s.state = State::found;
}

}  // namespace proxyd
