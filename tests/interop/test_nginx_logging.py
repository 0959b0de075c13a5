#!/usr/bin/env python3
"""nginx stream's access-log options, proxyd against Debian's nginx: one
nginx.conf (run by nginx, and by proxyd through `--import-nginx`, which must
carry it without a warning) with several access_log in one server, if=,
buffer= with flush=, gzip, and log formats with escape=default, json and
none over a map value full of odd bytes (a quote, a backslash, a tab, a
control byte, DEL, UTF-8, ";#"). The files must hold the same bytes; the
gzip file the same members, byte for byte, as nginx's.

    python3 tests/interop/test_nginx_logging.py
"""

import gzip
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402


def setUpModule():
    lab.require_impl("nginx")
    lab.require_impl("proxyd")


tearDownModule = lab.cleanup_all

FLUSH_MS = 1000

# Raw bytes in nginx.conf inside quotes: nginx keeps them as they are; the
# importer has to quote them for proxyd.ini (\xHH).
ODD = '"q\\"b\\\\s\\t\x01\x7f\u00e9;#"'  # the file is written as UTF-8

BODY = """
    map $bytes_received $odd { default %(odd)s; }
    map $bytes_received $loggable { 0 0; default 1; }
    log_format plain '$status "$odd" $bytes_received $bytes_sent';
    log_format js escape=json '{"status":"$status","odd":"$odd","in":$bytes_received}';
    log_format raw escape=none '$status "$odd" $upstream_addr';
    log_format dflt escape=default '$status "$odd" $upstream_addr';
    upstream echo { server %(echo)s; }
    server {
        listen 127.0.0.1:%(port)d;
        proxy_pass echo;
        access_log @DIR@/plain.log plain;
        access_log @DIR@/json.log js if=$loggable;
        access_log @DIR@/raw.log raw buffer=4k flush=%(flush)dms;
        access_log @DIR@/dflt.log dflt;
        access_log @DIR@/zipped.log.gz plain gzip=6;
    }
"""

FILES = ["plain.log", "json.log", "raw.log", "dflt.log"]


def lines_of(path: str) -> list:
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return f.read().splitlines()


class Logging(unittest.TestCase):
    def run_impl(self, impl: str) -> dict:
        """The log files' bytes after the same two sessions (one echoing
        "ping", one sending nothing) through `impl`."""
        echo = lab.EchoServer()
        self.addCleanup(echo.stop)
        port = lab.free_port()
        proxy = lab.Proxy(impl)
        self.addCleanup(proxy.stop)
        body = BODY % {"odd": ODD, "echo": echo.addr, "port": port, "flush": FLUSH_MS}
        proxy.start_stream(body, [port])
        d = proxy.tmp
        with lab.connect(port) as s:
            s.sendall(b"ping\n")
            self.assertEqual(lab.recv_exactly(s, 5), b"ping\n")
        with lab.connect(port) as s:
            pass  # nothing sent: $loggable is "0"
        plain = os.path.join(d, "plain.log")
        self.assertIsNotNone(lab.wait_for(lambda: len(lines_of(plain)) == 2, 5, 0.01),
                             f"{impl}: {lines_of(plain)}")
        # Unbuffered lines are there; the buffered file waits for flush=.
        written = time.monotonic()
        raw = os.path.join(d, "raw.log")
        self.assertEqual(lines_of(raw), [], f"{impl}: buffer= wrote before flush=")
        self.assertIsNotNone(lab.wait_for(lambda: len(lines_of(raw)) == 2, 5, 0.01))
        waited = time.monotonic() - written
        # The timer runs from the first buffered line, before `written`.
        self.assertLess(waited, FLUSH_MS / 1000 + 0.5, f"{impl}: flush= took {waited:.3f}s")
        # The gzip buffer (64K, no flush=) goes out at exit.
        self.assertEqual(os.path.getsize(os.path.join(d, "zipped.log.gz")), 0)
        proxy.stop()
        out = {}
        for name in FILES + ["zipped.log.gz"]:
            with open(os.path.join(d, name), "rb") as f:
                out[name] = f.read()
        # Upstream addresses differ between the runs only by the echo port.
        for name in ("raw.log", "dflt.log"):
            out[name] = out[name].replace(echo.addr.encode(), b"ECHO")
        return out

    def test_same_files_as_nginx(self):
        ref = self.run_impl("nginx")
        got = self.run_impl("proxyd")
        self.assertEqual(len(ref["plain.log"].splitlines()), 2)
        self.assertEqual(len(ref["json.log"].splitlines()), 1, "nginx's if= skipped the empty one")
        for name in FILES:
            with self.subTest(file=name):
                self.assertEqual(got[name], ref[name])
        # What each escape makes of the odd bytes (nginx's own output).
        self.assertIn(b'q\\"b\\\\s\\t\\u0001\x7f\xc3\xa9;#', ref["json.log"])
        self.assertIn(b'q\\x22b\\x5Cs\\x09\\x01\\x7F\\xC3\\xA9;#', ref["dflt.log"])
        self.assertIn(b'q"b\\s\t\x01\x7f\xc3\xa9;#', ref["raw.log"])
        # gzip: zcat gives the lines, and the member is nginx's, byte for byte.
        self.assertEqual(gzip.decompress(got["zipped.log.gz"]), ref["plain.log"])
        self.assertEqual(got["zipped.log.gz"], ref["zipped.log.gz"])


if __name__ == "__main__":
    lab.main()
