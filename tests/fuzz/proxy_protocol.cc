// The PROXY protocol header reader on hostile bytes, as a session on
// `listen ... proxy_protocol` feeds it: what one peek of the client gave.
// Oracles: a final read always decides; a decision taken before the end
// (not final) is the one the final read takes, and stands whatever arrives
// after it (a reader fed growing prefixes never changes its mind); what a
// header holds is made of input bytes, within nginx's 4096; every error
// text is one nginx logs; TLV look-ups stay inside the TLVs. The writer's
// headers, from addresses taken from the input, read back to the same
// ports.
#include <cstring>
#include <string>

#include "proxyd/core/proxy_protocol.h"
#include "proxyd/core/proxy_protocol_tlv.h"
#include "proxyd/core/proxy_protocol_writer.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using proxyd::ProxyProtocolResult;
using State = ProxyProtocolResult::State;

// An error's text quotes what had arrived, so only its kind is compared.
bool same(const ProxyProtocolResult& a, const ProxyProtocolResult& b) {
  if (a.state == State::error) return b.state == State::error;
  return a.state == b.state && a.consumed == b.consumed && a.header == b.header;
}

bool nginxText(const std::string& e) {
  return e.empty() || e.rfind("broken header: \"", 0) == 0 ||
         e.rfind("unknown PROXY protocol version: ", 0) == 0 || e == "header is too large";
}

void checkTlvs(const std::string& tlvs) {
  static const char* kNames[] = {"alpn",   "authority",  "unique_id", "netns",    "ssl_version",
                                 "ssl_cn", "ssl_verify", "0x00",      "ssl_0xff", "0xe0"};
  std::string scratch;
  for (const char* name : kNames) {
    auto sel = proxyd::parseProxyProtocolTlvName(name);
    if (!sel) __builtin_trap();
    auto v = proxyd::findProxyProtocolTlv(tlvs, *sel, scratch);
    if (v && v->data() != scratch.data() &&
        (v->data() < tlvs.data() || v->data() + v->size() > tlvs.data() + tlvs.size())) {
      __builtin_trap();
    }
  }
}

// Two addresses and ports from the input's first 36 bytes, IPv4 or IPv6
// by its first bit; both headers read back to the same ports.
void checkWriter(std::string_view in) {
  if (in.size() < 36) return;
  const auto* b = reinterpret_cast<const unsigned char*>(in.data());
  auto make = [&](const unsigned char* a, const unsigned char* port) {
    const std::uint16_t p = static_cast<std::uint16_t>((port[0] << 8) | port[1]);
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, a, 16);
    sin6.sin6_port = htons(p);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, a, 4);
    sin.sin_port = htons(p);
    return (b[0] & 0x80) ? common::SocketAddress(reinterpret_cast<sockaddr*>(&sin6), sizeof sin6)
                         : common::SocketAddress(reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  };
  const common::SocketAddress client = make(b, b + 32);
  const common::SocketAddress local = make(b + 16, b + 34);
  for (const std::string& h :
       {proxyd::proxyProtocolV1(client, local), proxyd::proxyProtocolV2(client, local)}) {
    auto r = proxyd::parseProxyProtocol(h, true);
    if (r.state != State::done || r.consumed != h.size() || !r.header) __builtin_trap();
    if (r.header->src_port != client.port() || r.header->dst_port != local.port()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::text(data, size);
  const ProxyProtocolResult r = proxyd::parseProxyProtocol(in, true);
  if (r.state == State::need_more || !nginxText(r.error)) __builtin_trap();
  if (r.state == State::done) {
    if (r.consumed == 0 || r.consumed > size || r.consumed > proxyd::kProxyProtocolMaxHeader) {
      __builtin_trap();
    }
    if (r.header) {
      const auto& h = *r.header;
      if (h.src_addr.size() + h.dst_addr.size() + h.tlvs.size() > r.consumed) __builtin_trap();
      checkTlvs(h.tlvs);
    }
  }
  const ProxyProtocolResult early = proxyd::parseProxyProtocol(in, false);
  if (early.state != State::need_more && !same(early, r)) __builtin_trap();
  // Growing prefixes, in steps from the input's length: the first decision stands.
  const std::size_t step = size % 7 + 1;
  for (std::size_t n = 0; n < size; n += step) {
    const ProxyProtocolResult part = proxyd::parseProxyProtocol(in.substr(0, n), false);
    if (part.state != State::need_more && !same(part, r)) __builtin_trap();
  }
  checkWriter(in);
  return 0;
}
