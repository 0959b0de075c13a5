// What nginx's and keepalived's `include` have in common (in both importers
// and in proxyd.ini's map/geo `include`): reading a whole file, resolving a
// relative name, expanding a pattern, bounding the depth.
// Where they differ (the directory a name is relative to, whether a pattern
// without wildcards is globbed, whether an unreadable file is an error) stays
// with each reader.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/ini_file.h"

namespace common {

// The file's bytes, or nullopt when it cannot be read.
std::optional<std::string> readConfFile(const std::string& path);

// `name` resolved against `dir` unless it is absolute.
std::string includePath(const std::string& name, const std::string& dir);

// The files `pattern` matches, in glob(3)'s sorted order (empty: none);
// nullopt when glob fails otherwise. `flags` as for glob(3).
std::optional<std::vector<std::string>> matchingFiles(const std::string& pattern, int flags);

// Whether an include at `depth` may be followed; if not, an error at
// FILE:LINE that names the likely loop.
bool includeDepthAllowed(int depth, const std::string& file, int line, Diagnostics& msg);

}  // namespace common
