#!/usr/bin/env python3
"""UDP proxying side by side with Debian's nginx 1.22: one nginx.conf with
`listen ... udp` servers (proxy_responses 1, 0 and 2, proxy_requests, a
dead upstream before a live one, a silent one before a live one) run by
nginx and, imported with --import-nginx (no warning allowed), by proxyd, on
the same ports and upstreams. The same client script runs on each; what
every upstream received, what every client got back and the access-log
lines (times masked) must be the same.

    python3 tests/interop/test_nginx_udp.py
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402
import udplab as u  # noqa: E402

CANDIDATE = os.environ.get("INTEROP_CANDIDATE", "proxyd")

FORMAT = ("log_format u '$server_port $protocol $status $bytes_sent $bytes_received "
          "\"$upstream_addr\" \"$upstream_bytes_sent\" \"$upstream_bytes_received\" "
          "\"$upstream_connect_time\" $session_time';\n")

setUpModule, tearDownModule = lab.module_fixtures("nginx")

# name -> (upstream servers by role, server directives)
SERVERS = {
    "dns": (["one"], "proxy_responses 1; proxy_timeout 3s;"),
    "fire": (["one"], "proxy_responses 0; proxy_timeout 3s;"),
    "pairs": (["one"], "proxy_requests 2; proxy_responses 1; proxy_timeout 3s;"),
    "multi": (["two"], "proxy_responses 2; proxy_timeout 3s;"),
    "dead": (["dead", "one"], "proxy_responses 1; proxy_timeout 3s;"),
    "silent": (["silent", "one"], "proxy_responses 1; proxy_timeout 1s;"),
}


def mask(line: str) -> str:
    """The session time differs between runs: its digits are masked."""
    return re.sub(r" [0-9]+\.[0-9]{3}$", " T", line)


class UdpInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.one = u.UdpEcho("one", 1)
        cls.two = u.UdpEcho("two", 2)
        cls.silent = u.UdpEcho("silent", 0)
        cls.dead = f"127.0.0.1:{u.free_udp_port()}"
        cls.ports = {name: u.free_udp_port() for name in SERVERS}

    @classmethod
    def tearDownClass(cls):
        for e in (cls.one, cls.two, cls.silent):
            e.stop()

    def addr(self, role: str) -> str:
        return self.dead if role == "dead" else getattr(self, role).addr

    def body(self) -> str:
        out = [FORMAT]
        for name, (roles, directives) in SERVERS.items():
            servers = " ".join(f"server {self.addr(r)};" for r in roles)
            out.append(f"    upstream {name} {{ {servers} }}\n")
            out.append(f"    server {{ listen 127.0.0.1:{self.ports[name]} udp; "
                       f"proxy_pass {name}; {directives} access_log @DIR@/udp.log u; }}\n")
        return "".join(out)

    def run_impl(self, impl: str) -> dict:
        for e in (self.one, self.two, self.silent):
            with e._lock:
                e.received.clear()
        proxy = lab.Proxy(impl)
        self.addCleanup(proxy.stop)
        u.start_udp_stream(proxy, self.body(), list(self.ports.values()))
        got = {}
        # One session at a time, so that the log's order is the script's.
        script = [("dns", [b"a"], 1), ("dns", [b"bb"], 1), ("fire", [b"c"], 0),
                  ("pairs", [b"d", b"e"], 1), ("multi", [b"f"], 2),
                  ("dead", [b"g"], 1), ("dead", [b"h"], 1), ("dead", [b"i"], 1),
                  ("silent", [b"j"], 1), ("silent", [b"k"], 1)]
        path = os.path.join(proxy.tmp, "udp.log")
        for step, (name, datagrams, per) in enumerate(script):
            with u.UdpClient(self.ports[name]) as c:
                answers = []
                for d in datagrams:
                    answers += c.ask(d, per, 2.5 if name == "silent" else 1.5)
                got[f"{step}:{name}"] = answers
                u.wait_lines(proxy, path, step + 1, 3)
        lines = [mask(x) for x in u.wait_lines(proxy, path, len(script), 5)]
        received = {r: [d for _, d in getattr(self, r).received] for r in ("one", "two", "silent")}
        proxy.stop()
        errors = [re.sub(r"^.*?\*\d+ ", "", x) for x in proxy.error_log().splitlines()
                  if "udp " in x or "upstream" in x]
        return {"answers": got, "log": lines, "upstreams": received, "errors": errors}

    def test_same_sessions_as_nginx(self):
        ref = self.run_impl("nginx")
        cand = self.run_impl(CANDIDATE)
        self.assertEqual(cand["answers"], ref["answers"])
        self.assertEqual(cand["upstreams"], ref["upstreams"])
        self.assertEqual(cand["log"], ref["log"], "\n".join(ref["errors"]))
        # The error-log lines nginx writes for UDP sessions, in its words.
        for want in ("udp done, packets from/to client:1/1",
                     "recv() failed (111: Connection refused) while proxying and reading "
                     "from upstream, udp client: 127.0.0.1",
                     "upstream timed out (110: Connection timed out) while proxying "
                     "connection, udp client: 127.0.0.1"):
            self.assertTrue(any(want in x for x in ref["errors"]), (want, ref["errors"]))
            self.assertTrue(any(want in x for x in cand["errors"]), (want, cand["errors"]))


if __name__ == "__main__":
    lab.main()
