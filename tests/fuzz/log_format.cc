// log_format on any text: compiled with each escape mode, and when it
// compiles, rendered for sessions that reach every branch of the renderer:
// no upstream at all, one try that never connected, and three tries with
// the largest counters and times a session can carry.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <limits>

#include "proxyd/core/log_format.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using proxyd::SessionRecord;
using proxyd::UpstreamAttempt;

common::SocketAddress address(int family, const char* host, std::uint16_t port) {
  if (family == AF_INET) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    ::inet_pton(AF_INET, host, &sin.sin_addr);
    return common::SocketAddress(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  ::inet_pton(AF_INET6, host, &sin6.sin6_addr);
  return common::SocketAddress(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
}

std::vector<SessionRecord> sessions() {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  std::vector<SessionRecord> out;

  SessionRecord refused;  // a default record: no address, no upstream
  refused.status = 502;
  out.push_back(refused);

  SessionRecord failed;
  failed.connection = 1;
  failed.remote = address(AF_INET, "192.0.2.1", 40000);
  failed.local = address(AF_INET, "192.0.2.2", 10443);
  failed.session_time = milliseconds(1);
  failed.end_time = std::chrono::system_clock::time_point{} + hours(24 * 365 * 56);
  failed.upstreams.push_back(UpstreamAttempt{"k8s \"group\"\\", 0, 0, {}, {}, {}});
  out.push_back(failed);

  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  SessionRecord busy;
  busy.connection = kMax;
  busy.remote = address(AF_INET6, "2001:db8::1", 65535);
  busy.local = address(AF_INET6, "2001:db8::2", 1);
  busy.status = 200;
  busy.bytes_sent = kMax;
  busy.bytes_received = kMax;
  busy.session_time = hours(24 * 365);
  busy.end_time = std::chrono::system_clock::now();
  for (int i = 0; i < 3; ++i) {
    busy.upstreams.push_back(UpstreamAttempt{"[2001:db8::11]:6443", kMax, kMax, common::Duration(i),
                                             hours(i), hours(24 * 365)});
  }
  out.push_back(busy);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<SessionRecord> records = sessions();
  static const proxyd::ProcessInfo proc{"fuzz\"host\x01", 4242};
  for (auto escape : {proxyd::Escape::standard, proxyd::Escape::json, proxyd::Escape::none}) {
    auto format = proxyd::LogFormat::compile(fuzz::text(data, size), escape);
    if (!format) continue;
    for (const SessionRecord& s : records) {
      std::string line;
      format->render(s, proc, line);
    }
  }
  return 0;
}
