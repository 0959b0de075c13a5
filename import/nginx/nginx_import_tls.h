// The TLS directives of nginx's stream ssl and proxy modules (ssl_*,
// proxy_ssl_*), carried into [server] under the same names: proxyd.ini
// spells them as nginx does (tls_settings.h), one INI token per argument.
#pragma once

#include <optional>
#include <string>

#include "import/conf_statement.h"

namespace importer {

// Whether `name` is one of them.
bool isTlsDirective(const std::string& name);

// The INI value of `d` (its arguments, quoted as proxyd.ini reads them
// back), or nothing when the argument count is not nginx's (`why` says what
// nginx expects).
std::optional<std::string> tlsValue(const ConfStatement& d, std::string& why);

// Keys that may be given several times (nginx arrays): a server's own
// lines replace the stream block's, all of them.
bool isRepeatableTlsKey(const std::string& name);

}  // namespace importer
