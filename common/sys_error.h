// A failed system call and its errno, and the one place that turns them
// into text. Messages keep nginx's shape, "CALL failed (ERRNO: TEXT)"
// (ngx_log_error's "(%d: %s)" suffix), which the tests and operators' log
// filters read; vrrpd's keepalived-shaped messages use the text alone.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace common {

struct SysError {
  std::string call;  // what failed, as the message names it: "bind() to 127.0.0.1:80"
  int err = 0;       // errno, read right after the call

  // "CALL failed (ERR: TEXT)".
  std::string message() const;
  // "CALL: TEXT", keepalived's shape (vrrpd's messages).
  std::string brief() const;
  // strerror's text alone.
  std::string_view text() const { return errnoText(err); }

  // "ERR: TEXT", for messages of another shape: "cannot write \"F\" (ERR:
  // TEXT)", nginx's "upstream timed out (110: Connection timed out)".
  static std::string errnoReason(int err);
  static std::string_view errnoText(int err);
};

}  // namespace common

// So that a log call can take the error as an argument:
// log.error("{}", SysError{"accept4()", errno}).
template <>
struct fmt::formatter<common::SysError> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const common::SysError& e, Context& ctx) const {
    return fmt::format_to(ctx.out(), "{} failed ({})", e.call,
                          common::SysError::errnoReason(e.err));
  }
};
