// The tree both importers read a configuration into: nginx's directives and
// keepalived's keywords alike are a name, its words and, for a block, the
// statements inside, each keeping the FILE:LINE it was written at.
#pragma once

#include <string>
#include <vector>

namespace importer {

struct ConfStatement {
  std::string name;
  std::vector<std::string> args;
  std::string file;
  int line = 0;
  bool block = false;
  std::vector<ConfStatement> children;

  std::string arg(size_t i) const { return i < args.size() ? args[i] : std::string(); }
  // The words from `from` on, joined with one space.
  std::string joined(size_t from = 0) const;
  std::string where() const;  // "FILE:LINE"
};

}  // namespace importer
