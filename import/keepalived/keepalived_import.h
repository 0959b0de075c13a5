// vrrpd --import-keepalived: reads a keepalived.conf (following its
// includes) and writes the equivalent vrrpd.ini: global_defs, vrrp_script,
// vrrp_instance and vrrp_sync_group. keepalived's own warnings (password cut
// to 8 bytes, nopreempt with state MASTER) are repeated, the seed's trap (a
// negative track weight with nopreempt) explained, and everything vrrpd
// cannot carry is named, each with the keepalived.conf FILE:LINE.
#pragma once

#include <string>

#include "import/import_result.h"

namespace vrrpd {

using importer::ImportResult;

// Relative `include` paths resolve against the directory of the file that
// holds the include, as keepalived does.
ImportResult importKeepalived(const std::string& path);

}  // namespace vrrpd
