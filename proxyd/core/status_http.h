// The status page's HTTP/1.x, as pure functions, and the limits that keep a
// hostile client from costing the control thread more than a bounded amount
// of memory, time and descriptors. The track script's GET / must keep
// answering whatever other clients do, or the VIP moves (issue 9).
//
// libevent 2.1's evhttp cannot filter a peer at accept, bounds only the
// time between two reads, and has no connection cap, so the page reads its
// requests itself: one request per connection, answered with
// "Connection: close".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"

#include "proxyd/core/status_render.h"

namespace proxyd {

// Request line and headers, terminator included. nginx's
// large_client_header_buffers is 4 x 8k; one request of the status page
// needs a few hundred bytes.
inline constexpr std::size_t kStatusMaxHeadBytes = 8192;
// A request body (Content-Length) is read and discarded up to this size;
// beyond it the answer is 413 (nginx's client_max_body_size, 1m by default).
inline constexpr std::size_t kStatusMaxBodyBytes = 1024;
// From accept to the last byte of the answer, whatever the client does in
// between: a total deadline, like nginx's client_header_timeout (set once
// per request, not restarted by every read). A client that has not been
// answered by then is closed without an answer.
inline constexpr std::chrono::milliseconds kStatusRequestDeadline{5000};
// Status connections open at once (counted apart from worker_connections).
// One more is admitted by closing another: see pickShedVictim.
inline constexpr std::size_t kStatusMaxConnections = 32;
// Descriptors at the top of RLIMIT_NOFILE that the workers never keep (an
// accepted client or an upstream socket there is closed, as on EMFILE), so
// that proxy sessions cannot starve the control thread: the status page's
// connections, health checks, reloads and log reopening.
inline constexpr std::uint64_t kControlReservedFds = 64;

// The reserve for a given RLIMIT_NOFILE: kControlReservedFds, or a quarter
// of a limit below 4 x kControlReservedFds.
std::uint64_t controlReservedFds(std::uint64_t rlimit_nofile);
// The lowest descriptor number a worker may not keep; 0 for no ceiling
// (a limit too large for an int).
int workerDescriptorCeiling(std::uint64_t rlimit_nofile);

// Which open connection to close for a new one, given the peers of the
// open connections oldest first (and the new one's peer, which counts
// too): the oldest connection of the address that holds the most. A
// client that has had its connection longest without being answered is
// the slowest, and one address opening connections faster than they are
// answered sheds its own, never the track script's (as nginx's limit_conn
// counts per address).
std::size_t pickShedVictim(const std::vector<const common::SocketAddress*>& open_oldest_first,
                           const common::SocketAddress& incoming);

// Where the request head ends in `buf` (the offset just past the empty
// line, LF or CRLF), searching from about `from` (what was searched
// before, so that a head arriving byte by byte is scanned once);
// std::string_view::npos while it has not ended.
std::size_t findStatusHeadEnd(std::string_view buf, std::size_t from);

struct StatusRequest {
  std::string method;  // "GET", "HEAD", anything else as sent
  std::string path;    // the target without its query
  std::size_t body_length = 0;
};

// A complete head (findStatusHeadEnd found its end), or the answer that
// refuses it: 400 (malformed), 413 (body beyond kStatusMaxBodyBytes), 501
// (Transfer-Encoding), 505 (not HTTP/1.x).
struct StatusHead {
  std::optional<StatusRequest> request;
  StatusReply refusal;
};
StatusHead parseStatusHead(std::string_view head);

// The answer to a head that has not ended within kStatusMaxHeadBytes, as
// nginx: 414 when the request line alone does not fit, else 400 "Request
// Header Or Cookie Too Large".
StatusReply statusHeadTooLarge(std::string_view received);

// The bytes on the wire: status line, Server, Date, Content-Type,
// Content-Length, Cache-Control, Allow (405), "Connection: close", and the
// body unless `head_only`.
std::string formatStatusResponse(const StatusReply& reply, bool head_only, std::time_t date);

}  // namespace proxyd
