#!/usr/bin/env python3
"""ssl_preread and server_name on loopback: the $ssl_preread_* variables of
real ClientHellos (openssl s_client, Python's ssl), a hello split into
single-byte writes, garbage, a full preread buffer, preread_timeout, and the
choice of the [server] by SNI among several on one address (nginx 1.25.5).
proxyd only: Debian's nginx 1.22 has no server_name in stream; the preread
values are compared with nginx in tests/interop/test_nginx_preread.py.

    python3 tests/integration/test_preread.py
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

setUpModule, tearDownModule = lab.module_fixtures("proxyd")

FORMAT = ("proto=$ssl_preread_protocol sni=$ssl_preread_server_name "
          "alpn=$ssl_preread_alpn_protocols status=$status upstream=$upstream_addr "
          "server_name=$server_name received=$bytes_received")


client_hello = lab.client_hello


def s_client(port: int, *args) -> None:
    """openssl s_client's hello to a non-TLS upstream: the handshake fails,
    which is all the test needs."""
    subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=10)


class Preread(lab.ProxydCase):

    def preread_proxy(self, backend, **extra):
        keys = [("ssl_preread", "on")] + list(extra.items())
        cfg = lab.simple_config([backend.addr], fmt=FORMAT, extra=keys)
        return self.start(cfg)

    def line(self, proxy, count=1, server=None) -> dict:
        lines = proxy.access_log_lines(count, server=server, timeout=5)
        self.assertEqual(len(lines), count, proxy.error_log()[-3000:])
        return lab.parse_kv(lines[count - 1])

    @unittest.skipIf(shutil.which("openssl") is None, "openssl missing")
    def test_openssl_with_and_without_servername_and_alpn(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.preread_proxy(echo)
        port = proxy.listen_port()
        s_client(port, "-servername", "api.example.com", "-alpn", "h2,http/1.1")
        f = self.line(proxy, 1)
        self.assertEqual((f["sni"], f["alpn"]), ("api.example.com", "h2,http/1.1"))
        self.assertRegex(f["proto"], r"^TLSv1\.[23]$")
        self.assertEqual(f["upstream"], echo.addr)
        s_client(port, "-noservername")
        f = self.line(proxy, 2)
        self.assertEqual((f["sni"], f["alpn"]), ("", ""))
        self.assertRegex(f["proto"], r"^TLSv1\.[23]$")

    def test_hello_in_single_bytes_reaches_the_upstream_whole(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.preread_proxy(echo)
        hello = client_hello("split.example.com", ["h2", "http/1.1"])
        with lab.connect(proxy.listen_port()) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(hello)):
                s.sendall(hello[i:i + 1])
                if i < 20:
                    time.sleep(0.002)  # separate segments for the header at least
            self.assertEqual(lab.recv_exactly(s, len(hello)), hello)
        f = self.line(proxy)
        self.assertEqual((f["sni"], f["alpn"], f["proto"]),
                         ("split.example.com", "h2,http/1.1", "TLSv1.3"))
        self.assertEqual((f["status"], f["received"]), ("200", str(len(hello))))

    def test_garbage_is_proxied_with_the_variables_not_found(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.preread_proxy(echo)
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            self.assertEqual(lab.recv_exactly(s, 18), b"GET / HTTP/1.0\r\n\r\n")
        f = self.line(proxy)
        self.assertEqual((f["proto"], f["sni"], f["alpn"], f["status"]), ("-", "-", "-", "200"))

    def test_full_buffer_is_400(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.preread_proxy(echo, preread_buffer_size="64")
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(client_hello("a.test")[:100])
            lab.recv_until_closed(s)
        f = self.line(proxy)
        self.assertEqual((f["status"], f["upstream"]), ("400", "-"))
        self.assertIn("preread buffer full", proxy.error_log())

    def test_timeout_and_eof_are_200_without_upstream(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.preread_proxy(echo, preread_timeout="300ms")
        hello = client_hello("a.test")
        with lab.connect(proxy.listen_port()) as s:
            start = time.monotonic()
            s.sendall(hello[:10])
            lab.recv_until_closed(s)
            self.assertGreaterEqual(time.monotonic() - start, 0.25)
        f = self.line(proxy)
        # As nginx: once a byte was read the variables exist, empty.
        self.assertEqual((f["status"], f["upstream"], f["sni"]), ("200", "-", ""))
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(hello[:10])
            s.shutdown(socket.SHUT_WR)
            lab.recv_until_closed(s)
        f = self.line(proxy, 2)
        self.assertEqual((f["status"], f["upstream"]), ("200", "-"))
        self.assertEqual(echo.sessions, [])


class ServerName(lab.ProxydCase):
    """Three [server]s on one address: the default one prereads, the SNI
    moves the session to the [server] named by it."""

    def start_three(self, default=None):
        a = self.backend(lab.AnswerServer, "backend-a")
        b = self.backend(lab.AnswerServer, "backend-b")
        c = self.backend(lab.AnswerServer, "backend-c")
        port = lab.free_port()
        pre = [("ssl_preread", "on")]
        servers = [
            lab.ServerBlock("a", port, "ua", log_format="p",
                            extra=pre + [("server_name", "api.example.com")]),
            lab.ServerBlock("b", port, "ub", log_format="p",
                            extra=pre + [("server_name", "*.ingress.test ~^app\\d+\\.test$")]),
            lab.ServerBlock("c", port, "uc", log_format="p",
                            extra=pre + [("server_name", "www.example.*")]),
        ]
        cfg = lab.Config(upstreams=[lab.Upstream("ua", [a.addr]), lab.Upstream("ub", [b.addr]),
                                    lab.Upstream("uc", [c.addr])],
                         servers=servers, log_formats={"p": FORMAT})
        if default is None:
            return self.start(cfg), port
        # listen = ADDR default_server on one of them.
        render = lab.render_proxyd_ini

        def with_default(config, tmp):
            text = render(config, tmp)
            head = f"[server {default}]\nlisten = 127.0.0.1:{port}\n"
            self.assertIn(head, text)
            return text.replace(head, head[:-1] + " default_server\n")
        lab.render_proxyd_ini = with_default
        try:
            return self.start(cfg), port
        finally:
            lab.render_proxyd_ini = render

    def answer(self, port, sni) -> bytes:
        with lab.connect(port) as s:
            s.sendall(client_hello(sni) + b"\n")
            return lab.recv_until(s, b"\n")

    def test_routing_by_sni(self):
        proxy, port = self.start_three()
        self.assertEqual(self.answer(port, "api.example.com"), b"backend-a\n")
        self.assertEqual(self.answer(port, "x.ingress.test"), b"backend-b\n")
        self.assertEqual(self.answer(port, "APP7.test"), b"backend-b\n")
        self.assertEqual(self.answer(port, "www.example.org"), b"backend-c\n")
        self.assertEqual(self.answer(port, "other.test"), b"backend-a\n")  # the first
        self.assertEqual(self.answer(port, None), b"backend-a\n")
        f = self.line(proxy, 2, "b")
        # The variable keeps the case sent; the choice is made in lower case.
        self.assertEqual((f["sni"], f["server_name"]), ("APP7.test", "*.ingress.test"))
        f = self.line(proxy, 1, "c")
        self.assertEqual(f["server_name"], "www.example.*")
        f = self.line(proxy, 3, "a")
        self.assertEqual((f["sni"], f["server_name"]), ("", "api.example.com"))

    def test_default_server(self):
        proxy, port = self.start_three(default="c")
        self.assertEqual(self.answer(port, "other.test"), b"backend-c\n")
        self.assertEqual(self.answer(port, "api.example.com"), b"backend-a\n")

    def line(self, proxy, count, server) -> dict:
        lines = proxy.access_log_lines(count, server=server, timeout=5)
        self.assertEqual(len(lines), count, proxy.error_log()[-3000:])
        return lab.parse_kv(lines[count - 1])


if __name__ == "__main__":
    lab.main()
