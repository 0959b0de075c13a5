#include "proxyd/io/tls_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "proxyd/io/tls_stream.h"

namespace proxyd {

namespace {

using common::SslCtxPtr;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

template <class T>
using R = common::Result<T>;

std::string failure(const std::string& where, const std::string& what) {
  return fmt::format("{}: error: {}{}", where, what, takeOpenSslErrors());
}

// ssl_password_file: one password a line, each tried in turn.
R<std::vector<std::string>> readPasswords(const std::string& path, const std::string& where) {
  std::vector<std::string> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  if (!in)
    return R<std::vector<std::string>>::fail(
        fmt::format("{}: error: cannot open \"{}\" (ssl_password_file)", where, path));
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    out.push_back(line);
  }
  if (out.empty()) {
    return R<std::vector<std::string>>::fail(
        fmt::format("{}: error: empty file \"{}\" (ssl_password_file)", where, path));
  }
  return out;
}

// The key in `path`, decrypted with the first password that works (none
// for a plain key).
PkeyPtr loadKey(const std::string& path, const std::vector<std::string>& passwords) {
  std::vector<const char*> tries;
  for (const std::string& p : passwords) tries.push_back(p.c_str());
  if (tries.empty()) tries.push_back("");
  for (const char* pass : tries) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) return nullptr;
    ERR_clear_error();
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(pass)));
    if (key) return key;
  }
  return nullptr;
}

// One certificate chain and its key into the context (each key type has
// its own slot: RSA and ECDSA side by side).
R<void> useCertificate(SSL_CTX* ctx, const std::string& cert, const std::string& key,
                       const std::vector<std::string>& passwords, const std::string& where) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    return R<void>::fail(failure(
        where,
        fmt::format("cannot load certificate \"{}\": PEM_read_bio_X509_AUX() failed", cert)));
  }
  PkeyPtr pkey = loadKey(key, passwords);
  if (!pkey) {
    return R<void>::fail(failure(
        where,
        fmt::format("cannot load certificate key \"{}\": PEM_read_bio_PrivateKey() failed", key)));
  }
  if (SSL_CTX_use_PrivateKey(ctx, pkey.get()) != 1) {
    return R<void>::fail(failure(where, fmt::format("SSL_CTX_use_PrivateKey(\"{}\") failed", key)));
  }
  return {};
}

// ssl_protocols: what is not listed is switched off, as nginx does.
void setProtocols(SSL_CTX* ctx, unsigned protocols) {
  SSL_CTX_clear_options(ctx, SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
                                 SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3);
  std::uint64_t off = SSL_OP_NO_SSLv2;
  if (!(protocols & kSslv3)) off |= SSL_OP_NO_SSLv3;
  if (!(protocols & kTlsv1)) off |= SSL_OP_NO_TLSv1;
  if (!(protocols & kTlsv1_1)) off |= SSL_OP_NO_TLSv1_1;
  if (!(protocols & kTlsv1_2)) off |= SSL_OP_NO_TLSv1_2;
  if (!(protocols & kTlsv1_3)) off |= SSL_OP_NO_TLSv1_3;
  SSL_CTX_set_options(ctx, off);
  // Below TLS 1.2 OpenSSL 3 also wants the security level lowered; nginx
  // leaves that to ssl_ciphers ("...@SECLEVEL=0") as well.
  SSL_CTX_set_min_proto_version(ctx, 0);
}

// What both directions set alike: the modes a relay needs, ciphers,
// protocols, CRL and SSL_CONF commands.
R<void> configureCommon(SSL_CTX* ctx, unsigned protocols, const std::string& ciphers,
                        const std::string& crl, const std::string& where) {
  // A write retried after EAGAIN comes from the relay's held buffer, not the
  // scratch one it was first tried from.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
  setProtocols(ctx, protocols);
  if (SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    return R<void>::fail(
        failure(where, fmt::format("SSL_CTX_set_cipher_list(\"{}\") failed", ciphers)));
  }
  if (!crl.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    if (lookup == nullptr || X509_load_crl_file(lookup, crl.c_str(), X509_FILETYPE_PEM) <= 0) {
      return R<void>::fail(
          failure(where, fmt::format("X509_LOOKUP_load_file(\"{}\") failed", crl)));
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  }
  return {};
}

// ssl_conf_command: applied last, as nginx does, so it may override the rest.
R<void> applyConfCommands(SSL_CTX* ctx, const std::vector<TlsConfCommand>& commands,
                          const std::string& where) {
  if (commands.empty()) return {};
  std::unique_ptr<SSL_CONF_CTX, void (*)(SSL_CONF_CTX*)> cctx(SSL_CONF_CTX_new(),
                                                              SSL_CONF_CTX_free);
  SSL_CONF_CTX_set_flags(cctx.get(), SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_SERVER |
                                         SSL_CONF_FLAG_CLIENT | SSL_CONF_FLAG_CERTIFICATE |
                                         SSL_CONF_FLAG_SHOW_ERRORS);
  SSL_CONF_CTX_set_ssl_ctx(cctx.get(), ctx);
  for (const TlsConfCommand& c : commands) {
    if (SSL_CONF_cmd(cctx.get(), c.name.c_str(), c.value.c_str()) <= 0) {
      return R<void>::fail(
          failure(where, fmt::format("SSL_CONF_cmd(\"{}\", \"{}\") failed", c.name, c.value)));
    }
  }
  if (SSL_CONF_CTX_finish(cctx.get()) != 1) {
    return R<void>::fail(failure(where, "SSL_CONF_finish() failed"));
  }
  return {};
}

R<void> loadDhparam(SSL_CTX* ctx, const std::string& path, const std::string& where) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  PkeyPtr dh(bio ? PEM_read_bio_Parameters(bio.get(), nullptr) : nullptr);
  if (!dh) {
    return R<void>::fail(
        failure(where, fmt::format("PEM_read_bio_Parameters(\"{}\") failed", path)));
  }
  if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh.get()) != 1) {
    return R<void>::fail(failure(where, "SSL_CTX_set0_tmp_dh_pkey() failed"));
  }
  (void)dh.release();  // the context owns it now
  return {};
}

// ssl_verify_client and its CA files.
R<void> configureVerify(SSL_CTX* ctx, const TlsServerSettings& s, const std::string& where) {
  for (const std::string* file : {&s.client_certificate, &s.trusted_certificate}) {
    if (file->empty()) continue;
    if (SSL_CTX_load_verify_locations(ctx, file->c_str(), nullptr) != 1) {
      return R<void>::fail(
          failure(where, fmt::format("SSL_CTX_load_verify_locations(\"{}\") failed", *file)));
    }
  }
  if (!s.client_certificate.empty()) {
    // The names sent in the CertificateRequest: only ssl_client_certificate's.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.client_certificate.c_str());
    if (names == nullptr) {
      return R<void>::fail(failure(
          where, fmt::format("SSL_load_client_CA_file(\"{}\") failed", s.client_certificate)));
    }
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  if (s.verify_client == VerifyClient::off) return {};
  // As nginx: the verification result is judged after the handshake
  // (checkClientCertificate), so the callback accepts everything.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  SSL_CTX_set_verify_depth(ctx, s.verify_depth);
  return {};
}

// ssl_session_ticket_key: nginx's 48- or 80-byte files; the first encrypts,
// all decrypt.
struct TicketKey {
  unsigned char name[16];
  unsigned char hmac[32];
  unsigned char aes[32];
  std::size_t hmac_len;
  const EVP_CIPHER* cipher;
};

R<std::vector<TicketKey>> readTicketKeys(const std::vector<std::string>& files,
                                         const std::string& where) {
  std::vector<TicketKey> keys;
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      return R<std::vector<TicketKey>>::fail(
          fmt::format("{}: error: cannot read \"{}\"", where, f));
    }
    TicketKey k{};
    const auto* p = reinterpret_cast<const unsigned char*>(buf.data());
    if (buf.size() == 48) {
      std::memcpy(k.name, p, 16);
      std::memcpy(k.aes, p + 16, 16);
      std::memcpy(k.hmac, p + 32, 16);
      k.hmac_len = 16;
      k.cipher = EVP_aes_128_cbc();
    } else if (buf.size() == 80) {
      std::memcpy(k.name, p, 16);
      std::memcpy(k.hmac, p + 16, 32);
      std::memcpy(k.aes, p + 48, 32);
      k.hmac_len = 32;
      k.cipher = EVP_aes_256_cbc();
    } else {
      return R<std::vector<TicketKey>>::fail(
          fmt::format("{}: error: \"{}\" must be 48 or 80 bytes", where, f));
    }
    keys.push_back(k);
  }
  return keys;
}

}  // namespace

// The parts of a server context its callbacks read: held by the
// TlsServerContext, whose address the callbacks get.
struct TlsServerExtra {
  std::string alpn_wire;  // ssl_alpn in ALPN's length-prefixed form
  std::vector<TicketKey> ticket_keys;
  std::vector<std::string> passwords;
  TlsServerSettings settings;
};

namespace {

int extraIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

const TlsServerExtra* extraOf(SSL* ssl) {
  return static_cast<const TlsServerExtra*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), extraIndex()));
}

// ngx_stream_ssl_alpn_select: no protocol in common is a fatal alert.
int selectAlpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  const TlsServerExtra* x = extraOf(ssl);
  const auto* wire = reinterpret_cast<const unsigned char*>(x->alpn_wire.data());
  if (SSL_select_next_proto(const_cast<unsigned char**>(out), outlen, wire,
                            static_cast<unsigned>(x->alpn_wire.size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  return SSL_TLSEXT_ERR_OK;
}

int ticketKey(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* ectx,
              EVP_MAC_CTX* hctx, int enc) {
  const auto& keys = extraOf(ssl)->ticket_keys;
  auto macParams = [](const TicketKey& k) {
    std::array<OSSL_PARAM, 3> p{};
    p[0] = OSSL_PARAM_construct_octet_string("key", const_cast<unsigned char*>(k.hmac), k.hmac_len);
    p[1] = OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>("SHA256"), 0);
    p[2] = OSSL_PARAM_construct_end();
    return p;
  };
  if (enc == 1) {
    const TicketKey& k = keys.front();
    std::memcpy(name, k.name, 16);
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(k.cipher)) != 1) return -1;
    if (EVP_EncryptInit_ex(ectx, k.cipher, nullptr, k.aes, iv) != 1) return -1;
    auto params = macParams(k);
    return EVP_MAC_CTX_set_params(hctx, params.data()) == 1 ? 1 : -1;
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const TicketKey& k = keys[i];
    if (std::memcmp(name, k.name, 16) != 0) continue;
    auto params = macParams(k);
    if (EVP_MAC_CTX_set_params(hctx, params.data()) != 1) return -1;
    if (EVP_DecryptInit_ex(ectx, k.cipher, nullptr, k.aes, iv) != 1) return -1;
    return i == 0 ? 1 : 2;  // 2: renew with the current key
  }
  return 0;  // unknown key: a full handshake
}

// A certificate name with variables, for this handshake: nginx evaluates
// them per connection; the SNI is what they can depend on before the
// session has any other TLS state.
std::string expandCertificateName(const std::string& name, SSL* ssl) {
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    std::string_view rest(name.data() + i, name.size() - i);
    for (std::string_view var : {"${ssl_server_name}", "$ssl_server_name"}) {
      if (rest.starts_with(var)) {
        out += sni != nullptr ? sni : "";
        i += var.size();
        goto next;
      }
    }
    out += name[i++];
  next:;
  }
  return out;
}

// SSL_CTX_set_cert_cb: the certificates with variables, loaded per
// handshake (nginx's ngx_ssl_certificate with variables).
int loadCertificatesNow(SSL* ssl, void*) {
  const TlsServerExtra* x = extraOf(ssl);
  const TlsServerSettings& s = x->settings;
  for (std::size_t i = 0; i < s.certificates.size(); ++i) {
    if (s.certificates[i].find('$') == std::string::npos) continue;
    std::string cert = expandCertificateName(s.certificates[i], ssl);
    std::string key = expandCertificateName(s.certificate_keys[i], ssl);
    if (SSL_use_certificate_chain_file(ssl, cert.c_str()) != 1) return 0;
    PkeyPtr pkey = loadKey(key, x->passwords);
    if (!pkey || SSL_use_PrivateKey(ssl, pkey.get()) != 1) return 0;
  }
  return 1;
}

// ssl_reject_handshake: the handshake ends with an unrecognized_name alert.
int rejectHandshake(SSL*, int* alert, void*) {
  *alert = SSL_AD_UNRECOGNIZED_NAME;
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

R<void> configureCertificates(SSL_CTX* ctx, const TlsServerSettings& s, TlsServerExtra& extra,
                              const std::string& where) {
  bool dynamic = false;
  for (std::size_t i = 0; i < s.certificates.size(); ++i) {
    if (s.certificates[i].find('$') != std::string::npos ||
        s.certificate_keys[i].find('$') != std::string::npos) {
      dynamic = true;
      continue;
    }
    if (auto r =
            useCertificate(ctx, s.certificates[i], s.certificate_keys[i], extra.passwords, where);
        !r) {
      return r;
    }
  }
  if (dynamic) SSL_CTX_set_cert_cb(ctx, loadCertificatesNow, nullptr);
  return {};
}

R<void> configureSessions(SSL_CTX* ctx, const TlsServerSettings& s, TlsServerExtra& extra,
                          const std::string& where) {
  // The same id context in every [server]'s context, as nginx's: sessions
  // with a client certificate may be resumed.
  static const unsigned char kIdContext[] = "proxyd";
  SSL_CTX_set_session_id_context(ctx, kIdContext, sizeof kIdContext - 1);
  switch (s.session_cache.mode) {
    case TlsSessionCache::Mode::off:
      SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
      break;
    case TlsSessionCache::Mode::none:
      // nginx's "none": clients are told sessions may be reused, none is kept.
      SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
      break;
    case TlsSessionCache::Mode::on: {
      SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
      // Workers are threads of one process: the context's own cache is the
      // shared one; shared:NAME:SIZE sizes it as nginx's zone would hold
      // sessions (about 4000 a megabyte).
      std::uint64_t n = s.session_cache.builtin_size + s.session_cache.shared_size / 256;
      SSL_CTX_sess_set_cache_size(ctx, static_cast<long>(n == 0 ? 20480 : n));
      break;
    }
  }
  SSL_CTX_set_timeout(ctx, static_cast<long>(s.session_timeout.count() / 1000));
  if (!s.session_tickets) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return {};
  }
  auto keys = readTicketKeys(s.session_ticket_keys, where);
  if (!keys) return R<void>::fail(keys.error());
  extra.ticket_keys = std::move(*keys);
  if (!extra.ticket_keys.empty()) {
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticketKey);
  }
  return {};
}

R<void> configureServer(SSL_CTX* ctx, const TlsServerSettings& s, TlsServerExtra& extra,
                        const std::string& where) {
  auto passwords = readPasswords(s.password_file, where);
  if (!passwords) return R<void>::fail(passwords.error());
  extra.passwords = std::move(*passwords);
  if (auto r = configureCommon(ctx, s.protocols, s.ciphers, s.crl, where); !r) return r;
  if (s.prefer_server_ciphers) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (s.ecdh_curve != "auto" && SSL_CTX_set1_groups_list(ctx, s.ecdh_curve.c_str()) != 1) {
    return R<void>::fail(
        failure(where, fmt::format("SSL_CTX_set1_curves_list(\"{}\") failed", s.ecdh_curve)));
  }
  if (!s.dhparam.empty()) {
    if (auto r = loadDhparam(ctx, s.dhparam, where); !r) return r;
  }
  if (auto r = configureCertificates(ctx, s, extra, where); !r) return r;
  if (auto r = configureVerify(ctx, s, where); !r) return r;
  if (auto r = configureSessions(ctx, s, extra, where); !r) return r;
  if (!s.alpn.empty()) {
    for (const std::string& p : s.alpn) {
      extra.alpn_wire += static_cast<char>(p.size());
      extra.alpn_wire += p;
    }
    SSL_CTX_set_alpn_select_cb(ctx, selectAlpn, nullptr);
  }
  if (s.reject_handshake) SSL_CTX_set_tlsext_servername_callback(ctx, rejectHandshake);
  return applyConfCommands(ctx, s.conf_commands, where);
}

}  // namespace

class OwnedServerContext : public TlsServerContext {
 public:
  OwnedServerContext(SslCtxPtr ctx, TlsServerSettings s, std::unique_ptr<TlsServerExtra> extra)
      : TlsServerContext(std::move(ctx), std::move(s)), extra_(std::move(extra)) {}

 private:
  std::unique_ptr<TlsServerExtra> extra_;
};

common::Result<std::shared_ptr<const TlsServerContext>> TlsServerContext::build(
    const TlsServerSettings& settings, const std::string& where) {
  using Out = common::Result<std::shared_ptr<const TlsServerContext>>;
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Out::fail(failure(where, "SSL_CTX_new() failed"));
  auto extra = std::make_unique<TlsServerExtra>();
  extra->settings = settings;
  SSL_CTX_set_ex_data(ctx.get(), extraIndex(), extra.get());
  if (auto r = configureServer(ctx.get(), settings, *extra, where); !r) return Out::fail(r.error());
  return std::shared_ptr<const TlsServerContext>(
      std::make_shared<OwnedServerContext>(std::move(ctx), settings, std::move(extra)));
}

common::Result<std::shared_ptr<const TlsClientContext>> TlsClientContext::build(
    const ProxySslSettings& s, const std::string& where) {
  using Out = common::Result<std::shared_ptr<const TlsClientContext>>;
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Out::fail(failure(where, "SSL_CTX_new() failed"));
  if (auto r = configureCommon(ctx.get(), s.protocols, s.ciphers, s.crl, where); !r) {
    return Out::fail(r.error());
  }
  if (!s.trusted_certificate.empty() &&
      SSL_CTX_load_verify_locations(ctx.get(), s.trusted_certificate.c_str(), nullptr) != 1) {
    return Out::fail(failure(
        where, fmt::format("SSL_CTX_load_verify_locations(\"{}\") failed", s.trusted_certificate)));
  }
  // As nginx: the result is judged after the handshake, with its message.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  SSL_CTX_set_verify_depth(ctx.get(), s.verify_depth);
  if (!s.certificate.empty()) {
    auto passwords = readPasswords(s.password_file, where);
    if (!passwords) return Out::fail(passwords.error());
    if (auto r = useCertificate(ctx.get(), s.certificate, s.certificate_key, *passwords, where);
        !r) {
      return Out::fail(r.error());
    }
  }
  if (s.session_reuse) SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_CLIENT);
  if (auto r = applyConfCommands(ctx.get(), s.conf_commands, where); !r) {
    return Out::fail(r.error());
  }
  return std::make_shared<const TlsClientContext>(std::move(ctx), s);
}

namespace {

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string nameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bioText(bio.get());
}

std::string timeText(const ASN1_TIME* t) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(bio.get(), t);
  return bioText(bio.get());
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

std::string groupName(int nid) {
  if (nid & TLSEXT_nid_unknown) return fmt::format("0x{:04x}", nid & 0xffff);
  const char* sn = OBJ_nid2sn(nid);
  return sn != nullptr ? sn : "";
}

void describeClientCertificate(SSL* ssl, TlsInfo& t) {
  X509Ptr cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return;
  long rc = SSL_get_verify_result(ssl);
  t.client_verify =
      rc == X509_V_OK ? "SUCCESS" : std::string("FAILED:") + X509_verify_cert_error_string(rc);
  t.client_s_dn = nameText(X509_get_subject_name(cert.get()));
  t.client_i_dn = nameText(X509_get_issuer_name(cert.get()));
  {
    BioPtr bio(BIO_new(BIO_s_mem()));
    i2a_ASN1_INTEGER(bio.get(), X509_get_serialNumber(cert.get()));
    t.client_serial = bioText(bio.get());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert.get(), EVP_sha1(), md, &md_len) == 1) t.client_fingerprint = hex(md, md_len);
  {
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert.get());
    t.client_raw_cert = bioText(bio.get());
  }
  // $ssl_client_cert: every line after the first indented with a tab.
  for (std::size_t i = 0; i < t.client_raw_cert.size(); ++i) {
    t.client_cert += t.client_raw_cert[i];
    if (t.client_raw_cert[i] == '\n' && i + 1 < t.client_raw_cert.size()) t.client_cert += '\t';
  }
  t.client_v_start = timeText(X509_get0_notBefore(cert.get()));
  t.client_v_end = timeText(X509_get0_notAfter(cert.get()));
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert.get())) == 1) {
    t.client_v_remain = std::to_string(days < 0 || (days == 0 && secs < 0) ? 0 : days);
  }
}

}  // namespace

TlsInfo describeTls(ssl_st* ssl, VerifyClient verify) {
  TlsInfo t;
  t.protocol = SSL_get_version(ssl);
  t.cipher = SSL_get_cipher_name(ssl);
  if (STACK_OF(SSL_CIPHER)* ciphers = SSL_get_client_ciphers(ssl)) {
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
      if (!t.ciphers.empty()) t.ciphers += ':';
      t.ciphers += SSL_CIPHER_get_name(sk_SSL_CIPHER_value(ciphers, i));
    }
  }
  t.curve = groupName(SSL_get_negotiated_group(ssl));
  int n = SSL_get1_curves(ssl, nullptr);
  if (n > 0) {
    std::vector<int> nids(static_cast<std::size_t>(n));
    SSL_get1_curves(ssl, nids.data());
    for (int nid : nids) {
      if (!t.curves.empty()) t.curves += ':';
      t.curves += groupName(nid);
    }
  }
  if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) t.server_name = sni;
  if (SSL_SESSION* sess = SSL_get0_session(ssl)) {
    unsigned int len = 0;
    const unsigned char* id = SSL_SESSION_get_id(sess, &len);
    t.session_id = hex(id, len);
  }
  t.session_reused = SSL_session_reused(ssl) == 1;
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  t.alpn_protocol.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  if (verify != VerifyClient::off) describeClientCertificate(ssl, t);
  return t;
}

namespace {

// ngx_ssl_verify_error_optional: what optional_no_ca lets through.
bool caError(long rc) {
  return rc == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
         rc == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
         rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || rc == X509_V_ERR_CERT_UNTRUSTED ||
         rc == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

}  // namespace

std::string checkClientCertificate(ssl_st* ssl, VerifyClient verify) {
  if (verify == VerifyClient::off) return {};
  long rc = SSL_get_verify_result(ssl);
  if (rc != X509_V_OK && (verify != VerifyClient::optional_no_ca || !caError(rc))) {
    return fmt::format("client SSL certificate verify error: ({}:{})", rc,
                       X509_verify_cert_error_string(rc));
  }
  if (verify == VerifyClient::on) {
    X509Ptr cert(SSL_get1_peer_certificate(ssl));
    if (!cert) return "client sent no required SSL certificate";
  }
  return {};
}

common::Result<void> buildTlsContexts(const std::string& path, ServerBlock& block) {
  const ServerSection& sec = block.section;
  if (int ssl_line = firstSslListenLine(sec.listen); ssl_line != 0) {
    int line = sec.ssl.certificate_line != 0 ? sec.ssl.certificate_line : ssl_line;
    auto ctx = TlsServerContext::build(sec.ssl, fmt::format("{}:{}", path, line));
    if (!ctx) return common::Result<void>::fail(ctx.error());
    block.tls = std::move(*ctx);
  }
  if (sec.proxy_ssl.enabled) {
    auto ctx =
        TlsClientContext::build(sec.proxy_ssl, fmt::format("{}:{}", path, sec.proxy_ssl.line));
    if (!ctx) return common::Result<void>::fail(ctx.error());
    block.proxy_tls = std::move(*ctx);
  }
  return {};
}

bool servesTls(const ProxyConfig& cfg, const AddressServers& address) {
  // nginx ORs the flag over the listens of a socket.
  for (std::size_t k : address.servers) {
    for (const ListenDirective& l : cfg.servers[k].listen) {
      if (l.ssl && l.address == address.addr && l.udp == address.udp) return true;
    }
  }
  return false;
}

}  // namespace proxyd
