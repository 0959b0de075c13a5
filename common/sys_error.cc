#include "common/sys_error.h"

#include <cstring>

namespace common {

std::string SysError::message() const {
  return fmt::format("{}", *this);
}

std::string SysError::errnoReason(int err) {
  return fmt::format("{}: {}", err, errnoText(err));
}

std::string SysError::brief() const {
  return fmt::format("{}: {}", call, text());
}

std::string_view SysError::errnoText(int err) {
  return std::strerror(err);
}

}  // namespace common
