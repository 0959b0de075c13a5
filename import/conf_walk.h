// What both importers' walks over a configuration tree do the same way:
// name what the daemon cannot carry, check a statement's shape, and keep a
// value only if the daemon's INI can hold it, each with the source's
// FILE:LINE.
#pragma once

#include <string>

#include "common/ini_file.h"
#include "import/conf_statement.h"
#include "import/imported_ini.h"

namespace importer {

class ConfWalk {
 protected:
  // `daemon`: "proxyd" or "vrrpd", as the warnings name it.
  ConfWalk(std::string daemon, common::Diagnostics& msg) : daemon_(std::move(daemon)), msg_(msg) {}

  // "NAME is not supported by DAEMON: dropped (WHY)".
  void drop(const ConfStatement& s, const std::string& why = {});

  // Whether `s` has from `min` to `max` words and no block; if not, a
  // warning that shows the expected `form`.
  bool expect(const ConfStatement& s, size_t min, size_t max, const char* form);

  // Whether the daemon's INI can hold `value` as the value of `key`; if
  // not, a warning that `s` is dropped, and why.
  bool writable(const ConfStatement& s, const std::string& key, const std::string& value);

  // Adds "key = value" from `s` to `sec`, if writable.
  void put(ImportedSection& sec, const ConfStatement& s, const std::string& key,
           const std::string& value);

  const std::string daemon_;
  common::Diagnostics& msg_;
};

}  // namespace importer
