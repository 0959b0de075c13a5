#!/usr/bin/env python3
"""nginx 1.25.5's `pass`: a connection accepted on one [server] goes on as if
the listener of another address had accepted it (the access log line is the
second server's, with its $server_port and the same $connection); a value
with variables; an address no listener has (200, "port not found"); a pass
to itself (nginx's "stream pass cycle" after 10 passes, 500); and a pass
after ssl_preread read the client's bytes (500, nginx's refusal).

Debian's nginx 1.22 has no `pass` (1.25.5): proxyd only.

    python3 tests/integration/test_pass.py
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

FORMAT = "status=$status port=$server_port conn=$connection upstream=\"$upstream_addr\""

setUpModule, tearDownModule = lab.module_fixtures(lab.impl_from_env())


@unittest.skipIf(lab.impl_from_env() == "nginx", "nginx 1.22 has no pass (1.25.5)")
class Pass(lab.ProxydCase):
    IMPL = TAG = lab.impl_from_env()

    def start_servers(self, upstreams, servers):
        cfg = lab.Config(upstreams=upstreams, servers=servers, log_formats={"pass": FORMAT})
        return self.start(cfg)

    def server(self, name, proxy_pass, directives, port=None):
        return lab.ServerBlock(name, port or lab.free_port(), proxy_pass, log_format="pass",
                               directives=directives)

    def only_line(self, proxy, server):
        lines = proxy.access_log_lines(1, server=server)
        self.assertEqual(len(lines), 1, f"{lines}\n{proxy.error_log()[-3000:]}")
        return lab.parse_kv(lines[0])

    def test_pass_to_another_listener(self):
        answer = self.backend(lab.AnswerServer, "behind")
        inner = self.server("inner", "behind", [])
        outer = self.server("outer", None, [("pass", f"127.0.0.1:{inner.listen}")])
        proxy = self.start_servers([lab.Upstream("behind", [answer.addr])], [outer, inner])
        for _ in range(2):
            with lab.connect(outer.listen) as s:
                s.sendall(b"who?\n")
                self.assertEqual(lab.recv_exactly(s, len(b"behind\n")), b"behind\n")
        lines = proxy.access_log_lines(2, server="inner")
        self.assertEqual(len(lines), 2, proxy.error_log()[-3000:])
        fields = [lab.parse_kv(line) for line in lines]
        for f in fields:
            self.assertEqual((f["status"], f["port"], f["upstream"]),
                             ("200", str(inner.listen), answer.addr))
        # The passing server writes no line of its own: the session is the inner one's.
        self.assertEqual(proxy.access_log_lines(server="outer"), [])
        self.assertNotEqual(fields[0]["conn"], fields[1]["conn"])

    def test_pass_with_variables(self):
        answer = self.backend(lab.AnswerServer, "var")
        inner = self.server("inner", "behind", [])
        outer = self.server("outer", None, [("set", f"$target 127.0.0.1:{inner.listen}"),
                                            ("pass", "$target")])
        proxy = self.start_servers([lab.Upstream("behind", [answer.addr])], [outer, inner])
        with lab.connect(outer.listen) as s:
            s.sendall(b"who?\n")
            self.assertEqual(lab.recv_exactly(s, 4), b"var\n")
        self.assertEqual(self.only_line(proxy, "inner")["status"], "200")

    def test_no_listener_there(self):
        nowhere = lab.free_port()
        outer = self.server("outer", None, [("pass", f"127.0.0.1:{nowhere}")])
        proxy = self.start_servers([], [outer])
        with lab.connect(outer.listen) as s:
            data, how, _ = lab.recv_until_closed(s)
        self.assertEqual(data, b"")
        self.assertEqual(self.only_line(proxy, "outer")["status"], "200")
        self.assertIn(f'port not found for "127.0.0.1:{nowhere}"', proxy.error_log())

    def test_bad_value_is_500(self):
        outer = self.server("outer", None, [("set", "$target 127.0.0.1"), ("pass", "$target")])
        proxy = self.start_servers([], [outer])
        with lab.connect(outer.listen) as s:
            lab.recv_until_closed(s)
        self.assertEqual(self.only_line(proxy, "outer")["status"], "500")
        self.assertIn('no port in pass "127.0.0.1"', proxy.error_log())

    def test_pass_to_itself_is_a_cycle(self):
        port = lab.free_port()
        loop = self.server("loop", None, [("pass", f"127.0.0.1:{port}")], port)
        proxy = self.start_servers([], [loop])
        with lab.connect(port) as s:
            lab.recv_until_closed(s)
        self.assertEqual(self.only_line(proxy, "loop")["status"], "500")
        self.assertIn("stream pass cycle", proxy.error_log())

    def test_no_pass_after_preread(self):
        inner = self.server("inner", None, [("return", "inner")])
        outer = self.server("outer", None, [("ssl_preread", "on"), ("preread_timeout", "300ms"),
                                            ("pass", f"127.0.0.1:{inner.listen}")])
        proxy = self.start_servers([], [outer, inner])
        with lab.connect(outer.listen) as s:
            s.sendall(lab.client_hello("api.example.com"))
            data, _, _ = lab.recv_until_closed(s)
        self.assertEqual(data, b"")
        self.assertEqual(self.only_line(proxy, "outer")["status"], "500")
        self.assertIn("cannot pass connection with preread data", proxy.error_log())


if __name__ == "__main__":
    lab.main()
