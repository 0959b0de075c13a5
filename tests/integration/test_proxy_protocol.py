#!/usr/bin/env python3
"""PROXY protocol on loopback, what Debian's nginx 1.22 cannot be compared
on (tests/interop/test_nginx_proxy_protocol.py has the rest): the v2 TLV
variables and headers longer than 1.22's 107 bytes (nginx 1.23.2+),
`proxy_protocol v2` to the upstream (nginx 1.29: the header parsed here,
its CRC32C checked with this file's own CRC), the header sent again on
the try that connects after a refused one, and realip deciding allow/deny.
proxyd runs what --import-nginx makes of an nginx.conf (start_stream).

    python3 tests/integration/test_proxy_protocol.py
"""

import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

setUpModule, tearDownModule = lab.module_fixtures("proxyd")

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
PAYLOAD = b"hello\n"
INET = bytes([203, 0, 113, 7, 198, 51, 100, 1]) + struct.pack(">HH", 4242, 443)

TLV_FORMAT = ("'status=$status alpn=$proxy_protocol_tlv_alpn "
              "authority=$proxy_protocol_tlv_authority id=$proxy_protocol_tlv_0x05 "
              "ssl_version=$proxy_protocol_tlv_ssl_version cn=$proxy_protocol_tlv_ssl_cn "
              "verify=$proxy_protocol_tlv_ssl_verify netns=$proxy_protocol_tlv_netns "
              "remote=$remote_addr:$remote_port'")


def tlv(t: int, value: bytes) -> bytes:
    return bytes([t]) + struct.pack(">H", len(value)) + value


def v2(ver_cmd: int, fam: int, body: bytes) -> bytes:
    return SIG + bytes([ver_cmd, fam]) + struct.pack(">H", len(body)) + body


def crc32c(data: bytes) -> int:
    """CRC-32C bit by bit (RFC 3720), independent of proxyd's table."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def exchange(port: int, data: bytes, timeout: float = 3.0) -> tuple:
    """Sends `data`, reads until the payload comes back or the end."""
    with lab.connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(data)
        got = bytearray()
        deadline = time.monotonic() + timeout
        s.settimeout(0.05)
        while time.monotonic() < deadline and not got.endswith(PAYLOAD):
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    return bytes(got), cport


class ProxyProtocol(unittest.TestCase):

    def setUp(self):
        self.echo = lab.EchoServer()
        self.proxy = lab.Proxy("proxyd")

    def tearDown(self):
        self.proxy.stop()
        self.echo.stop()

    def start(self, server_lines: str, fmt: str = TLV_FORMAT, upstream: str = "") -> int:
        port = lab.free_port()
        upstream = upstream or f"server {self.echo.addr};"
        body = (f"    log_format pp {fmt};\n"
                f"    upstream echo {{ {upstream} }}\n"
                "    server {\n"
                f"        listen 127.0.0.1:{port} proxy_protocol;\n"
                f"{server_lines}"
                "        proxy_pass echo;\n"
                "        access_log @DIR@/access.log pp;\n"
                "        error_log @DIR@/error.log info;\n"
                "    }\n")
        self.proxy.start_stream(body, [port])
        return port

    def line(self, n: int = 1) -> dict:
        path = os.path.join(self.proxy.tmp, "access.log")
        def lines() -> list:
            if not os.path.exists(path):
                return []
            with open(path) as f:
                return f.read().splitlines()
        lab.wait_for(lambda: len(lines()) >= n, 3)
        lines = lines()
        self.assertGreaterEqual(len(lines), n, self.proxy.error_log()[-2000:])
        return lab.parse_kv(lines[n - 1])

    def test_tlv_variables_and_a_header_longer_than_107_bytes(self):
        port = self.start("")
        ssl = b"\x01" + struct.pack(">I", 19) + tlv(0x21, b"TLSv1.3") + tlv(0x22, b"client.test")
        tlvs = (tlv(1, b"h2") + tlv(2, b"api.test") + tlv(5, b"id-7") + tlv(0x20, ssl)
                + tlv(0xe0, bytes(300)))
        got, _ = exchange(port, v2(0x21, 0x11, INET + tlvs) + PAYLOAD)
        self.assertEqual(got, PAYLOAD)
        f = self.line()
        self.assertEqual((f["status"], f["alpn"], f["authority"], f["id"]),
                         ("200", "h2", "api.test", "id-7"))
        self.assertEqual((f["ssl_version"], f["cn"], f["verify"], f["netns"]),
                         ("TLSv1.3", "client.test", "19", "-"))

    def test_v2_sent_to_the_upstream_with_its_crc(self):
        port = self.start("        set_real_ip_from 127.0.0.1;\n"
                          "        proxy_protocol v2;\n")
        header = v2(0x21, 0x11, INET)
        got, _ = exchange(port, header + PAYLOAD)
        self.assertTrue(got.startswith(SIG) and got.endswith(PAYLOAD), got)
        length = struct.unpack(">H", got[14:16])[0]
        sent, body = got[:16 + length], got[16:16 + length]
        self.assertEqual(sent[12:14], b"\x21\x11")  # PROXY, TCP over IPv4
        self.assertEqual(socket.inet_ntoa(body[0:4]), "203.0.113.7")  # after realip
        self.assertEqual(socket.inet_ntoa(body[4:8]), "127.0.0.1")
        self.assertEqual(struct.unpack(">HH", body[8:12]), (4242, port))
        self.assertEqual(body[12:15], b"\x03\x00\x04")  # the CRC32C TLV, last
        zeroed = sent[:-4] + bytes(4)
        self.assertEqual(struct.unpack(">I", sent[-4:])[0], crc32c(zeroed))
        self.assertEqual(got[16 + length:], PAYLOAD)

    def test_header_sent_on_the_try_that_connects(self):
        refused = f"127.0.0.1:{lab.refused_port()}"
        port = self.start("        proxy_protocol on;\n",
                          fmt="'status=$status upstream=\"$upstream_addr\" "
                              "up_sent=\"$upstream_bytes_sent\"'",
                          upstream=f"server {refused}; server {self.echo.addr};")
        got, cport = exchange(port, b"PROXY UNKNOWN\r\n" + PAYLOAD)
        want = f"PROXY TCP4 127.0.0.1 127.0.0.1 {cport} {port}\r\n".encode()
        self.assertEqual(got, want + PAYLOAD)
        f = self.line()
        self.assertEqual(f["upstream"], f"{refused}, {self.echo.addr}")
        self.assertEqual(f["up_sent"], f"0, {len(want) + len(PAYLOAD)}")

    def test_realip_decides_allow_and_deny(self):
        port = self.start("        set_real_ip_from 127.0.0.0/8;\n"
                          "        deny 203.0.113.0/24;\n"
                          "        allow all;\n",
                          fmt="'status=$status remote=$remote_addr realip=$realip_remote_addr'")
        exchange(port, b"PROXY TCP4 203.0.113.7 198.51.100.1 4242 443\r\n" + PAYLOAD, 1)
        got, _ = exchange(port, b"PROXY TCP4 192.0.2.7 198.51.100.1 4242 443\r\n" + PAYLOAD)
        self.assertEqual(got, PAYLOAD)
        first, second = self.line(1), self.line(2)
        self.assertEqual((first["status"], first["remote"], first["realip"]),
                         ("403", "203.0.113.7", "127.0.0.1"))
        self.assertEqual((second["status"], second["remote"]), ("200", "192.0.2.7"))
        self.assertIn("access forbidden by rule while initializing session, client: 203.0.113.7", self.proxy.error_log())


if __name__ == "__main__":
    lab.main()
