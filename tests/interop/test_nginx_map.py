#!/usr/bin/env python3
"""proxyd's [map] against nginx stream's map: the same map blocks, the same
sessions, the same access-log line per session.  The maps cover exact keys,
regexes in order with numbered and named captures, `hostnames` wildcards
(case and the trailing dot), a template source, values with variables, a
default that reads the captures of an earlier match, a map on another map,
`include` of a file in nginx's syntax and `volatile`.  Sessions come from
several loopback source addresses, so that $remote_addr varies.  One
nginx.conf runs on both: proxyd gets what --import-nginx makes of it.

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

# The stream {} body, as nginx reads it; proxyd runs what --import-nginx
# makes of it (Proxy.start_stream), so the importer is checked on the way.
BODY = r"""
    log_format maps '%(format)s';

    # Exact first, then the regexes in order: the first that matches wins.
    map $remote_addr $by_addr {
        default            other;
        127.0.0.1          local;
        "~^127\.0\.(\d+)\.(\d+)$"  net-$1-$2;
        ~^127\.(\d+)       wide-$1;
    }
    map $remote_addr $named {
        "~^(?<a>\d+)\.(?<b>\d+)\.(?<c>\d+)\.(?<d>\d+)$"  $d.$c.$b.$a;
    }
    # Lower case and the trailing dot dropped before the lookup; the longest
    # wildcard wins, head ones before tail ones, regexes last.
    map ${remote_addr}.Example.COM. $host_pool {
        hostnames;
        default                 none;
        127.0.0.7.example.com   exact7;
        *.example.com           wild;
        .0.5.example.com        dot05;
        *.3.9.example.com       star39;
        127.1.*                 tail;
        ~^127\.45\.             regex45;
    }
    # A map on a map; its default reads $1 of whatever matched last.
    map $by_addr $chained {
        default          x-$1;
        ~^net-0-(\d+)$   chain-$1;
        LOCAL            chain-local;
    }
    map $server_port $port_pool {
        default    none;
        %(port)d   port-$server_port;
    }
    map $remote_addr $inc {
        default    not-included;
        include    %(include)s;
    }
    map $remote_addr $vol {
        volatile;
        127.0.0.5   five;
    }

    upstream backends {
        server %(echo)s;
    }
    server {
        listen 127.0.0.1:%(port)d;
        proxy_pass backends;
        access_log @DIR@/access.log maps;
    }
"""


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
        body = BODY % {"format": FORMAT, "port": self.port, "include": self.include,
                       "echo": self.echo.addr}
        proxy = lab.Proxy(impl)
        proxy.start_stream(body, [self.port])
        log = os.path.join(proxy.tmp, "access.log")
        lines: list = []

        def logged(n):
            def enough():
                try:
                    with open(log, errors="replace") as f:
                        lines[:] = f.read().split("\n")[:-1]
                except FileNotFoundError:
                    pass
                return len(lines) >= n
            return lab.wait_for(enough, 3)

        try:
            for n, src in enumerate(SOURCES, 1):
                with lab.connect(self.port, source=src) as s:
                    s.sendall(b"hello\n")
                    self.assertEqual(lab.recv_exactly(s, 6), b"hello\n")
                # One at a time: the log order is the session order.
                logged(n)
            diag = proxy.diagnostics()[-4000:]
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
        self.assertEqual(values[3]["chained"], "x-127")
        self.assertIn("one-127.1.2.3", want[4])
        reason = lab.unavailable_reason(CANDIDATE)
        if reason is not None:
            self.skipTest(f"{reason}; the nginx reference run passed")
        got = self.lines(CANDIDATE)
        self.assertEqual(got, want, f"{CANDIDATE} (first) vs nginx (second)")


if __name__ == "__main__":
    lab.main()
