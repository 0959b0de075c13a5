// vrrpd.ini's numeric keys and their bounds: the one table the loader
// (config.cc) parses every number through, which vrrpd.ini(5) prints and the
// tests walk.
#pragma once

#include <span>
#include <string_view>

#include "common/value_limits.h"

namespace vrrpd {

std::span<const common::ValueLimit> valueLimits();

// The keys (and NAME=VALUE parameters) that hold no number.
std::span<const common::TextKey> textKeys();

// The entry for a key; std::logic_error when the table lacks it.
const common::ValueLimit& limitOf(std::string_view section, std::string_view key,
                                  std::string_view option = {});

}  // namespace vrrpd
