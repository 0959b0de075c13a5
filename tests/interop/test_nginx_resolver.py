#!/usr/bin/env python3
"""proxy_pass $var naming a host, with a `resolver`: one nginx.conf run by
Debian's nginx 1.22 and, imported with --import-nginx, by proxyd, both asking
the same DNS server of the test's own (tests/lib/dnslab.py).  A name that
resolves is connected to; NXDOMAIN, SERVFAIL, REFUSED and a server that never
answers end the session as nginx does, with nginx's error line ("X could not
be resolved (3: Host not found)") and the same access-log line.

    python3 tests/interop/test_nginx_resolver.py
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dnslab  # noqa: E402
import proxylab as lab  # noqa: E402

CANDIDATE = os.environ.get("INTEROP_CANDIDATE", "proxyd")
LOG_FORMAT = "'status=$status upstream=\"$upstream_addr\" received=$bytes_received'"

setUpModule, tearDownModule = lab.module_fixtures("nginx")


class Resolver(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = lab.AnswerServer("backend", close_after=True)
        cls.dns = dnslab.DnsServer()
        cls.dns.set("good.test", a=["127.0.0.1"], ttl=1)
        cls.dns.set("gone.test")  # known to the zone, but asked as below
        cls.dns.fail("gone.test", "nxdomain")
        cls.dns.set("bad.test")
        cls.dns.fail("bad.test", "servfail")
        cls.dns.set("refusing.test")
        cls.dns.fail("refusing.test", "refused")
        cls.dns.set("silent.test")
        cls.dns.fail("silent.test", "timeout")
        cls.names = ["good", "gone", "bad", "refusing", "silent"]
        cls.ports = {n: lab.free_port() for n in cls.names}

    @classmethod
    def tearDownClass(cls):
        cls.backend.stop()
        cls.dns.stop()

    def body(self) -> str:
        s = [f"    resolver {self.dns.addr} valid=1s ipv6=off;\n",
             "    resolver_timeout 1s;\n",
             f"    log_format names {LOG_FORMAT};\n"]
        for name, port in self.ports.items():
            s.append("    server {\n")
            s.append(f"        listen 127.0.0.1:{port};\n")
            s.append(f"        set $target {name}.test:{self.backend.port};\n")
            s.append("        proxy_pass $target;\n")
            s.append(f"        access_log @DIR@/access_{name}.log names;\n")
            s.append(f"        error_log @DIR@/error_{name}.log info;\n")
            s.append("    }\n")
        return "".join(s)

    def run_sessions(self, impl: str) -> dict:
        proxy = lab.Proxy(impl)
        try:
            proxy.start_stream(self.body(), list(self.ports.values()))
            out = {}
            for name, port in self.ports.items():
                with lab.connect(port) as s:
                    s.sendall(b"who?\n")
                    data, how, _ = lab.recv_until_closed(s, timeout=5)
                out[name] = data
            for name in self.ports:
                out[f"log {name}"] = self.log_line(proxy, name)
                out[f"error {name}"] = self.error_line(proxy, name)
            return out
        finally:
            proxy.stop()

    @staticmethod
    def log_line(proxy: lab.Proxy, name: str) -> str:
        path = os.path.join(proxy.tmp, f"access_{name}.log")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    lines = f.read().splitlines()
                if lines:
                    return "\n".join(lines)
            time.sleep(0.02)
        return "<none>"

    @staticmethod
    def error_line(proxy: lab.Proxy, name: str) -> str:
        """The [error] message without time, pid and connection number."""
        with open(os.path.join(proxy.tmp, f"error_{name}.log"), errors="replace") as f:
            for line in f.read().splitlines():
                if "[error]" in line:
                    return line.split(" ", 5)[-1].split(", client")[0]
        return ""

    def test_same_answers_logs_and_errors_as_nginx(self):
        reference = self.run_sessions("nginx")
        self.assertEqual(reference["good"], b"backend\n")
        self.assertEqual(reference["error gone"],
                         "gone.test could not be resolved (3: Host not found)")
        if lab.unavailable_reason(CANDIDATE) is not None:
            self.skipTest(f"{lab.unavailable_reason(CANDIDATE)}; the nginx reference run passed")
        candidate = self.run_sessions(CANDIDATE)
        for key in reference:
            with self.subTest(key):
                self.assertEqual(candidate[key], reference[key])


if __name__ == "__main__":
    lab.main()
