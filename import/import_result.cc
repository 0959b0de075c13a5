#include "import/import_result.h"

#include <ostream>

namespace importer {

ImportResult importResultOf(std::string ini, const common::Diagnostics& msg) {
  ImportResult result;
  result.ini = std::move(ini);
  result.warnings = msg.formattedInSourceOrder();
  result.ok = !msg.hasErrors();
  return result;
}

int printImport(const ImportResult& result, std::ostream& out, std::ostream& err) {
  out << result.ini;
  for (const auto& w : result.warnings) err << w << "\n";
  return result.ok ? 0 : 1;
}

}  // namespace importer
