// proxyd --import-nginx: reads an nginx.conf (following its includes) and
// writes the equivalent proxyd.ini. The `stream { }` block carries over
// (log formats, upstreams, servers, timeouts); the `http { }` server on the
// status port becomes [status]; everything else is named in a warning.
#pragma once

#include <string>

#include "import/import_result.h"

namespace proxyd {

using importer::ImportResult;

// Relative `include` paths resolve against the directory of `path` (nginx's
// conf prefix), as nginx does for `nginx -c path`.
ImportResult importNginx(const std::string& path);

}  // namespace proxyd
