#!/usr/bin/env python3
"""set, return and proxy_pass with variables: one nginx.conf run by Debian's
nginx and, imported with --import-nginx, by proxyd (Proxy.start_stream), on
the same ports and backends.  The bytes a `return` sends (escapes, variables)
and the access-log lines (status, bytes, $upstream_addr) of set +
proxy_pass $var to two groups, to an address, and to an unknown group name
must be the same.

    python3 tests/interop/test_nginx_routing.py
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

CANDIDATE = os.environ.get("INTEROP_CANDIDATE", "proxyd")

LOG_FORMAT = ("'status=$status sent=$bytes_sent received=$bytes_received "
              "upstream=\"$upstream_addr\" up_sent=$upstream_bytes_sent pool=\"$pool\"'")

# nginx's escapes inside quotes: \n \t \" \\ become the bytes; a variable
# next to text is ${...}.
RETURN = r'"ok $remote_addr:$server_port\n\t\"q\" x\\y ${pool}!\n"'

setUpModule, tearDownModule = lab.module_fixtures("nginx")


class Routing(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # Each answers one line and closes: the session ends there.
        cls.blue = lab.AnswerServer("blue", close_after=True)
        cls.green = lab.AnswerServer("green", close_after=True)
        cls.refused = f"127.0.0.1:{lab.refused_port()}"
        names = ["probe", "blue", "green", "nosuch", "address", "refused", "plain"]
        cls.ports = {n: lab.free_port() for n in names}

    @classmethod
    def tearDownClass(cls):
        cls.blue.stop()
        cls.green.stop()

    def body(self) -> str:
        pools = {"probe": "probe", "blue": "blue", "green": "green", "nosuch": "nosuch",
                 "address": self.green.addr, "refused": self.refused}
        s = [f"    log_format routing {LOG_FORMAT};\n",
             f"    upstream blue {{ server {self.blue.addr}; }}\n",
             f"    upstream green {{ server {self.green.addr}; }}\n"]
        for name, port in self.ports.items():
            s.append("    server {\n")
            s.append(f"        listen 127.0.0.1:{port};\n")
            if name == "plain":
                # $pool, named by set elsewhere only, is empty here (not "-").
                s.append("        proxy_pass blue;\n")
            else:
                s.append(f"        set $pool {pools[name]};\n")
                s.append(f"        return {RETURN};\n" if name == "probe" else
                         "        proxy_pass $pool;\n")
            s.append(f"        access_log @DIR@/access_{name}.log routing;\n")
            s.append(f"        error_log @DIR@/error_{name}.log info;\n")
            s.append("    }\n")
        return "".join(s)

    def run_sessions(self, impl: str) -> dict:
        """Every server once; what the client got and each access-log line."""
        proxy = lab.Proxy(impl)
        try:
            proxy.start_stream(self.body(), list(self.ports.values()))
            out = {}
            for name, port in self.ports.items():
                with lab.connect(port) as s:
                    if name != "probe":
                        s.sendall(b"who?\n")
                    data, how, _ = lab.recv_until_closed(s, timeout=3)
                if name in ("nosuch", "refused") and how != "timeout":
                    # Closed with the client's line unread: a reset or an EOF
                    # depending on whether the line had arrived yet.
                    how = "closed"
                out[name] = (data, how)
            for name in self.ports:
                out[f"log {name}"] = self.log_line(proxy, name)
                out[f"error {name}"] = self.error_kind(proxy, name)
            return out
        finally:
            proxy.stop()

    @staticmethod
    def log_line(proxy: lab.Proxy, name: str) -> str:
        path = os.path.join(proxy.tmp, f"access_{name}.log")
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    lines = f.read().splitlines()
                if lines:
                    return "\n".join(lines)
            time.sleep(0.02)
        return "<none>"

    @staticmethod
    def error_kind(proxy: lab.Proxy, name: str) -> str:
        """The error-log message of a failed route, without the time, pid and
        connection number (which differ)."""
        with open(os.path.join(proxy.tmp, f"error_{name}.log"), errors="replace") as f:
            for line in f.read().splitlines():
                if "[error]" in line:
                    return line.split(" ", 5)[-1].split(", bytes")[0]
        return ""

    def test_same_bytes_and_log_lines_as_nginx(self):
        reference = self.run_sessions("nginx")
        want = (f"ok 127.0.0.1:{self.ports['probe']}\n\t\"q\" x\\y probe!\n").encode()
        self.assertEqual(reference["probe"], (want, "eof"))
        self.assertEqual(reference["blue"][0], b"blue\n")
        self.assertIn('pool=""', reference["log plain"])
        self.assertIn('no port in upstream "nosuch"', reference["error nosuch"])
        if lab.unavailable_reason(CANDIDATE) is not None:
            self.skipTest(f"{lab.unavailable_reason(CANDIDATE)}; the nginx reference run passed")
        candidate = self.run_sessions(CANDIDATE)
        for key in reference:
            with self.subTest(key):
                self.assertEqual(candidate[key], reference[key])


if __name__ == "__main__":
    lab.main()
