// The variables of one session, as nginx's s->variables: the built-ins are
// read from the SessionRecord, a user variable is computed the first time it
// is asked for and then cached (unless it is volatile), and the captures of
// the last regular expression that matched are kept for $1..$9.
//
// A session whose configuration has no user variable never allocates here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxyd/core/session_record.h"
#include "proxyd/core/variable_table.h"
#include "proxyd/core/variables.h"

namespace proxyd {

class SessionVariables {
 public:
  SessionVariables(const SessionRecord& record, const ProcessInfo& process,
                   const VariableTable* table = nullptr)
      : record_(record), process_(process), table_(table) {}

  const SessionRecord& record() const { return record_; }
  const ProcessInfo& process() const { return process_; }
  const VariableTable* table() const { return table_; }

  // The value of user variable `index`, or nullptr when it is not found
  // (no source and never assigned, or a cycle: a variable that needs its own
  // value, which nginx also reports as not found).
  const std::string* user(std::size_t index);
  // Sets a user variable (set, a named capture): later reads see `value`.
  void assign(std::size_t index, std::string value);

  // The captures of the last regex match: [0] the whole match, [n] group n.
  void setCaptures(std::vector<std::string> captures) { cache().captures = std::move(captures); }
  // Group `n` of the last match; empty when there is none (as nginx).
  std::string_view capture(std::size_t n) const {
    if (!cache_ || n >= cache_->captures.size()) return {};
    return cache_->captures[n];
  }

 private:
  enum class State : std::uint8_t { unknown, computing, found, not_found };
  struct Slot {
    State state = State::unknown;
    std::string value;
  };
  // Allocated at the first use, so that a session of a configuration
  // without user variables carries one null pointer.
  struct Cache {
    std::vector<Slot> slots;  // one per variable of the table
    std::vector<std::string> captures;
  };
  Cache& cache();
  Slot& slot(std::size_t index);

  const SessionRecord& record_;
  const ProcessInfo& process_;
  const VariableTable* table_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace proxyd
