// ssl_preread's ClientHello reader that keeps its place between reads, as
// nginx's module context does: the session feeds it everything read so far
// after each read, and it parses only the records that completed since.
// (parseClientHello, which starts from scratch each time, costs a client
// that sends its hello a byte per segment a time quadratic in the preread
// buffer; nginx's cost is linear, and so is this.)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxyd/core/client_hello.h"

namespace proxyd {

class ClientHelloReader {
 public:
  // `data`: every byte read from the connection so far, so each call's
  // data starts with the previous call's. Once done or declined, it stays so.
  ClientHelloResult::State read(std::string_view data);

  // The answer (done, declined), or what nginx's variables hold if the
  // preread ends now (need_more: timeout, EOF, full buffer). Apart from
  // read(), so that a call per segment copies no strings.
  ClientHelloResult result() const;

 private:
  enum class Step { more, done, declined };
  enum class Field : std::uint8_t {
    handshake_header,  // msg_type, length
    client_version,
    random,
    session_id_length,
    session_id,
    cipher_suites_length,
    cipher_suites,
    compression_methods_length,
    compression_methods,
    extensions_length,
    before_extension,  // the rest of the previous extension
    extension_header,  // extension_type, extension_data length
    sni_list_length,
    sni_name_head,  // name_type, host_name length
    sni_name,
    alpn_list_length,
    alpn_name_length,
    alpn_name,
    supported_versions_length,
  };
  // Where the bytes of the field being read go.
  enum class Sink : std::uint8_t { skip, scratch, version, host, alpn };

  Step readRecords(std::string_view data);
  Step readRecord(std::string_view payload);
  Step fieldDone();
  void keep(std::string_view bytes);
  void expect(Field f, Sink s, std::size_t size) {
    field_ = f;
    sink_ = s;
    want_ = size;
    filled_ = 0;
  }
  Step decline(const char* why) {
    reason_ = why;
    return Step::declined;
  }
  std::uint16_t scratch16(std::size_t at) const {
    return static_cast<std::uint16_t>(scratch_[at] << 8 | scratch_[at + 1]);
  }

  std::size_t next_record_ = 0;  // where the next record header starts in the data
  ClientHelloResult::State state_ = ClientHelloResult::State::need_more;
  Field field_ = Field::handshake_header;
  Sink sink_ = Sink::scratch;
  std::size_t want_ = 4;            // bytes of the current field still to come
  std::size_t message_left_ = 4;    // of the handshake message (its header until that is read)
  std::size_t extension_size_ = 0;  // extension_data length of the extension being read
  std::size_t list_left_ = 0;       // of the SNI or ALPN list being read
  std::size_t filled_ = 0;          // bytes of the current field kept in scratch_ or version_
  std::array<std::uint8_t, 4> scratch_{};
  std::array<std::uint8_t, 2> version_{};  // client_version, until supported_versions says 1.3
  bool sni_seen_ = false;                  // a second SNI or ALPN extension is refused
  bool sni_complete_ = false;
  bool alpn_seen_ = false;
  std::string host_;
  std::string alpn_;  // the names read, joined by ","; the last may still be partial
  std::size_t alpn_shown_ = 0;
  const char* reason_ = "";
};

}  // namespace proxyd
