#include "proxyd/core/client_hello.h"

#include "proxyd/core/client_hello_reader.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

using proxyd::ClientHelloReader;
using proxyd::ClientHelloResult;
using proxyd::parseClientHello;
using State = ClientHelloResult::State;

namespace {

// ClientHellos captured from `openssl s_client` (openssl_*.hex) and made
// from them (synthetic_*.hex, by make_synthetic.py), with what Debian's nginx
// makes of each in expected.tsv (written and checked by
// tests/interop/test_client_hello_nginx.py): the golden values are nginx's.
fs::path caseDir() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "data" / "client_hello";
}

std::string readCase(const std::string& name) {
  std::ifstream in(caseDir() / (name + ".hex"));
  REQUIRE(in);
  std::string hex, line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') hex += line;
  }
  REQUIRE(hex.size() % 2 == 0);
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return bytes;
}

struct Expected {
  std::string name;
  State state;
  std::string protocol, server_name, alpn;  // "-": not found (declined)
  std::string reason;
};

std::vector<Expected> expectedCases() {
  std::ifstream in(caseDir() / "expected.tsv");
  REQUIRE(in);
  std::vector<Expected> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string v; std::getline(fields, v, '\t');) f.push_back(v == "\"\"" ? "" : v);
    REQUIRE(f.size() == 6);
    const State s = f[1] == "done"       ? State::done
                    : f[1] == "declined" ? State::declined
                                         : State::need_more;
    REQUIRE((s != State::need_more || f[1] == "need_more"));
    out.push_back({f[0], s, f[2], f[3], f[4], f[5]});
  }
  REQUIRE(out.size() >= 40);
  return out;
}

const char* stateName(State s) {
  return s == State::done ? "done" : s == State::declined ? "declined" : "need_more";
}

// What nginx would show: the state, then the variables (not found when
// declined: nginx forgets the hello) or the debug reason.
std::string shown(const ClientHelloResult& r) {
  std::string out = stateName(r.state);
  if (r.state == State::declined) return out + " reason=" + r.reason;
  return out + " protocol=" + r.info.protocol + " server_name=" + r.info.server_name +
         " alpn=" + r.info.alpn_protocols;
}

std::string shown(const Expected& e) {
  std::string out = stateName(e.state);
  if (e.state == State::declined) return out + " reason=" + e.reason;
  return out + " protocol=" + e.protocol + " server_name=" + e.server_name + " alpn=" + e.alpn;
}

bool sameResult(const ClientHelloResult& a, const ClientHelloResult& b) {
  return a.state == b.state && a.reason == b.reason && a.info.protocol == b.info.protocol &&
         a.info.server_name == b.info.server_name && a.info.alpn_protocols == b.info.alpn_protocols;
}

// A capture's handshake bytes framed again into records of `size` bytes.
std::string reframe(std::string_view records, std::size_t size) {
  std::string handshake;
  for (std::size_t at = 0; at + 5 <= records.size();) {
    const std::size_t n = std::size_t{static_cast<unsigned char>(records[at + 3])} << 8 |
                          static_cast<unsigned char>(records[at + 4]);
    handshake.append(records.substr(at + 5, n));
    at += 5 + n;
  }
  std::string out;
  for (std::size_t at = 0; at < handshake.size(); at += size) {
    const std::string_view piece = std::string_view(handshake).substr(at, size);
    out += "\x16\x03\x01";
    out += static_cast<char>(piece.size() >> 8);
    out += static_cast<char>(piece.size() & 0xff);
    out.append(piece);
  }
  return out;
}

const char* const kCaptures[] = {
    "openssl_tls13_no_sni",     "openssl_tls13_sni",      "openssl_tls13_sni_alpn",
    "openssl_tls12_sni",        "openssl_tls13_only_sni", "openssl_tls12_no_sni_alpn",
    "openssl_tls13_fragmented",
};

}  // namespace

TEST_CASE("every ClientHello case ends as Debian's nginx ends it", "[client_hello]") {
  for (const Expected& e : expectedCases()) {
    INFO(e.name);
    const ClientHelloResult r = parseClientHello(readCase(e.name));
    CHECK(shown(r) == shown(e));
    if (r.state != State::declined) CHECK(r.reason.empty());
  }
}

TEST_CASE("the real hellos give nginx's variables", "[client_hello]") {
  // Spot checks of what the table above holds, so that a broken table
  // reader cannot make every case pass.
  auto r = parseClientHello(readCase("openssl_tls13_sni_alpn"));
  CHECK(r.state == State::done);
  CHECK(r.info.protocol == "TLSv1.3");
  CHECK(r.info.server_name == "api.example.com");
  CHECK(r.info.alpn_protocols == "h2,http/1.1");
  r = parseClientHello(readCase("openssl_tls12_sni"));
  CHECK(r.info.protocol == "TLSv1.2");
  CHECK(r.info.alpn_protocols.empty());
  r = parseClientHello(readCase("openssl_tls13_no_sni"));
  CHECK(r.state == State::done);
  CHECK(r.info.server_name.empty());
  r = parseClientHello(readCase("synthetic_http_get"));
  CHECK(r.state == State::declined);
  CHECK(r.reason == "ssl preread: not a handshake");
}

TEST_CASE("a hello arriving a byte at a time is answered with its last byte", "[client_hello]") {
  // The session calls again with everything read so far, after every
  // segment: the smallest segments are single bytes.
  for (const char* name : kCaptures) {
    INFO(name);
    const std::string hello = readCase(name);
    const ClientHelloResult whole = parseClientHello(hello);
    REQUIRE(whole.state == State::done);
    for (std::size_t n = 0; n < hello.size(); ++n) {
      INFO(n);
      const ClientHelloResult part = parseClientHello(std::string_view(hello).substr(0, n));
      REQUIRE(part.state == State::need_more);
    }
  }
}

TEST_CASE("once answered, more bytes do not change the answer", "[client_hello]") {
  // Every case, every prefix: need_more until the answer, then that answer
  // for every longer prefix (what nginx decided, it does not revisit).
  for (const Expected& e : expectedCases()) {
    INFO(e.name);
    const std::string data = readCase(e.name);
    const ClientHelloResult whole = parseClientHello(data);
    bool answered = false;
    for (std::size_t n = 0; n <= data.size(); ++n) {
      INFO(n);
      const ClientHelloResult part = parseClientHello(std::string_view(data).substr(0, n));
      if (answered) {
        REQUIRE(sameResult(part, whole));
      } else if (part.state != State::need_more) {
        answered = true;
        REQUIRE(sameResult(part, whole));
      }
    }
    CHECK(answered == (e.state != State::need_more));
  }
}

TEST_CASE("a hello in records of any size reads the same", "[client_hello]") {
  // A field may straddle records (nginx's parser keeps its place across them).
  for (const char* name : kCaptures) {
    INFO(name);
    const std::string hello = readCase(name);
    const ClientHelloResult whole = parseClientHello(hello);
    for (std::size_t size = 1; size <= 64; ++size) {
      INFO(size);
      CHECK(sameResult(parseClientHello(reframe(hello, size)), whole));
    }
  }
}

TEST_CASE("a hello cut inside a record shows what earlier records gave", "[client_hello]") {
  // nginx parses whole records only: with the preread ended early (timeout,
  // EOF), the variables hold what the complete records said.
  const std::string two = readCase("openssl_tls13_fragmented");
  const std::size_t first = 5 + (std::size_t{static_cast<unsigned char>(two[3])} << 8 |
                                 static_cast<unsigned char>(two[4]));
  const auto one_record = parseClientHello(std::string_view(two).substr(0, first));
  CHECK(one_record.state == State::need_more);
  CHECK(one_record.info.server_name == "ingress.example.com");
  for (std::size_t n = first; n < two.size(); ++n) {
    INFO(n);
    REQUIRE(sameResult(parseClientHello(std::string_view(two).substr(0, n)), one_record));
  }
}

TEST_CASE("garbage, text and bogus lengths are declined or wait, never read past the input",
          "[client_hello]") {
  CHECK(parseClientHello("").state == State::need_more);
  CHECK(parseClientHello("\x16\x03\x01\x00").state == State::need_more);
  CHECK(parseClientHello("SSH-2.0-OpenSSH_9.2\r\n").reason == "ssl preread: not a handshake");
  CHECK(parseClientHello(std::string("\x16\x04\x00\x00\x00", 5)).reason ==
        "ssl preread: unsupported SSL version");
  // A record announcing 64k with little behind it waits (the session's
  // preread_buffer_size ends that wait with "preread buffer full").
  CHECK(parseClientHello(std::string("\x16\x03\x01\xff\xff\x01\x00", 7)).state == State::need_more);
  // Empty records are no hello, but no error either.
  CHECK(parseClientHello(std::string("\x16\x03\x01\x00\x00", 5)).state == State::need_more);

  // Every byte of a real hello replaced by every interesting value: never a
  // crash (the ASan run and the fuzz target check the reads), and the
  // strings never longer than the input.
  const std::string hello = readCase("openssl_tls13_sni_alpn");
  for (std::size_t i = 0; i < hello.size(); ++i) {
    for (const unsigned char v : {0x00, 0x01, 0x02, 0x03, 0x10, 0x2b, 0x7f, 0x80, 0xfe, 0xff}) {
      std::string bad = hello;
      bad[i] = static_cast<char>(v);
      const auto r = parseClientHello(bad);
      REQUIRE(r.info.server_name.size() + r.info.alpn_protocols.size() <= bad.size());
      if (r.state == State::declined) REQUIRE(r.reason.rfind("ssl preread: ", 0) == 0);
    }
  }
}

TEST_CASE("the reader that keeps its place answers as parsing from the start", "[client_hello]") {
  // The session's way: one reader per connection, fed everything so far
  // after each read, in segments of every size from 1 to 7 bytes.
  for (const Expected& e : expectedCases()) {
    INFO(e.name);
    const std::string data = readCase(e.name);
    for (std::size_t segment = 1; segment <= 7; ++segment) {
      INFO(segment);
      ClientHelloReader reader;
      for (std::size_t n = 0;; n = std::min(n + segment, data.size())) {
        INFO(n);
        const std::string_view so_far = std::string_view(data).substr(0, n);
        const State state = reader.read(so_far);
        const ClientHelloResult once = parseClientHello(so_far);
        REQUIRE(state == once.state);
        REQUIRE(sameResult(reader.result(), once));
        if (n == data.size()) break;
      }
      reader.read(data);
      CHECK(shown(reader.result()) == shown(e));
    }
  }
}

TEST_CASE("the reader given less than before reads nothing past it", "[client_hello]") {
  // A caller that breaks the contract (data shorter than the last call's)
  // gets the answer so far, not a read past the end (ASan would see it).
  const std::string hello = readCase("openssl_tls13_fragmented");
  ClientHelloReader reader;
  CHECK(reader.read(std::string_view(hello).substr(0, 600)) == State::need_more);
  CHECK(reader.read(std::string_view(hello).substr(0, 3)) == State::need_more);
  CHECK(reader.result().info.server_name == "ingress.example.com");
  CHECK(reader.read(hello) == State::done);
}
