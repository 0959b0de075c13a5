// The small text rules every config loader and importer shares, so that a
// value splits and a relative path resolves the same way everywhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace common {

// The words of a value, split at spaces and tabs ("a  b\tc" -> a, b, c).
std::vector<std::string> splitWords(std::string_view text);

// The tokens of a value that carries nginx arguments (map entries, return
// text, server_name): words split at blanks, where a word may be quoted with
// "..." or '...' as nginx quotes it (\" \' \\ \t \r \n are unescaped, any
// other backslash stays). Inside quotes proxyd also reads \xHH as that byte,
// so that every nginx argument can be written in INI: a ';' after a blank
// would otherwise start an inline comment. "" is an empty token.
Result<std::vector<std::string>> splitTokens(std::string_view text);

// The one token of a value that takes a single nginx argument ("expected
// one value, got N" otherwise).
Result<std::string> splitOneToken(std::string_view text);

// The inverse of one token of splitTokens: the word as is when it needs no
// quotes, else double-quoted with the escapes above.
std::string quoteToken(std::string_view word);

// ASCII-only lower case, as nginx's ngx_strlow / ngx_strcasecmp see names
// (locale-free: a byte >= 0x80 stays as it is).
constexpr char asciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string asciiLower(std::string_view text);
bool equalsIgnoringCase(std::string_view a, std::string_view b);

// The directory part of a path: "dir/f" -> "dir", "/f" -> "/", "f" -> ".".
std::string directoryOf(const std::string& path);

}  // namespace common
