// [geo $NAME]: nginx's geo block in proxyd.ini (ini-spec11.md). The keys
// are read in file order, as nginx reads the block's lines: `entry`,
// `default`, `delete` and `include` (a file in nginx's geo-body syntax,
// relative to the prefix) add to one table; `ranges` and `source` apply to
// the whole section.
#pragma once

#include <cstddef>

#include "common/ini_file.h"

namespace proxyd {

struct ConfigContext;

// An included geo file larger than this is refused (a whole-world GeoIP
// table in nginx's text form is about 20 MiB), and so is an include nested
// deeper than kMaxGeoIncludeDepth (nginx would recurse until it fails).
inline constexpr std::size_t kMaxGeoIncludeBytes = 64 << 20;
inline constexpr int kMaxGeoIncludeDepth = 16;

// Compiles the section and defines its variable (declared by the pre-pass).
void loadGeoSection(const common::IniSection& section, const ConfigContext& ctx);

}  // namespace proxyd
