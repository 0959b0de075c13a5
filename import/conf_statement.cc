#include "import/conf_statement.h"

#include <fmt/format.h>

namespace importer {

std::string ConfStatement::joined(size_t from) const {
  std::string v;
  for (size_t i = from; i < args.size(); ++i) v += (v.empty() ? "" : " ") + args[i];
  return v;
}

std::string ConfStatement::where() const {
  return fmt::format("{}:{}", file, line);
}

}  // namespace importer
