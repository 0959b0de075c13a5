// [map $RESULT] (ini-spec11.md, proxyd.ini(5)): nginx stream's map block,
// loaded into a MapVariable that defines the variable in the config's table.
#pragma once

#include "common/ini_file.h"
#include "proxyd/core/config_context.h"

namespace proxyd {

// Reads the section (source, hostnames, volatile, default, include, entry)
// and the files it includes (nginx's map-body syntax: "KEY VALUE;" lines);
// problems go to ctx as FILE:LINE of the line at fault, in whichever file.
void loadMapSection(const common::IniSection& section, const ConfigContext& ctx);

}  // namespace proxyd
