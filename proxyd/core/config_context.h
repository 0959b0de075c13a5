// What a section loader in its own file ([map], [geo], [split_clients]) gets
// from the proxyd.ini loader: where errors go, how paths resolve, the host
// to ask about files, and the configuration's user variables to compile
// templates against and to define.
#pragma once

#include <string>

#include "common/host.h"
#include "common/ini_file.h"
#include "proxyd/core/variable_table.h"

namespace proxyd {

struct ConfigContext {
  const std::string& path;    // the file, for errors
  const std::string& prefix;  // relative paths resolve against it
  common::Diagnostics& diag;
  const common::Host& host;
  VariableTable& variables;
  // UserVariables::text, which the reload plan compares: a loader appends
  // what it reads besides its section (an included file), so that a reload
  // after only that file changed still builds a new table. None: not kept.
  std::string* variables_text = nullptr;

  void error(int line, std::string msg) const { diag.error(path, line, std::move(msg)); }
  void warning(int line, std::string msg) const { diag.warning(path, line, std::move(msg)); }
  // Absolute paths and "stderr" as they are; others below the prefix.
  std::string resolvePath(const std::string& p) const {
    if (p.empty() || p[0] == '/' || p == "stderr") return p;
    return prefix + "/" + p;
  }
};

}  // namespace proxyd
