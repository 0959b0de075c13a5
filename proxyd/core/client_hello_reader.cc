// ssl_preread's ClientHello reader, matching nginx's
// ngx_stream_ssl_preread_module.c decision for decision, as Debian's nginx
// runs it: 1.22.1-9+deb12u11 carries upstream 1.30.7's fix "validate
// ClientHello extensions" (CVE-2026-123640), so the extensions block must
// fill the hello exactly, an SNI, ALPN or supported_versions extension must
// be as long as its own list says, and a second SNI or ALPN extension is
// refused. Kept from before: any supported_versions extension means TLSv1.3
// whatever it lists; an SNI list's names after the first are skipped; a
// field may straddle records; bytes after the hello message are ignored.
// Nothing is allocated beyond the strings of the result, each made of
// input bytes.
#include "proxyd/core/client_hello_reader.h"

#include <algorithm>

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

}  // namespace

ClientHelloResult::State ClientHelloReader::read(std::string_view data) {
  if (state_ == ClientHelloResult::State::need_more) {
    switch (readRecords(data)) {
      case Step::done:
        state_ = ClientHelloResult::State::done;
        break;
      case Step::declined:
        state_ = ClientHelloResult::State::declined;
        break;
      case Step::more:
        break;
    }
  }
  return state_;
}

// nginx's ngx_stream_ssl_preread_handler: complete records one after the
// other; a record not read whole yet (or a header not 5 bytes yet) waits.
ClientHelloReader::Step ClientHelloReader::readRecords(std::string_view data) {
  // (Written so that data shorter than promised cannot wrap the arithmetic.)
  while (data.size() >= next_record_ + kRecordHeaderSize) {
    const auto* h = reinterpret_cast<const std::uint8_t*>(data.data() + next_record_);
    // An SSLv2 record header (length with the top bit set) around a
    // CLIENT-HELLO of version 2 or 3.x: nginx takes the version and stops,
    // at any record boundary, keeping what earlier records gave.
    if ((h[0] & 0x80) != 0 && h[2] == kClientHelloMessage && (h[3] == 0 || h[3] == 3)) {
      version_ = {h[3], h[4]};
      return Step::done;
    }
    if (h[0] != kHandshakeRecord) return decline("ssl preread: not a handshake");
    // Any 3.x record version: clients announce 3.1 in the first record and
    // their real version inside the hello.
    if (h[1] != 3) return decline("ssl preread: unsupported SSL version");
    const std::size_t length = std::size_t{h[3]} << 8 | h[4];
    if (data.size() - next_record_ - kRecordHeaderSize < length) break;
    const Step s = readRecord(data.substr(next_record_ + kRecordHeaderSize, length));
    if (s != Step::more) return s;
    next_record_ += kRecordHeaderSize + length;
  }
  return Step::more;
}

ClientHelloReader::Step ClientHelloReader::readRecord(std::string_view payload) {
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

void ClientHelloReader::keep(std::string_view bytes) {
  switch (sink_) {
    case Sink::skip:
      return;
    // A length field (at most 4 bytes, as scratch_), or the version: a
    // byte loop, cheaper than memcpy for so few.
    case Sink::scratch:
      for (const char c : bytes) scratch_[filled_++] = static_cast<std::uint8_t>(c);
      return;
    case Sink::version:
      for (const char c : bytes) version_[filled_++] = static_cast<std::uint8_t>(c);
      return;
    case Sink::host:
      host_.append(bytes);
      return;
    case Sink::alpn:
      alpn_.append(bytes);
      return;
  }
}

ClientHelloReader::Step ClientHelloReader::fieldDone() {
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

// What nginx's variables show at this point: the SNI name only once read
// whole, the ALPN names read whole (with the comma after the last one, if
// another is announced), the version bytes as far as they came. (Declined,
// nginx forgets them: its variables are not found.)
ClientHelloResult ClientHelloReader::result() const {
  ClientHelloResult r;
  r.state = state_;
  if (state_ == ClientHelloResult::State::declined) r.reason = reason_;
  r.info.protocol = protocolName(version_[0], version_[1]);
  if (sni_complete_) r.info.server_name = host_;
  r.info.alpn_protocols.assign(alpn_, 0, alpn_shown_);
  return r;
}

}  // namespace proxyd
