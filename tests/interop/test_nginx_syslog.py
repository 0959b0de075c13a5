#!/usr/bin/env python3
"""proxyd against real nginx: syslog targets.  One nginx.conf runs on
Debian's nginx and, through `proxyd --import-nginx`, on proxyd; both send
their access_log and error_log lines to the same local UDP and unix
datagram sockets, and the datagrams must be the same byte for byte once the
time stamps (RFC 3164's and the error line's own), the pid#tid and the
connection number are masked.  The RFC 3164 time is checked for its shape
(nginx's "%s %2d %02d:%02d:%02d"), not masked away blindly, and the host
name must be gethostname() lower-cased, as nginx sends it.

    python3 tests/interop/test_nginx_syslog.py
"""

import os
import re
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

setUpModule, tearDownModule = lab.module_fixtures("nginx")

_HEADER = re.compile(r"^<(\d+)>([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (.*)$", re.S)
_ERROR_TIME = re.compile(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[(\w+)\] \d+#\d+: \*\d+ ")


def normalise(datagram: bytes) -> str:
    text = datagram.decode()
    m = _HEADER.match(text)
    if not m:
        return "NOT RFC 3164: " + text
    body = _ERROR_TIME.sub(lambda e: f"TIME [{e.group(1)}] PID#TID: *N ", m.group(3))
    return f"<{m.group(1)}>TIME {body}"


class Catcher:
    """A datagram socket (UDP on loopback, or unix) that keeps what arrives."""

    def __init__(self, family, address):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.05)

    def drain(self, want: int, timeout: float = 3.0) -> list:
        got, deadline = [], time.monotonic() + timeout
        while len(got) < want and time.monotonic() < deadline:
            try:
                got.append(self.sock.recv(65536))
            except socket.timeout:
                pass
        # Anything more within a moment is a line too many.
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            try:
                got.append(self.sock.recv(65536))
            except socket.timeout:
                pass
        return got

    def close(self):
        self.sock.close()


class SyslogInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Not under lab.tmp_root() (0700): nginx's worker, an unprivileged
        # user, must reach the socket.
        cls.dir = tempfile.mkdtemp(prefix="proxyd-syslog-")
        cls.udp = Catcher(socket.AF_INET, ("127.0.0.1", 0))
        cls.udp_port = cls.udp.sock.getsockname()[1]
        cls.unix_path = os.path.join(cls.dir, "log.sock")
        cls.unix = Catcher(socket.AF_UNIX, cls.unix_path)
        os.chmod(cls.dir, 0o755)
        os.chmod(cls.unix_path, 0o777)
        cls.echo = lab.EchoServer()
        cls.refused = lab.refused_port()
        cls.ports = [lab.free_port(), lab.free_port()]

    @classmethod
    def tearDownClass(cls):
        cls.echo.stop()
        cls.udp.close()
        cls.unix.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def body(self) -> str:
        ok, bad = self.ports
        return f"""
    log_format p '$remote_addr $status $bytes_sent $bytes_received $upstream_addr';
    server {{
        listen 127.0.0.1:{ok};
        proxy_pass {self.echo.addr};
        access_log syslog:server=127.0.0.1:{self.udp_port},facility=local3,severity=notice,tag=lb p;
        error_log syslog:server=127.0.0.1:{self.udp_port},tag=errors error;
    }}
    server {{
        listen 127.0.0.1:{bad};
        proxy_pass 127.0.0.1:{self.refused};
        access_log syslog:server=unix:{self.unix_path},nohostname p;
        error_log syslog:server=unix:{self.unix_path},facility=daemon,nohostname error;
    }}
"""

    diag = {}

    def run_impl(self, impl: str):
        lab.require_impl(impl)
        proxy = lab.Proxy(impl)
        try:
            proxy.start_stream(self.body(), self.ports)
            ok, bad = self.ports
            with socket.create_connection(("127.0.0.1", ok), timeout=3) as c:
                c.sendall(b"hello\n")
                self.assertEqual(c.recv(100), b"hello\n")
            udp = self.udp.drain(1)
            with socket.create_connection(("127.0.0.1", bad), timeout=3) as c:
                c.settimeout(3)
                self.assertEqual(c.recv(100), b"")
            unix = self.unix.drain(2)
            self.diag[impl] = proxy.diagnostics()
        finally:
            proxy.stop()
        return udp, unix

    def test_same_datagrams_as_nginx(self):
        nginx_udp, nginx_unix = self.run_impl("nginx")
        lab.require_impl("proxyd")
        proxyd_udp, proxyd_unix = self.run_impl("proxyd")
        host = socket.gethostname().lower()
        ok, bad = self.ports
        # The reference itself: what nginx sends, so the comparison below
        # compares something.
        self.assertEqual(
            [normalise(d) for d in nginx_udp],
            [f"<157>TIME {host} lb: 127.0.0.1 200 6 6 {self.echo.addr}"])
        self.assertEqual(len(nginx_unix), 2, self.diag["nginx"])
        self.assertIn("<27>TIME nginx: TIME [error] PID#TID: *N connect() failed (111: ",
                      normalise(nginx_unix[0]))
        self.assertEqual(normalise(nginx_unix[1]),
                         f"<190>TIME nginx: 127.0.0.1 502 0 0 127.0.0.1:{self.refused}")
        self.assertEqual([normalise(d) for d in proxyd_udp], [normalise(d) for d in nginx_udp])
        self.assertEqual([normalise(d) for d in proxyd_unix],
                         [normalise(d) for d in nginx_unix])


if __name__ == "__main__":
    lab.main()
