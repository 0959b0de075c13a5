#!/usr/bin/env python3
"""ssl_preread against Debian's nginx (1.22): the same ClientHellos through
both, and the same $ssl_preread_protocol, $ssl_preread_server_name,
$ssl_preread_alpn_protocols, $status and $upstream_addr in the access log:
openssl s_client with and without -servername and -alpn, Python's hello in
single-byte writes, garbage, a full preread buffer and preread_timeout.

$bytes_received is left out on purpose: nginx 1.22 does not count the
prereaded bytes, 1.25 (reading with MSG_PEEK) and proxyd do. server_name
routing is newer than 1.22: tests/integration/test_preread.py.

    python3 tests/interop/test_nginx_preread.py
"""

import os
import shutil
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

setUpModule, tearDownModule = lab.module_fixtures("nginx")

FORMAT = ("proto=$ssl_preread_protocol sni=$ssl_preread_server_name "
          "alpn=$ssl_preread_alpn_protocols status=$status upstream=$upstream_addr")
DIRECTIVES = [("ssl_preread", "on"), ("preread_buffer_size", "16k"),
              ("preread_timeout", "300ms")]


def s_client(port, *args):
    subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=10)


def raw(port, data: bytes, *, single_bytes=False, half_close=False):
    with lab.connect(port) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for chunk in ([data[i:i + 1] for i in range(len(data))] if single_bytes else [data]):
            s.sendall(chunk)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        lab.recv_until_closed(s, timeout=5)


def scenarios(port):
    """Each sends one session's worth to `port` and lets it end."""
    # A handshake record longer than the buffer: nginx reads a whole record first.
    big = b"\x16\x03\x01\x40\x00" + bytes(16384 - 5)
    yield "s_client -servername -alpn", lambda: s_client(
        port, "-servername", "api.example.com", "-alpn", "h2,http/1.1")
    yield "s_client -noservername", lambda: s_client(port, "-noservername")
    yield "s_client TLS 1.2", lambda: s_client(port, "-tls1_2", "-servername", "v12.test")
    small = _short_hello()
    yield "single bytes", lambda: raw(port, small, single_bytes=True, half_close=True)
    yield "garbage", lambda: raw(port, b"GET / HTTP/1.0\r\n\r\n", half_close=True)
    yield "buffer full", lambda: raw(port, big)
    yield "timeout", lambda: raw(port, big[:10])


def _short_hello() -> bytes:
    """A TLS 1.2 ClientHello with SNI and ALPN, built byte by byte."""
    sni = b"one.byte.test"
    alpn_list = b"\x08http/1.1\x02h2"
    ext_sni = b"\x00\x00" + (len(sni) + 5).to_bytes(2, "big") + (len(sni) + 3).to_bytes(2, "big") \
        + b"\x00" + len(sni).to_bytes(2, "big") + sni
    ext_alpn = b"\x00\x10" + (len(alpn_list) + 2).to_bytes(2, "big") \
        + len(alpn_list).to_bytes(2, "big") + alpn_list
    exts = ext_sni + ext_alpn
    body = b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x00\x2f" + b"\x01\x00" \
        + len(exts).to_bytes(2, "big") + exts
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + len(hs).to_bytes(2, "big") + hs


class PrereadInterop(unittest.TestCase):

    def run_all(self, impl, echo):
        cfg = lab.simple_config([echo.addr], fmt=FORMAT, extra=DIRECTIVES)
        render = lab.render_nginx_conf

        def with_preread(config, tmp):
            text = render(config, tmp)
            listen = f"        listen 127.0.0.1:{config.servers[0].listen};\n"
            extra = "".join(f"        {k} {v};\n" for k, v in DIRECTIVES)
            return text.replace(listen, listen + extra)
        lab.render_nginx_conf = with_preread
        proxy = lab.Proxy(impl)
        try:
            proxy.start(cfg)
            port = proxy.listen_port()
            names = []
            for name, run in scenarios(port):
                run()
                names.append(name)
                lab.wait_for(lambda: len(proxy.access_log_lines()) >= len(names), 3)
            lines = proxy.access_log_lines(len(names), timeout=3)
            errors = proxy.error_log()
        finally:
            lab.render_nginx_conf = render
            proxy.stop()
        self.assertEqual(len(lines), len(names), errors[-3000:])
        self.assertIn("preread buffer full", errors)
        return dict(zip(names, lines))

    @unittest.skipIf(shutil.which("openssl") is None, "openssl missing")
    def test_same_variables_and_status_as_nginx(self):
        echo = lab.EchoServer()
        try:
            want = self.run_all("nginx", echo)
            got = self.run_all("proxyd", echo)
        finally:
            echo.stop()
        for name in want:
            with self.subTest(name):
                self.assertEqual(got[name], want[name])
        # Not vacuous: nginx saw what the scenarios are about.
        self.assertIn("sni=api.example.com alpn=h2,http/1.1", want["s_client -servername -alpn"])
        self.assertIn("sni=one.byte.test alpn=http/1.1,h2", want["single bytes"])
        self.assertIn("status=400", want["buffer full"])
        self.assertIn("proto=- sni=- alpn=- status=200", want["garbage"])


if __name__ == "__main__":
    lab.main()
