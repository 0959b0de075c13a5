// [map $RESULT] (ini-spec11.md, proxyd.ini(5)): nginx stream's map block,
// loaded into a MapVariable that defines the variable in the config's table.
#pragma once

#include <string>

#include "common/ini_file.h"
#include "proxyd/core/config_context.h"

namespace proxyd {

// Reads the section (source, hostnames, volatile, default, include, entry)
// and the files it includes (nginx's map-body syntax: "KEY VALUE;" lines);
// problems go to ctx as FILE:LINE of the line at fault, in whichever file.
void loadMapSection(const common::IniSection& section, const ConfigContext& ctx);

// The loader's first pass (before any template compiles): declares the
// named captures of the map's regexes, as nginx declares them when it
// compiles the regex, so that a log format or another map may use them in
// any section order. Says nothing about errors (loadMapSection does).
// Returns the text of the files the map includes, for the reload plan to
// compare with the section's own: an edited map file is a changed map.
std::string declareMapCaptures(const common::IniSection& section, const ConfigContext& ctx);

}  // namespace proxyd
