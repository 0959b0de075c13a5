#!/usr/bin/env python3
"""set, return and proxy_pass with variables, through the client's eyes and
the access log: a `return` text with variables then the close; `set` feeding
`proxy_pass $var` to one of two groups; a value naming no group (500, nginx's
message); a value that is an address (a group of its own).

Runs against PROXY_IMPL=proxyd (default) or PROXY_IMPL=nginx (the reference).

    python3 tests/integration/test_routing.py
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

FORMAT = ("status=$status sent=$bytes_sent received=$bytes_received "
          "upstream=\"$upstream_addr\" pool=\"$pool\"")

setUpModule, tearDownModule = lab.module_fixtures(lab.impl_from_env())


class Routing(lab.ProxydCase):
    IMPL = TAG = lab.impl_from_env()

    def start_servers(self, upstreams, servers):
        cfg = lab.Config(upstreams=upstreams, servers=servers, log_formats={"routing": FORMAT})
        return self.start(cfg)

    def server(self, name, proxy_pass, directives, port=None):
        return lab.ServerBlock(name, port or lab.free_port(), proxy_pass, log_format="routing",
                               directives=directives)

    def log_line(self, proxy, server):
        lines = proxy.access_log_lines(1, server=server)
        self.assertEqual(len(lines), 1, f"{lines}\n{proxy.error_log()[-3000:]}")
        return lab.parse_kv(lines[0])

    def test_return_text_with_variables_then_close(self):
        port = lab.free_port()
        sb = self.server("probe", None, [
            ("set", "$pool probe"),
            ("return", '"ok $pool $remote_addr:$server_port\\n\\ttab \\"q\\""')], port)
        proxy = self.start_servers([], [sb])
        with lab.connect(port) as s:
            data, how, _ = lab.recv_until_closed(s)
        want = f'ok probe 127.0.0.1:{port}\n\ttab "q"'.encode()
        self.assertEqual((data, how), (want, "eof"))
        f = self.log_line(proxy, "probe")
        self.assertEqual((f["status"], f["sent"], f["received"]), ("200", str(len(want)), "0"))
        self.assertEqual((f["upstream"], f["pool"]), ("-", "probe"))

    def test_set_chooses_one_of_two_groups(self):
        blue = self.backend(lab.AnswerServer, "blue")
        green = self.backend(lab.AnswerServer, "green")
        ports = [lab.free_port(), lab.free_port()]
        ups = [lab.Upstream(f"pool{ports[0]}", [blue.addr]),
               lab.Upstream(f"pool{ports[1]}", [green.addr])]
        servers = [self.server(f"s{i}", "$pool", [("set", "$pool pool$server_port")], p)
                   for i, p in enumerate(ports)]
        proxy = self.start_servers(ups, servers)
        for i, (port, want) in enumerate(zip(ports, (b"blue\n", b"green\n"))):
            with lab.connect(port) as s:
                s.sendall(b"who?\n")
                self.assertEqual(lab.recv_exactly(s, len(want)), want)
            f = self.log_line(proxy, f"s{i}")
            self.assertEqual((f["status"], f["upstream"], f["pool"]),
                             ("200", (blue, green)[i].addr, f"pool{port}"))

    def test_value_naming_no_group_is_500(self):
        sb = self.server("bad", "$pool", [("set", "$pool nosuch")])
        proxy = self.start_servers([lab.Upstream("other", [f"127.0.0.1:{lab.refused_port()}"])],
                                   [sb])
        with lab.connect(sb.listen) as s:
            data, how, _ = lab.recv_until_closed(s)
        self.assertEqual(data, b"")
        f = self.log_line(proxy, "bad")
        self.assertEqual((f["status"], f["sent"], f["upstream"]), ("500", "0", "-"))
        self.assertIn('no port in upstream "nosuch", client: 127.0.0.1', proxy.error_log())

    def test_address_result_is_a_group_of_its_own(self):
        echo = self.backend(lab.EchoServer)
        refused = f"127.0.0.1:{lab.refused_port()}"
        good = self.server("addr", "$pool", [("set", f"$pool {echo.addr}")])
        gone = self.server("gone", "$pool", [("set", f"$pool {refused}")])
        proxy = self.start_servers([], [good, gone])
        with lab.connect(good.listen) as s:
            s.sendall(b"hello\n")
            self.assertEqual(lab.recv_exactly(s, 6), b"hello\n")
        f = self.log_line(proxy, "addr")
        self.assertEqual((f["status"], f["upstream"]), ("200", echo.addr))
        # One try, and nginx's 502 for the refused connect.
        with lab.connect(gone.listen) as s:
            lab.recv_until_closed(s)
        f = self.log_line(proxy, "gone")
        self.assertEqual((f["status"], f["upstream"]), ("502", refused))


if __name__ == "__main__":
    lab.main()
