// proxyd --import-nginx: reads an nginx.conf (following its includes) and
// writes the equivalent proxyd.ini. The `stream { }` block carries over
// (log formats, upstreams, servers, timeouts); the `http { }` server on the
// status port becomes [status]; everything else is named in a warning.
#pragma once

#include <string>
#include <vector>

namespace proxyd {

struct ImportResult {
  std::string ini;                    // the proxyd.ini text
  std::vector<std::string> warnings;  // "FILE:LINE: warning: ..." (and "error:" lines)
  bool ok = false;                    // false: the source could not be read or parsed
};

// Relative `include` paths resolve against the directory of `path` (nginx's
// conf prefix), as nginx does for `nginx -c path`.
ImportResult importNginx(const std::string& path);

}  // namespace proxyd
