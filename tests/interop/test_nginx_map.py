#!/usr/bin/env python3
"""proxyd's [map] against nginx stream's map: the same map blocks, the same
sessions, the same access-log line per session.  The maps cover exact keys,
regexes in order with numbered and named captures, `hostnames` wildcards
(case and the trailing dot), a template source, values with variables, a
default that reads the captures of an earlier match, a map on another map,
`include` of a file in nginx's syntax and `volatile`.  Sessions come from
several loopback source addresses, so that $remote_addr varies.

nginx (Debian's nginx-light + libnginx-mod-stream) is the reference; without
it the test is skipped (a failure under CI=true).

    python3 tests/interop/test_nginx_map.py
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

CANDIDATE = os.environ.get("INTEROP_CANDIDATE", "proxyd")

setUpModule, tearDownModule = lab.module_fixtures("nginx")

SOURCES = ["127.0.0.1", "127.0.0.5", "127.0.0.7", "127.0.3.9", "127.1.2.3", "127.45.0.200"]

# Every map result once, labelled for parse_kv(); $c and $d are named
# captures of $named, so they come after it: nginx sizes the line before it
# writes it, and a capture set in between would not fit ("no buffer space in
# log script copy").
FORMAT = " ".join(f'{v}="${v}"' for v in (
    "by_addr", "named", "d", "c", "host_pool", "chained", "port_pool", "inc", "vol"))


def maps(port: int, include: str) -> list:
    return [
        # Exact first, then the regexes in order: the first that matches wins.
        lab.MapBlock("$remote_addr", "$by_addr", default="other", entries=[
            ("127.0.0.1", "local"),
            (r"~^127\.0\.(\d+)\.(\d+)$", "net-$1-$2"),
            (r"~^127\.(\d+)", "wide-$1"),
        ]),
        lab.MapBlock("$remote_addr", "$named", entries=[
            (r"~^(?<a>\d+)\.(?<b>\d+)\.(?<c>\d+)\.(?<d>\d+)$", "$d.$c.$b.$a"),
        ]),
        # Lower case and the trailing dot dropped before the lookup; the
        # longest wildcard wins, head ones before tail ones.
        lab.MapBlock("${remote_addr}.Example.COM.", "$host_pool", hostnames=True,
                     default="none", entries=[
                         ("127.0.0.7.example.com", "exact7"),
                         ("*.example.com", "wild"),
                         (".0.5.example.com", "dot05"),
                         ("*.3.9.example.com", "star39"),
                         ("127.1.*", "tail"),
                         (r"~^127\.45\.", "regex45"),
                     ]),
        # A map on a map; its default reads $1 of whatever matched last.
        lab.MapBlock("$by_addr", "$chained", default="x-$1", entries=[
            (r"~^net-0-(\d+)$", "chain-$1"),
            ("LOCAL", "chain-local"),
        ]),
        lab.MapBlock("$server_port", "$port_pool", default="none", entries=[
            (str(port), "port-$server_port"),
        ]),
        lab.MapBlock("$remote_addr", "$inc", default="not-included", includes=[include]),
        lab.MapBlock("$remote_addr", "$vol", volatile=True, entries=[("127.0.0.5", "five")]),
    ]


class MapInterop(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.echo = lab.EchoServer()
        cls.dir = tempfile.mkdtemp(prefix="map-", dir=lab.tmp_root())
        cls.include = os.path.join(cls.dir, "clients.map")
        with open(cls.include, "w") as f:
            f.write("# nginx's map-body syntax\n"
                    "127.0.0.5      five;   # a comment\n"
                    "'127.0.3.9'    \"quoted nine\";\n"
                    "~^127\\.1\\.   one-$remote_addr;\n")
        cls.port = lab.free_port()

    @classmethod
    def tearDownClass(cls):
        cls.echo.stop()

    def lines(self, impl: str) -> list:
        cfg = lab.simple_config([self.echo.addr], listen=self.port, log_format="maps",
                                fmt=FORMAT)
        cfg.maps = maps(self.port, self.include)
        proxy = lab.Proxy(impl)
        proxy.start(cfg)
        try:
            for n, src in enumerate(SOURCES, 1):
                with lab.connect(proxy.listen_port(), source=src) as s:
                    s.sendall(b"hello\n")
                    self.assertEqual(lab.recv_exactly(s, 6), b"hello\n")
                # One at a time: the log order is the session order.
                proxy.access_log_lines(n, timeout=3)
            lines = proxy.access_log_lines(len(SOURCES), timeout=3)
            diag = proxy.error_log()[-3000:]
        finally:
            proxy.stop()
        self.assertIsNone(proxy.exit_problem())
        self.assertEqual(len(lines), len(SOURCES), f"{impl}: {lines}\n{diag}")
        return lines

    def test_same_map_values_per_session(self):
        want = self.lines("nginx")
        lab.report("nginx:\n  " + "\n  ".join(want))
        # The reference itself must show what each map is about.
        values = [lab.parse_kv(x) for x in want]
        self.assertEqual(values[0]["by_addr"], "local")
        self.assertEqual(values[1]["host_pool"], "dot05")
        self.assertIn("one-127.1.2.3", want[4])
        reason = lab.unavailable_reason(CANDIDATE)
        if reason is not None:
            self.skipTest(f"{reason}; the nginx reference run passed")
        got = self.lines(CANDIDATE)
        self.assertEqual(got, want, f"{CANDIDATE} (first) vs nginx (second)")


if __name__ == "__main__":
    lab.main()
