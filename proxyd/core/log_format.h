// nginx stream `log_format`, compiled once at load into literal pieces and
// variable references; rendering a session is then a walk over that list.
// The output is the line nginx writes for the same session, byte for byte
// apart from the times.
#pragma once

#include <sys/types.h>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "proxyd/core/session_record.h"

namespace proxyd {

enum class Variable {
  remote_addr,
  remote_port,
  server_addr,
  server_port,
  protocol,
  status,
  bytes_sent,
  bytes_received,
  session_time,
  time_local,
  time_iso8601,
  msec,
  connection,
  upstream_addr,
  upstream_bytes_sent,
  upstream_bytes_received,
  upstream_connect_time,
  upstream_first_byte_time,
  upstream_session_time,
  hostname,
  pid,
};

// nginx log_format escape=default|json|none.
enum class Escape { standard, json, none };

// Process facts that some variables print; filled once at start.
struct ProcessInfo {
  std::string hostname;
  pid_t pid = 0;
};

class LogFormat {
 public:
  // Compiles "$remote_addr [$time_local] ${status}..."; an unknown variable
  // is an error naming it ("unknown variable \"$foo\"").
  static common::Result<LogFormat> compile(std::string_view text, Escape escape = Escape::standard);

  // Appends the rendered line (without the newline) to `out`.
  void render(const SessionRecord& s, const ProcessInfo& proc, std::string& out) const;

  // Whether the format refers to `v` (lets the session skip work, such as
  // getsockname() for $server_addr, that no line will show).
  bool uses(Variable v) const;

 private:
  struct Piece {
    std::string literal;  // used when is_variable is false
    Variable variable{};
    bool is_variable = false;
  };
  std::vector<Piece> pieces_;
  Escape escape_ = Escape::standard;
};

}  // namespace proxyd
