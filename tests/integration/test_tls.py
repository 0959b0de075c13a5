#!/usr/bin/env python3
"""TLS termination on loopback (listen ... ssl) with a PKI made at test time
(tests/lib/tls_certs.py): the $ssl_* variables, RSA and ECDSA certificates
side by side, ALPN, session reuse, client certificates (on, optional, a
CRL), handshake failures and ssl_handshake_timeout with nginx's log lines
and status 500, a bulk transfer both ways, and a reload with a bad
certificate rejected while the old one keeps serving. Compared with
Debian's nginx in tests/interop/test_nginx_tls.py.

    python3 tests/integration/test_tls.py
"""

import os
import signal
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402
import tls_certs  # noqa: E402

setUpModule, tearDownModule = lab.module_fixtures("proxyd")

FORMAT = ("status=$status proto=$ssl_protocol cipher=$ssl_cipher sni=$ssl_server_name "
          "reused=$ssl_session_reused alpn=$ssl_alpn_protocol verify=\"$ssl_client_verify\" "
          "dn=\"$ssl_client_s_dn\" idn=\"$ssl_client_i_dn\" serial=$ssl_client_serial "
          "received=$bytes_received sent=$bytes_sent")

PKI = None


def pki() -> dict:
    global PKI
    if PKI is None:
        PKI = tls_certs.make_pki(os.path.join(lab.tmp_root(), "pki"))
    return PKI


def client_context(cert: str = None, key: str = None, **kw) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=pki()["ca"])
    if cert:
        ctx.load_cert_chain(cert, key)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


class Tls(lab.ProxydCase):

    def tls_proxy(self, backend, keys=(), certs=("rsa",)):
        p = pki()
        extra = []
        for c in certs:
            extra += [("ssl_certificate", p[f"{c}_cert"]), ("ssl_certificate_key", p[f"{c}_key"])]
        cfg = lab.simple_config([backend.addr], fmt=FORMAT, extra=extra + list(keys),
                                listen_params=" ssl")
        return self.start(cfg)

    def line(self, proxy, count=1) -> dict:
        lines = proxy.access_log_lines(count, timeout=5)
        self.assertGreaterEqual(len(lines), count, proxy.error_log()[-3000:])
        return lab.parse_kv(lines[count - 1])

    def talk(self, port, ctx, payload=b"hello", server_hostname="localhost"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=server_hostname) as s:
                s.sendall(payload)
                got = b""
                while len(got) < len(payload):
                    d = s.recv(65536)
                    if not d:
                        break
                    got += d
                info = (s.version(), s.cipher()[0], s.selected_alpn_protocol(),
                        s.session, s.getpeercert(binary_form=True))
        return got, info

    def test_variables_and_relay(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.tls_proxy(echo, [("ssl_alpn", "h2 http/1.1")])
        ctx = client_context()
        ctx.set_alpn_protocols(["http/1.1"])
        got, (version, cipher, alpn, _, _) = self.talk(proxy.config.servers[0].listen, ctx)
        self.assertEqual(got, b"hello")
        kv = self.line(proxy)
        self.assertEqual(kv["status"], "200")
        self.assertEqual(kv["proto"], version)
        self.assertEqual(kv["cipher"], cipher)
        self.assertEqual(kv["sni"], "localhost")
        self.assertEqual(kv["alpn"], "http/1.1")
        self.assertEqual(alpn, "http/1.1")
        self.assertEqual(kv["reused"], ".")
        self.assertEqual(kv["verify"], "NONE")
        self.assertEqual(kv["received"], "5")

    def test_bulk_both_ways(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.tls_proxy(echo)
        payload = os.urandom(4 << 20)
        t0 = time.monotonic()
        got, _ = self.talk(proxy.config.servers[0].listen, client_context(), payload)
        print(f"[proxyd] 4 MiB echoed through TLS in {time.monotonic() - t0:.2f}s")
        self.assertEqual(got, payload)
        kv = self.line(proxy)
        self.assertEqual(kv["received"], str(len(payload)))
        self.assertEqual(kv["sent"], str(len(payload)))

    def test_pass_keeps_the_terminated_connection(self):
        # nginx's pass of a TLS connection: the target's session goes on
        # over the same TLS (its ssl handler skips a connection with SSL).
        echo = self.backend(lab.EchoServer)
        p = pki()
        inner = lab.ServerBlock("inner", lab.free_port(), "u", log_format="tls")
        outer = lab.ServerBlock("outer", lab.free_port(), None, listen_params=" ssl",
                                directives=[("ssl_certificate", p["rsa_cert"]),
                                            ("ssl_certificate_key", p["rsa_key"]),
                                            ("pass", f"127.0.0.1:{inner.listen}")])
        proxy = self.start(lab.Config(upstreams=[lab.Upstream("u", [echo.addr])],
                                      servers=[outer, inner], log_formats={"tls": FORMAT}))
        got, (version, _, _, _, _) = self.talk(outer.listen, client_context(), b"through pass")
        self.assertEqual(got, b"through pass")
        lines = proxy.access_log_lines(1, server="inner", timeout=5)
        self.assertEqual(len(lines), 1, proxy.error_log()[-3000:])
        kv = lab.parse_kv(lines[0])
        self.assertEqual((kv["status"], kv["proto"]), ("200", version))

    def test_rsa_and_ecdsa(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.tls_proxy(echo, certs=("rsa", "ecdsa"))
        port = proxy.config.servers[0].listen
        for ciphers, want in (("ECDHE-RSA-AES128-GCM-SHA256", "rsa"),
                              ("ECDHE-ECDSA-AES128-GCM-SHA256", "ecdsa")):
            ctx = client_context(maximum_version=ssl.TLSVersion.TLSv1_2)
            ctx.set_ciphers(ciphers)
            _, (_, cipher, _, _, der) = self.talk(port, ctx)
            self.assertEqual(cipher, ciphers)
            with open(pki()[f"{want}_cert"]) as f:
                self.assertEqual(der, ssl.PEM_cert_to_DER_cert(f.read()))

    def test_session_reuse(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.tls_proxy(echo, [("ssl_session_cache", "shared:SSL:1m")])
        port = proxy.config.servers[0].listen
        ctx = client_context(maximum_version=ssl.TLSVersion.TLSv1_2)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"a")
                s.recv(1)
                session = s.session
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
                s.sendall(b"b")
                s.recv(1)
                self.assertTrue(s.session_reused)
        self.assertEqual(self.line(proxy, 2)["reused"], "r")

    def test_client_certificates(self):
        echo = self.backend(lab.EchoServer)
        p = pki()
        proxy = self.tls_proxy(echo, [("ssl_verify_client", "on"),
                                      ("ssl_client_certificate", p["ca"]),
                                      ("ssl_crl", p["crl"])])
        port = proxy.config.servers[0].listen
        got, _ = self.talk(port, client_context(p["client_cert"], p["client_key"]))
        self.assertEqual(got, b"hello")
        kv = self.line(proxy)
        self.assertEqual(kv["verify"], "SUCCESS")
        self.assertEqual(kv["dn"], "CN=client one,O=Lab,C=XX")
        self.assertEqual(kv["idn"], "CN=ca Test CA")
        self.assertEqual(kv["serial"], "07D1")  # 2001
        cases = [(None, "client sent no required SSL certificate"),
                 ("stranger", "client SSL certificate verify error: (21:unable to verify the "
                              "first certificate)"),
                 ("revoked", "client SSL certificate verify error: (23:certificate revoked)")]
        for n, (who, message) in enumerate(cases, start=2):
            ctx = client_context(p[f"{who}_cert"], p[f"{who}_key"]) if who else client_context()
            try:
                self.talk(port, ctx)
            except (ssl.SSLError, OSError):
                pass
            kv = self.line(proxy, n)
            self.assertEqual(kv["status"], "500")
            log = proxy.error_log()
            self.assertIn("[info]", log)
            self.assertIn(f"{message} while SSL handshaking, client: 127.0.0.1, server: "
                          f"127.0.0.1:{port}", log)

    def test_optional_no_ca(self):
        echo = self.backend(lab.EchoServer)
        p = pki()
        proxy = self.tls_proxy(echo, [("ssl_verify_client", "optional_no_ca")])
        port = proxy.config.servers[0].listen
        got, _ = self.talk(port, client_context(p["stranger_cert"], p["stranger_key"]))
        self.assertEqual(got, b"hello")
        kv = self.line(proxy)
        self.assertEqual(kv["verify"], "FAILED:unable to verify the first certificate")
        self.assertEqual(kv["dn"], "CN=client stranger")

    def test_handshake_failures(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.tls_proxy(echo, [("ssl_handshake_timeout", "300ms")])
        port = proxy.config.servers[0].listen
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            try:
                s.recv(100)
            except OSError:
                pass
        self.assertEqual(self.line(proxy)["status"], "500")
        log = proxy.error_log()
        self.assertRegex(log, r"\[info\] .*\*\d+ SSL_do_handshake\(\) failed \(SSL: error:"
                              r"[0-9A-F]+:SSL routines::http request\) while SSL handshaking, "
                              r"client: 127\.0\.0\.1, server: 127\.0\.0\.1:\d+")
        # Nothing at all: ssl_handshake_timeout ends it with 500, silently.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            t0 = time.monotonic()
            self.assertEqual(s.recv(10), b"")
            waited = time.monotonic() - t0
        print(f"[proxyd] handshake timeout after {waited:.2f}s (300ms configured)")
        self.assertLess(waited, 3)
        self.assertEqual(self.line(proxy, 2)["status"], "500")

    def test_encrypted_key_with_password_file(self):
        echo = self.backend(lab.EchoServer)
        p = pki()
        cfg = lab.simple_config([echo.addr], fmt=FORMAT, listen_params=" ssl", extra=[
            ("ssl_certificate", p["rsa_cert"]), ("ssl_certificate_key", p["rsa_enc_key"]),
            ("ssl_password_file", p["passwords"])])
        proxy = self.start(cfg)
        got, _ = self.talk(proxy.config.servers[0].listen, client_context())
        self.assertEqual(got, b"hello")

    def test_reload_rejects_a_bad_certificate(self):
        echo = self.backend(lab.EchoServer)
        p = pki()
        bad = os.path.join(lab.tmp_root(), "bad.pem")
        with open(bad, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
        self.addCleanup(os.unlink, bad)
        proxy = self.tls_proxy(echo)
        port = proxy.config.servers[0].listen
        cfg = proxy.config
        cfg.servers[0].extra = [("ssl_certificate", bad), ("ssl_certificate_key", p["rsa_key"])]
        proxy.rewrite_config(cfg)
        os.kill(proxy.pid, signal.SIGHUP)
        self.assertIsNotNone(lab.wait_for(lambda: "cannot load certificate" in proxy.error_log(),
                                          5, 0.05), proxy.error_log())
        self.assertRegex(proxy.error_log(), r"proxyd\.ini:\d+: error: cannot load certificate "
                                            r"\"" + bad + r"\": PEM_read_bio_X509_AUX\(\) failed")
        got, _ = self.talk(port, client_context())  # the old certificate serves on
        self.assertEqual(got, b"hello")
        # A good one is taken: the ECDSA certificate is served after this reload.
        cfg.servers[0].extra = [("ssl_certificate", p["ecdsa_cert"]),
                                ("ssl_certificate_key", p["ecdsa_key"])]
        proxy.rewrite_config(cfg)
        os.kill(proxy.pid, signal.SIGHUP)

        def served():
            try:
                _, info = self.talk(port, client_context())
            except (ssl.SSLError, OSError):
                return None
            with open(p["ecdsa_cert"]) as f:
                return info[4] == ssl.PEM_cert_to_DER_cert(f.read()) or None
        self.assertIsNotNone(lab.wait_for(served, 5, 0.1))


if __name__ == "__main__":
    lab.main()
