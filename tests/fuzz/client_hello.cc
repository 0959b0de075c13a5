// ssl_preread's ClientHello parser on hostile bytes, as the session feeds
// it: everything read so far from a client. Oracles: the strings it returns
// are made of input bytes, so never longer than the input; a declined
// answer carries nginx's reason; an answer once given (done or declined)
// stands whatever arrives after it, as it does in nginx, which stops
// reading; and the reader that keeps its place, fed the same bytes in
// segments (of a size taken from the input's length), ends where parsing
// everything at once ends.
#include <string>

#include "proxyd/core/client_hello.h"
#include "proxyd/core/client_hello_reader.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

bool same(const proxyd::ClientHelloResult& a, const proxyd::ClientHelloResult& b) {
  return a.state == b.state && a.reason == b.reason && a.info.protocol == b.info.protocol &&
         a.info.server_name == b.info.server_name && a.info.alpn_protocols == b.info.alpn_protocols;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using State = proxyd::ClientHelloResult::State;
  const std::string_view in = fuzz::text(data, size);
  const auto r = proxyd::parseClientHello(in);
  if (r.info.server_name.size() + r.info.alpn_protocols.size() > size) __builtin_trap();
  if (r.state == State::declined && r.reason.rfind("ssl preread: ", 0) != 0) __builtin_trap();
  if (r.state != State::declined && !r.reason.empty()) __builtin_trap();
  if (r.state != State::need_more) {
    const std::string more = std::string(in) + std::string("\x16\x03\x01\x00\x05\x01", 6);
    if (!same(proxyd::parseClientHello(more), r)) __builtin_trap();
  }
  const std::size_t segment = size % 13 + 1;
  proxyd::ClientHelloReader reader;
  for (std::size_t n = 0; n < size; n += segment) reader.read(in.substr(0, n));
  if (reader.read(in) != r.state || !same(reader.result(), r)) __builtin_trap();
  return 0;
}
