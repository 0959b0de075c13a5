// ssl_preread's ClientHello reader, matching nginx's
// ngx_stream_ssl_preread_module.c decision for decision, as Debian's nginx
// runs it: 1.22.1-9+deb12u11 carries upstream 1.30.7's fix "validate
// ClientHello extensions" (CVE-2026-123640), so the extensions block must
// fill the hello exactly, an SNI, ALPN or supported_versions extension must
// be as long as its own list says, and a second SNI or ALPN extension is
// refused. Kept from before: any supported_versions extension means TLSv1.3
// whatever it lists; an SNI list's names after the first are skipped; a
// field may straddle records; bytes after the hello message are ignored.
//
// The caller hands over every byte read so far, so nothing is kept between
// calls: the records are read again from the start, which gives the same
// answer as nginx's resumable context because nginx, too, only ever parses
// complete records, in order. A preread buffer holds at most 64k, so the
// rereading stays cheap, and nothing is allocated beyond the strings that
// end up in the result (each bounded by the input).
#include "proxyd/core/client_hello.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace proxyd {

namespace {

constexpr std::size_t kRecordHeaderSize = 5;
constexpr std::uint8_t kHandshakeRecord = 0x16;
constexpr std::uint8_t kClientHelloMessage = 1;
constexpr std::uint16_t kServerNameExtension = 0;
constexpr std::uint16_t kAlpnExtension = 16;
constexpr std::uint16_t kSupportedVersionsExtension = 43;
constexpr std::uint8_t kSniHostName = 0;

// $ssl_preread_protocol: SSL_get_version()'s names, "" for anything else.
std::string_view protocolName(std::uint8_t major, std::uint8_t minor) {
  if (major == 0 && minor == 2) return "SSLv2";
  if (major != 3) return "";
  switch (minor) {
    case 0:
      return "SSLv3";
    case 1:
      return "TLSv1";
    case 2:
      return "TLSv1.1";
    case 3:
      return "TLSv1.2";
    case 4:
      return "TLSv1.3";
    default:
      return "";
  }
}

// The ClientHello message, read field by field from the payloads of
// successive handshake records.
class HelloReader {
 public:
  enum class Step { more, done, declined };

  // One complete record's payload: more when it is used up before the hello ends.
  Step read(std::string_view payload);

  // An SSLv2-style hello: its version is all nginx takes from it.
  void setVersion(std::uint8_t major, std::uint8_t minor) { version_ = {major, minor}; }

  // Gives up, with nginx's debug message.
  Step decline(const char* why) {
    reason_ = why;
    return Step::declined;
  }
  const char* reason() const { return reason_; }

  // What nginx's variables show at this point: the SNI name only once read
  // whole, the ALPN names read whole (with the comma after the last one, if
  // another is announced), the version bytes as far as they came.
  PrereadInfo info() && {
    PrereadInfo out;
    out.protocol = protocolName(version_[0], version_[1]);
    if (sni_complete_) out.server_name = std::move(host_);
    alpn_.resize(alpn_shown_);
    out.alpn_protocols = std::move(alpn_);
    return out;
  }

 private:
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

  void expect(Field f, Sink s, std::size_t size) {
    field_ = f;
    sink_ = s;
    want_ = size;
    filled_ = 0;
  }
  void keep(std::string_view bytes);
  Step fieldDone();
  std::uint16_t scratch16(std::size_t at) const {
    return static_cast<std::uint16_t>(scratch_[at] << 8 | scratch_[at + 1]);
  }

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

HelloReader::Step HelloReader::read(std::string_view payload) {
  for (;;) {
    const std::size_t n = std::min(payload.size(), want_);
    keep(payload.substr(0, n));
    payload.remove_prefix(n);
    want_ -= n;
    message_left_ -= n;
    if (want_ != 0) return Step::more;
    // A field without bytes (an empty session id, say) is done at once,
    // even at the end of a record, as in nginx.
    if (Step s = fieldDone(); s != Step::more) return s;
    // Every field must fit in what the message header announced.
    if (message_left_ < want_) return decline("ssl preread: failed to parse handshake");
  }
}

void HelloReader::keep(std::string_view bytes) {
  switch (sink_) {
    case Sink::skip:
      return;
    case Sink::scratch:  // a length field: never more than scratch_ holds
      std::memcpy(scratch_.data() + filled_, bytes.data(), bytes.size());
      filled_ += bytes.size();
      return;
    case Sink::version:
      std::memcpy(version_.data() + filled_, bytes.data(), bytes.size());
      filled_ += bytes.size();
      return;
    case Sink::host:
      host_.append(bytes);
      return;
    case Sink::alpn:
      alpn_.append(bytes);
      return;
  }
}

HelloReader::Step HelloReader::fieldDone() {
  switch (field_) {
    case Field::handshake_header:
      if (scratch_[0] != kClientHelloMessage) return decline("ssl preread: not a client hello");
      message_left_ = std::size_t{scratch_[1]} << 16 | std::size_t{scratch_[2]} << 8 | scratch_[3];
      expect(Field::client_version, Sink::version, 2);
      break;
    case Field::client_version:
      expect(Field::random, Sink::skip, 32);
      break;
    case Field::random:
      expect(Field::session_id_length, Sink::scratch, 1);
      break;
    case Field::session_id_length:
      expect(Field::session_id, Sink::skip, scratch_[0]);
      break;
    case Field::session_id:
      expect(Field::cipher_suites_length, Sink::scratch, 2);
      break;
    case Field::cipher_suites_length:
      expect(Field::cipher_suites, Sink::skip, scratch16(0));
      break;
    case Field::cipher_suites:
      expect(Field::compression_methods_length, Sink::scratch, 1);
      break;
    case Field::compression_methods_length:
      expect(Field::compression_methods, Sink::skip, scratch_[0]);
      break;
    case Field::compression_methods:
      if (message_left_ == 0) return Step::done;  // a hello without extensions
      expect(Field::extensions_length, Sink::scratch, 2);
      break;
    case Field::extensions_length:
      if (scratch16(0) != message_left_) return decline("ssl preread: extensions length error");
      [[fallthrough]];
    case Field::before_extension:
      if (message_left_ == 0) return Step::done;  // after the last extension
      expect(Field::extension_header, Sink::scratch, 4);
      break;
    case Field::extension_header: {
      const std::uint16_t type = scratch16(0);
      extension_size_ = scratch16(2);
      if (type == kServerNameExtension) {
        if (sni_seen_) return decline("ssl preread: duplicate SNI");
        expect(Field::sni_list_length, Sink::scratch, 2);
      } else if (type == kAlpnExtension) {
        if (alpn_seen_) return decline("ssl preread: duplicate ALPN");
        expect(Field::alpn_list_length, Sink::scratch, 2);
      } else if (type == kSupportedVersionsExtension) {
        expect(Field::supported_versions_length, Sink::scratch, 1);
      } else {
        expect(Field::before_extension, Sink::skip, extension_size_);
      }
      break;
    }
    case Field::sni_list_length:
      // At least one entry (type and length), and the list fills the extension.
      list_left_ = scratch16(0);
      if (extension_size_ < 2 + 3 || list_left_ + 2 != extension_size_) {
        return decline("ssl preread: SNI format error");
      }
      expect(Field::sni_name_head, Sink::scratch, 3);
      break;
    case Field::sni_name_head: {
      if (scratch_[0] != kSniHostName) return decline("ssl preread: SNI hostname type is not DNS");
      const std::size_t size = scratch16(1);
      if (list_left_ < 3 + size) return decline("ssl preread: SNI format error");
      list_left_ -= 3 + size;
      sni_seen_ = true;
      expect(Field::sni_name, Sink::host, size);
      break;
    }
    case Field::sni_name:
      // The rest of the list (further names) is skipped by the list's own length.
      sni_complete_ = true;
      expect(Field::before_extension, Sink::skip, list_left_);
      break;
    case Field::alpn_list_length:
      // At least one name of one byte, and the list fills the extension.
      list_left_ = scratch16(0);
      if (extension_size_ < 2 + 2 || list_left_ + 2 != extension_size_) {
        return decline("ssl preread: ALPN format error");
      }
      alpn_seen_ = true;
      expect(Field::alpn_name_length, Sink::scratch, 1);
      break;
    case Field::alpn_name_length: {
      const std::size_t size = scratch_[0];
      if (size == 0) return decline("ssl preread: ALPN empty protocol");
      if (list_left_ < 1 + size) return decline("ssl preread: ALPN format error");
      list_left_ -= 1 + size;
      expect(Field::alpn_name, Sink::alpn, size);
      break;
    }
    case Field::alpn_name:
      alpn_shown_ = alpn_.size();
      if (list_left_ == 0) {
        expect(Field::before_extension, Sink::skip, 0);
        break;
      }
      alpn_ += ',';
      alpn_shown_ = alpn_.size();
      expect(Field::alpn_name_length, Sink::scratch, 1);
      break;
    case Field::supported_versions_length:
      if (extension_size_ < 3 || std::size_t{scratch_[0]} + 1 != extension_size_) {
        return decline("ssl preread: supported_versions format error");
      }
      // nginx does not look at the versions listed: the extension means 1.3.
      version_ = {3, 4};
      expect(Field::before_extension, Sink::skip, scratch_[0]);
      break;
  }
  return Step::more;
}

ClientHelloResult finish(ClientHelloResult::State state, HelloReader&& reader) {
  ClientHelloResult r;
  r.state = state;
  if (state == ClientHelloResult::State::declined) r.reason = reader.reason();
  r.info = std::move(reader).info();
  return r;
}

}  // namespace

// nginx's ngx_stream_ssl_preread_handler: complete records one after the
// other; a record not read whole yet (or a header not 5 bytes yet) waits.
ClientHelloResult parseClientHello(std::string_view data) {
  using State = ClientHelloResult::State;
  HelloReader reader;
  std::size_t at = 0;
  while (data.size() - at >= kRecordHeaderSize) {
    const auto* h = reinterpret_cast<const std::uint8_t*>(data.data() + at);
    // An SSLv2 record header (length with the top bit set) around a
    // CLIENT-HELLO of version 2 or 3.x: nginx takes the version and stops,
    // at any record boundary, keeping what earlier records gave.
    if ((h[0] & 0x80) != 0 && h[2] == kClientHelloMessage && (h[3] == 0 || h[3] == 3)) {
      reader.setVersion(h[3], h[4]);
      return finish(State::done, std::move(reader));
    }
    if (h[0] != kHandshakeRecord) {
      reader.decline("ssl preread: not a handshake");
      return finish(State::declined, std::move(reader));
    }
    // Any 3.x record version: clients announce 3.1 in the first record and
    // their real version inside the hello.
    if (h[1] != 3) {
      reader.decline("ssl preread: unsupported SSL version");
      return finish(State::declined, std::move(reader));
    }
    const std::size_t length = std::size_t{h[3]} << 8 | h[4];
    if (data.size() - at - kRecordHeaderSize < length) break;
    at += kRecordHeaderSize;
    switch (reader.read(data.substr(at, length))) {
      case HelloReader::Step::done:
        return finish(State::done, std::move(reader));
      case HelloReader::Step::declined:
        return finish(State::declined, std::move(reader));
      case HelloReader::Step::more:
        break;
    }
    at += length;
  }
  return finish(State::need_more, std::move(reader));
}

}  // namespace proxyd
