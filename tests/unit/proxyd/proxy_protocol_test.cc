#include "proxyd/core/proxy_protocol.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <sys/un.h>

#include <cstring>

#include <string>

#include "proxyd/core/crc32c.h"
#include "proxyd/core/proxy_protocol_tlv.h"
#include "proxyd/core/proxy_protocol_writer.h"
#include "proxyd/core/realip.h"
#include "proxyd/core/session_variables.h"
#include "proxyd/core/template.h"

using proxyd::parseProxyProtocol;
using proxyd::ProxyProtocolResult;
using State = ProxyProtocolResult::State;

namespace {

std::string be16(unsigned v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

std::string tlv(unsigned type, const std::string& value) {
  return std::string(1, static_cast<char>(type)) + be16(static_cast<unsigned>(value.size())) +
         value;
}

// A v2 header: version/command byte, family/transport byte, body.
std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string& body) {
  return std::string(proxyd::kProxyProtocolV2Signature) + static_cast<char>(ver_cmd) +
         static_cast<char>(fam) + be16(static_cast<unsigned>(body.size())) + body;
}

std::string inet4Body(const std::string& tlvs = "") {
  return std::string("\xc0\x00\x02\x01\xc6\x33\x64\x02", 8) + be16(51000) + be16(10443) + tlvs;
}

common::SocketAddress addr(const char* host, std::uint16_t port) {
  return *common::SocketAddress::fromNumeric(host, port);
}

common::SocketAddress unixAddr(const char* path) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);
  return common::SocketAddress(reinterpret_cast<const sockaddr*>(&sun), sizeof sun);
}

std::string v6Text(const char* text) {
  unsigned char b[16];
  REQUIRE(inet_pton(AF_INET6, text, b) == 1);
  return proxyd::nginxInet6Text(b);
}

}  // namespace

TEST_CASE("PROXY v1: TCP4 and TCP6 headers", "[proxy_protocol]") {
  const std::string h = "PROXY TCP4 192.0.2.1 198.51.100.2 51000 10443\r\n";
  auto r = parseProxyProtocol(h + "hello", true);
  REQUIRE(r.state == State::done);
  CHECK(r.consumed == h.size());
  REQUIRE(r.header);
  CHECK(r.header->src_addr == "192.0.2.1");
  CHECK(r.header->dst_addr == "198.51.100.2");
  CHECK(r.header->src_port == 51000);
  CHECK(r.header->dst_port == 10443);
  r = parseProxyProtocol("PROXY TCP6 2001:db8::1 2001:db8::2 1 0\r\n", true);
  REQUIRE(r.state == State::done);
  CHECK(r.header->src_addr == "2001:db8::1");
  CHECK(r.header->dst_port == 0);
}

TEST_CASE("PROXY v1: what nginx accepts beyond the spec", "[proxy_protocol]") {
  // Only the characters of an address are checked; leading zeros in ports.
  auto r = parseProxyProtocol("PROXY TCP4 fff 1.2.3.4 0080 2\r\n", true);
  REQUIRE(r.state == State::done);
  CHECK(r.header->src_addr == "fff");
  CHECK(r.header->src_port == 80);
  r = parseProxyProtocol("PROXY TCP4  1.2.3.4 1 2\r\n", true);
  REQUIRE(r.state == State::done);
  CHECK(r.header->src_addr.empty());
  // UNKNOWN: anything to the first CRLF, no addresses kept.
  for (const char* text :
       {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ::1 1 2\r\n", "PROXY UNKNOWNjunk\r\n"}) {
    r = parseProxyProtocol(std::string(text) + "x", true);
    REQUIRE(r.state == State::done);
    CHECK(r.consumed == std::string(text).size());
    CHECK_FALSE(r.header);
  }
}

TEST_CASE("PROXY v1: broken headers and nginx's text", "[proxy_protocol]") {
  const std::pair<std::string, std::string> cases[] = {
      {"", "broken header: \"\""},
      {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "broken header: \"GET / HTTP/1.1\""},
      {"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "broken header: \"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\""},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
       "broken header: \"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\""},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "broken header: \"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\""},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "broken header: \"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\""},
      {"PROXY TCP4 1.2.3.g 5.6.7.8 1 2\r\n", "broken header: \"PROXY TCP4 1.2.3.g 5.6.7.8 1 2\""},
      {"PROXY TCP4 1.2.3.4 5.6.7.8  2\r\n", "broken header: \"PROXY TCP4 1.2.3.4 5.6.7.8  2\""},
      {"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "broken header: \"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\""},
      {"PROXY UNKNOWN\n", "broken header: \"PROXY UNKNOWN\""},
      {"PROXY \r\n", "broken header: \"PROXY \""},
      {"PROXY TCP4 1.2.3.4", "broken header: \"PROXY TCP4 1.2.3.4\""},
      // Fewer than 16 bytes of a v2 signature: read as v1, whose text ends at the CR.
      {std::string(proxyd::kProxyProtocolV2Signature), "broken header: \"\""},
  };
  for (const auto& [in, text] : cases) {
    CAPTURE(in);
    auto r = parseProxyProtocol(in, true);
    CHECK(r.state == State::error);
    CHECK(r.error == text);
  }
}

TEST_CASE("PROXY: a prefix of a header needs more unless final", "[proxy_protocol]") {
  const std::string full = "PROXY TCP4 192.0.2.1 198.51.100.2 51000 10443\r\n";
  const std::string bin = v2(0x21, 0x11, inet4Body(tlv(1, "h2")));
  for (const std::string& h : {full, std::string("PROXY UNKNOWN\r\n"), bin}) {
    for (std::size_t n = 0; n < h.size(); ++n) {
      CAPTURE(h, n);
      CHECK(parseProxyProtocol(h.substr(0, n), false).state == State::need_more);
      CHECK(parseProxyProtocol(h.substr(0, n), true).state == State::error);
    }
    CHECK(parseProxyProtocol(h, false).state == State::done);
  }
  // What cannot become a header is an error at once.
  CHECK(parseProxyProtocol("GET", false).state == State::error);
  CHECK(parseProxyProtocol("PROXY TCP4 1.2.3.g", false).state == State::error);
  // nginx reads 4096 bytes at most.
  const std::string endless = "PROXY UNKNOWN " + std::string(5000, 'x');
  auto r = parseProxyProtocol(endless, false);
  CHECK(r.state == State::error);
  CHECK(r.error.size() == std::string("broken header: \"\"").size() + 4096);
}

TEST_CASE("PROXY v2: addresses, TLVs and what is skipped", "[proxy_protocol]") {
  const std::string tlvs = tlv(1, "h2") + tlv(2, "example.com");
  const std::string h = v2(0x21, 0x11, inet4Body(tlvs));
  auto r = parseProxyProtocol(h + "data", true);
  REQUIRE(r.state == State::done);
  CHECK(r.consumed == h.size());
  REQUIRE(r.header);
  CHECK(r.header->src_addr == "192.0.2.1");
  CHECK(r.header->dst_addr == "198.51.100.2");
  CHECK(r.header->src_port == 51000);
  CHECK(r.header->dst_port == 10443);
  CHECK(r.header->tlvs == tlvs);

  unsigned char a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::string body6(reinterpret_cast<char*>(a6), 16);
  body6 += body6 + be16(1) + be16(2);
  r = parseProxyProtocol(v2(0x21, 0x21, body6), true);
  REQUIRE(r.state == State::done);
  CHECK(r.header->src_addr == "2001:db8::1");

  // LOCAL, UDP, AF_UNIX, UNSPEC: the whole header is consumed, no addresses.
  for (auto [vc, ft] : {std::pair{0x20, 0x11}, {0x21, 0x12}, {0x21, 0x31}, {0x21, 0x00}}) {
    const std::string skipped =
        v2(static_cast<unsigned char>(vc), static_cast<unsigned char>(ft), std::string(216, 'u'));
    r = parseProxyProtocol(skipped, true);
    REQUIRE(r.state == State::done);
    CHECK(r.consumed == skipped.size());
    CHECK_FALSE(r.header);
  }
}

TEST_CASE("PROXY v2: errors as nginx reports them", "[proxy_protocol]") {
  auto r = parseProxyProtocol(v2(0x11, 0x11, inet4Body()), true);
  CHECK(r.state == State::error);
  CHECK(r.error == "unknown PROXY protocol version: 1");
  const std::string h = v2(0x21, 0x11, inet4Body());
  r = parseProxyProtocol(h.substr(0, h.size() - 1), true);
  CHECK(r.state == State::error);
  CHECK(r.error == "header is too large");
  // Longer than nginx ever reads: too large however much has arrived.
  const std::string huge = v2(0x21, 0x11, inet4Body(tlv(0xe0, std::string(5000, 'z'))));
  r = parseProxyProtocol(huge.substr(0, 1000), false);
  CHECK(r.state == State::error);
  CHECK(r.error == "header is too large");
  // An INET header without room for its addresses: nginx closes silently.
  r = parseProxyProtocol(v2(0x21, 0x11, std::string(8, '\0')), true);
  CHECK(r.state == State::error);
  CHECK(r.error.empty());
}

TEST_CASE("PROXY v2: IPv6 printed as nginx prints it", "[proxy_protocol]") {
  CHECK(v6Text("::1") == "::1");
  CHECK(v6Text("::") == "::");
  CHECK(v6Text("2001:db8::1") == "2001:db8::1");
  CHECK(v6Text("1::") == "1::");
  CHECK(v6Text("::ffff:192.0.2.1") == "::ffff:192.0.2.1");
  CHECK(v6Text("::102") == "::0.0.1.2");  // inet_ntop says "::102"
  CHECK(v6Text("::2") == "::2");
  CHECK(v6Text("1:0:1:0:1:0:1:0") == "1:0:1:0:1:0:1:0");  // single zeros stay
  CHECK(v6Text("1:0:0:1:0:0:1:1") == "1::1:0:0:1:1");     // the first of equal runs
}

TEST_CASE("PROXY v2 TLVs: nginx's names", "[proxy_protocol]") {
  using proxyd::findProxyProtocolTlv;
  using proxyd::parseProxyProtocolTlvName;
  const std::string ssl =
      std::string("\x01\x00\x00\x00\x13", 5) + tlv(0x21, "TLSv1.3") + tlv(0x22, "client.example");
  const std::string tlvs = tlv(1, "h2") + tlv(2, "example.com") + tlv(5, "id-1") + tlv(0x20, ssl);
  std::string scratch;
  auto get = [&](const char* name) -> std::string {
    auto sel = parseProxyProtocolTlvName(name);
    REQUIRE(sel);
    auto v = findProxyProtocolTlv(tlvs, *sel, scratch);
    return v ? std::string(*v) : std::string("<none>");
  };
  CHECK(get("alpn") == "h2");
  CHECK(get("authority") == "example.com");
  CHECK(get("unique_id") == "id-1");
  CHECK(get("0x05") == "id-1");
  CHECK(get("0x5") == "id-1");
  CHECK(get("ssl_version") == "TLSv1.3");
  CHECK(get("ssl_0x22") == "client.example");
  CHECK(get("ssl_cn") == "client.example");
  CHECK(get("ssl_verify") == "19");
  CHECK(get("ssl_cipher") == "<none>");
  CHECK(get("netns") == "<none>");
  CHECK(get("0x1ff") == "<none>");
  CHECK(parseProxyProtocolTlvName("foo").error() == "unknown PROXY protocol TLV \"foo\"");
  CHECK(parseProxyProtocolTlvName("ssl_alpn").error() == "unknown PROXY protocol TLV \"ssl_alpn\"");
  CHECK(parseProxyProtocolTlvName("0xzz").error() == "invalid PROXY protocol TLV \"0xzz\"");
  CHECK_FALSE(parseProxyProtocolTlvName("0x"));
  // Broken TLVs (a length past the end) find nothing.
  auto alpn = parseProxyProtocolTlvName("alpn");
  CHECK_FALSE(findProxyProtocolTlv(std::string("\x05\x00\x09xx", 5), *alpn, scratch));
  CHECK_FALSE(findProxyProtocolTlv(std::string("\x05\x00", 2), *alpn, scratch));
}

TEST_CASE("PROXY variables in templates", "[proxy_protocol]") {
  proxyd::SessionRecord record;
  record.remote = addr("203.0.113.9", 40000);
  proxyd::ProcessInfo proc;
  proxyd::SessionVariables vars(record, proc, nullptr);
  auto t = proxyd::Template::compile(
      "$proxy_protocol_addr:$proxy_protocol_port $proxy_protocol_server_addr:"
      "$proxy_protocol_server_port $Proxy_Protocol_TLV_ALPN $realip_remote_addr "
      "$realip_remote_port");
  REQUIRE(t);
  std::string out;
  t->render(vars, out, proxyd::Escape::standard);
  CHECK(out == "-:- -:- - 203.0.113.9 40000");
  auto info = std::make_shared<proxyd::ProxyProtocolInfo>();
  info->header = proxyd::ProxyProtocolHeader{"192.0.2.1", "198.51.100.2", 51000, 0, tlv(1, "h\"2")};
  info->realip_peer = record.remote;
  record.remote = addr("192.0.2.1", 51000);
  record.proxy_protocol = info;
  out.clear();
  t->render(vars, out, proxyd::Escape::standard);
  CHECK(out == "192.0.2.1:51000 198.51.100.2: h\\x222 203.0.113.9 40000");
  auto bad = proxyd::Template::compile("$proxy_protocol_tlv_nope");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == "unknown PROXY protocol TLV \"nope\"");
}

TEST_CASE("realip: only trusted peers, as ngx_stream_realip_module", "[proxy_protocol]") {
  proxyd::RealIpFrom from;
  REQUIRE(proxyd::addRealIpFrom(from, "192.0.2.0/24"));
  REQUIRE(proxyd::addRealIpFrom(from, "2001:db8::/32"));
  CHECK_FALSE(proxyd::addRealIpFrom(from, "all"));
  CHECK_FALSE(proxyd::addRealIpFrom(from, "lb.example"));
  const proxyd::ProxyProtocolHeader h{"203.0.113.7", "198.51.100.1", 4242, 443, ""};
  auto real = proxyd::realClientAddress(from, addr("192.0.2.10", 1), &h);
  REQUIRE(real);
  CHECK(real->toString() == "203.0.113.7:4242");
  CHECK_FALSE(proxyd::realClientAddress(from, addr("198.51.100.10", 1), &h));
  CHECK_FALSE(proxyd::realClientAddress(from, addr("192.0.2.10", 1), nullptr));
  CHECK(proxyd::realClientAddress(from, addr("::ffff:192.0.2.10", 1), &h));
  const proxyd::ProxyProtocolHeader junk{"fff", "1.2.3.4", 1, 2, ""};
  CHECK_FALSE(proxyd::realClientAddress(from, addr("192.0.2.10", 1), &junk));
  // An IPv4-mapped peer is matched against IPv4 networks only (ngx_cidr_match).
  proxyd::RealIpFrom v6only;
  REQUIRE(proxyd::addRealIpFrom(v6only, "::/0"));
  CHECK_FALSE(proxyd::realClientAddress(v6only, addr("::ffff:192.0.2.10", 1), &h));
  CHECK(proxyd::realClientAddress(v6only, addr("2001:db8::5", 1), &h));
  proxyd::RealIpFrom unix_from;
  REQUIRE(proxyd::addRealIpFrom(unix_from, "unix:"));
  CHECK(proxyd::realClientAddress(unix_from, unixAddr("/tmp/x"), &h));
  CHECK_FALSE(proxyd::realClientAddress(unix_from, addr("192.0.2.10", 1), &h));
  CHECK_FALSE(proxyd::realClientAddress({}, addr("192.0.2.10", 1), &h));
}

TEST_CASE("PROXY sent: v1 as nginx writes it", "[proxy_protocol]") {
  CHECK(proxyd::proxyProtocolV1(addr("192.0.2.1", 51000), addr("198.51.100.2", 10443)) ==
        "PROXY TCP4 192.0.2.1 198.51.100.2 51000 10443\r\n");
  CHECK(proxyd::proxyProtocolV1(addr("2001:db8::1", 1), addr("::1", 2)) ==
        "PROXY TCP6 2001:db8::1 ::1 1 2\r\n");
  CHECK(proxyd::proxyProtocolV1(unixAddr("/tmp/x"), unixAddr("/tmp/y")) == "PROXY UNKNOWN\r\n");
  const std::string longest =
      proxyd::proxyProtocolV1(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535),
                              addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535));
  CHECK(longest.size() <= 107);
}

TEST_CASE("PROXY sent: v2 with the CRC32C TLV", "[proxy_protocol]") {
  // RFC 3720 B.4's check value.
  CHECK(proxyd::crc32c("123456789") == 0xE3069283u);
  struct Case {
    const char* client;
    const char* local;
    unsigned char family;  // family/transport byte
    const char* src;
  };
  for (const Case& c : {Case{"192.0.2.1", "198.51.100.2", 0x11, "192.0.2.1"},
                        Case{"2001:db8::1", "198.51.100.2", 0x21, "2001:db8::1"},
                        Case{"192.0.2.1", "2001:db8::2", 0x21, "::ffff:192.0.2.1"},
                        Case{"::ffff:192.0.2.1", "::ffff:198.51.100.2", 0x11, "192.0.2.1"}}) {
    CAPTURE(c.client, c.local);
    const std::string h = proxyd::proxyProtocolV2(addr(c.client, 51000), addr(c.local, 10443));
    CHECK(static_cast<unsigned char>(h[12]) == 0x21);
    CHECK(static_cast<unsigned char>(h[13]) == c.family);
    auto r = parseProxyProtocol(h + "x", true);
    REQUIRE(r.state == State::done);
    CHECK(r.consumed == h.size());
    REQUIRE(r.header);
    CHECK(r.header->src_addr == c.src);
    CHECK(r.header->src_port == 51000);
    CHECK(r.header->dst_port == 10443);
    // The last TLV is the CRC32C, over the header with its value zeroed.
    REQUIRE(r.header->tlvs.size() == 7);
    CHECK(r.header->tlvs.substr(0, 3) == std::string("\x03\x00\x04", 3));
    std::string zeroed = h;
    zeroed.replace(h.size() - 4, 4, std::string(4, '\0'));
    const std::uint32_t crc = proxyd::crc32c(zeroed);
    CHECK(h.substr(h.size() - 4) ==
          std::string{static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                      static_cast<char>(crc >> 8), static_cast<char>(crc)});
  }
  const std::string local = proxyd::proxyProtocolV2(unixAddr("/tmp/x"), unixAddr("/tmp/y"));
  CHECK(local.size() == 16 + 7);
  CHECK(static_cast<unsigned char>(local[12]) == 0x20);
  CHECK(local[13] == 0);
}
