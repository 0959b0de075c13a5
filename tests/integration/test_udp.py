#!/usr/bin/env python3
"""UDP proxying (`listen ... udp`), through the client's eyes, the upstreams'
and the access log: DNS-like request/response with proxy_responses 1,
proxy_responses 0 and N, sessions of several datagrams ended by
proxy_timeout, proxy_requests, a dead upstream (ICMP port unreachable) that
is marked failed so the next session goes to the next server, an upstream
that never answers (502 after proxy_timeout, a failure of the server),
round robin and hash over client addresses, and TCP and UDP on one port.

The expected values were taken from Debian's nginx 1.22: run with
PROXY_IMPL=nginx to check them against it.

    python3 tests/integration/test_udp.py
"""

import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402
import udplab as u  # noqa: E402

IMPL = lab.impl_from_env()
setUpModule, tearDownModule = lab.module_fixtures(IMPL)

FORMAT = ("log_format u 'proto=$protocol status=$status sent=$bytes_sent "
          "received=$bytes_received upstream=\"$upstream_addr\" "
          "up_sent=\"$upstream_bytes_sent\" up_received=\"$upstream_bytes_received\" "
          "connect=\"$upstream_connect_time\" time=$session_time';\n")


class Udp(unittest.TestCase):
    def start(self, upstreams: str, server: str, balance: str = "") -> tuple:
        """A proxy with one `listen ... udp` server over `upstreams`; returns
        (proxy, port)."""
        port = u.free_udp_port()
        body = (FORMAT + f"    upstream g {{ {balance} {upstreams} }}\n"
                f"    server {{ listen 127.0.0.1:{port} udp; proxy_pass g; {server}\n"
                f"             access_log @DIR@/udp.log u; }}\n")
        proxy = lab.Proxy(IMPL)
        self.addCleanup(proxy.stop)
        u.start_udp_stream(proxy, body, [port])
        return proxy, port

    def echo(self, name: str, responses: int = 1, **kw) -> u.UdpEcho:
        e = u.UdpEcho(name, responses, **kw)
        self.addCleanup(e.stop)
        return e

    def lines(self, proxy, count: int, timeout: float = 5.0) -> list:
        got = u.wait_lines(proxy, os.path.join(proxy.tmp, "udp.log"), count, timeout)
        self.assertGreaterEqual(len(got), count, f"{got}\n{proxy.error_log()[-3000:]}")
        return [lab.parse_kv(line) for line in got]

    def test_dns_like_one_answer_per_query(self):
        dns = self.echo("dns")
        proxy, port = self.start(f"server {dns.addr};", "proxy_responses 1; proxy_timeout 5s;")
        with u.UdpClient(port) as c:
            for q in (b"q1", b"query-2"):
                self.assertEqual(c.ask(q), [b"dns:0:" + q])
        logs = self.lines(proxy, 2)
        self.assertEqual([(x["proto"], x["status"], x["sent"], x["received"]) for x in logs],
                         [("UDP", "200", "8", "2"), ("UDP", "200", "13", "7")])
        self.assertEqual(logs[0]["upstream"], dns.addr)
        self.assertEqual(logs[0]["connect"], "0.000")
        # Each query was its own session, each from its own proxy socket.
        self.assertEqual(len(dns.peers()), 2)

    def test_responses_zero_sends_and_ends(self):
        sink = self.echo("sink")
        proxy, port = self.start(f"server {sink.addr};", "proxy_responses 0; proxy_timeout 5s;")
        with u.UdpClient(port) as c:
            c.send(b"log-me")
            logs = self.lines(proxy, 1)
            self.assertEqual((logs[0]["status"], logs[0]["sent"], logs[0]["received"]),
                             ("200", "0", "6"))
            # The upstream's answer comes to a socket the session has closed.
            self.assertEqual(c.collect(1, 0.3), [])
        lab.wait_for(lambda: sink.count() >= 1, 2)
        self.assertEqual(sink.count(), 1)

    def test_responses_n_waits_for_all_of_them(self):
        two = self.echo("two", responses=2)
        proxy, port = self.start(f"server {two.addr};", "proxy_responses 2; proxy_timeout 3s;")
        with u.UdpClient(port) as c:
            self.assertEqual(c.ask(b"x", 2), [b"two:0:x", b"two:1:x"])
        (log,) = self.lines(proxy, 1)
        self.assertEqual((log["status"], log["sent"], log["up_received"]), ("200", "14", "14"))

    def test_fewer_responses_than_expected_is_502_after_timeout(self):
        one = self.echo("one", responses=1)
        proxy, port = self.start(f"server {one.addr};", "proxy_responses 2; proxy_timeout 1s;")
        start = time.monotonic()
        with u.UdpClient(port) as c:
            self.assertEqual(c.ask(b"x"), [b"one:0:x"])
            (log,) = self.lines(proxy, 1, timeout=5)
        took = time.monotonic() - start
        self.assertEqual(log["status"], "502")
        self.assertGreaterEqual(float(log["time"]), 0.9, log)
        self.assertLess(took, 4, f"ended {took:.2f}s after the request (proxy_timeout 1s)")
        self.assertIn("upstream timed out", proxy.error_log())

    def test_default_session_holds_the_client_until_timeout(self):
        e = self.echo("e")
        proxy, port = self.start(f"server {e.addr};", "proxy_timeout 1s;")
        with u.UdpClient(port) as c:
            for q in (b"a", b"bb", b"ccc"):
                self.assertEqual(c.ask(q), [b"e:0:" + q])
            (log,) = self.lines(proxy, 1)
        # One session: one upstream socket, all three requests, one line.
        self.assertEqual(len(e.peers()), 1)
        self.assertEqual((log["status"], log["received"], log["sent"]), ("200", "6", "18"))
        self.assertIn("udp timed out, packets from/to client:3/3", proxy.error_log())

    def test_proxy_requests_ends_session_after_n(self):
        e = self.echo("e")
        proxy, port = self.start(f"server {e.addr};",
                                 "proxy_requests 2; proxy_responses 1; proxy_timeout 5s;")
        with u.UdpClient(port) as c:
            for q in (b"1", b"2", b"3", b"4"):
                self.assertEqual(c.ask(q), [b"e:0:" + q])
        logs = self.lines(proxy, 2)
        self.assertEqual([x["received"] for x in logs], ["2", "2"])
        self.assertEqual(len(e.peers()), 2)

    def test_dead_upstream_fails_and_next_session_goes_on(self):
        live = self.echo("live")
        dead = f"127.0.0.1:{u.free_udp_port()}"
        proxy, port = self.start(f"server {dead}; server {live.addr};",
                                 "proxy_responses 1; proxy_timeout 2s;")
        answers = []
        for _ in range(4):
            with u.UdpClient(port) as c:
                answers.append(c.ask(b"q", 1, 3))
        # The first try meets the ICMP error: nginx hands the client an
        # empty datagram and marks the server failed (max_fails=1); the
        # other sessions all go to the live one.
        self.assertEqual(answers, [[b""], [b"live:0:q"], [b"live:0:q"], [b"live:0:q"]])
        logs = self.lines(proxy, 4)
        self.assertEqual([x["upstream"] for x in logs], [dead] + [live.addr] * 3)
        self.assertEqual([x["status"] for x in logs], ["200"] * 4)
        self.assertIn("Connection refused) while proxying and reading from upstream",
                      proxy.error_log())

    def test_silent_upstream_is_502_and_counts_as_a_failure(self):
        silent = self.echo("silent", responses=0)
        live = self.echo("live")
        proxy, port = self.start(f"server {silent.addr}; server {live.addr};",
                                 "proxy_responses 1; proxy_timeout 1s;")
        with u.UdpClient(port) as c:
            self.assertEqual(c.ask(b"q", 1, 3), [])
        # Failed once (max_fails=1): the next sessions skip it for 10 s.
        for _ in range(3):
            with u.UdpClient(port) as c:
                self.assertEqual(c.ask(b"q"), [b"live:0:q"])
        logs = self.lines(proxy, 4)
        self.assertEqual([x["status"] for x in logs], ["502", "200", "200", "200"])
        self.assertEqual(logs[0]["upstream"], silent.addr)

    def test_round_robin_and_consistent_hash_over_clients(self):
        a, b = self.echo("a"), self.echo("b")
        proxy, port = self.start(f"server {a.addr}; server {b.addr};",
                                 "proxy_responses 1; proxy_timeout 5s;")
        got = []
        for _ in range(4):
            with u.UdpClient(port) as c:
                got.append(c.ask(b"q")[0].split(b":")[0])
        self.assertEqual(sorted(got), [b"a", b"a", b"b", b"b"])
        proxy.stop()
        proxy, port = self.start(f"server {a.addr}; server {b.addr};",
                                 "proxy_responses 1; proxy_timeout 5s;",
                                 balance="hash $remote_addr$remote_port consistent;")
        with u.UdpClient(port) as c:
            first = [c.ask(b"q")[0].split(b":")[0] for _ in range(3)]
        self.assertEqual(len(set(first)), 1, first)

    def test_reload_keeps_the_udp_socket_and_its_session(self):
        e = self.echo("e")
        proxy, port = self.start(f"server {e.addr};", "proxy_timeout 3s;")
        with u.UdpClient(port) as c:
            self.assertEqual(c.ask(b"before"), [b"e:0:before"])
            os.kill(proxy.pid, signal.SIGHUP)
            time.sleep(0.5)  # the reload is applied by the workers' loops
            self.assertEqual(c.ask(b"after"), [b"e:0:after"])
        # proxyd keeps the socket, and the session on it (one upstream
        # socket); nginx's new workers start a new session.
        self.assertEqual(len(e.peers()), 1 if IMPL == "proxyd" else 2)
        self.assertIsNone(proxy.proc.poll())

    def test_tcp_and_udp_share_a_port(self):
        e = self.echo("udp")
        tcp = lab.AnswerServer("tcp", close_after=True)
        self.addCleanup(tcp.stop)
        port = u.free_udp_port()
        body = (f"    server {{ listen 127.0.0.1:{port} udp; proxy_pass {e.addr};"
                f" proxy_responses 1; }}\n"
                f"    server {{ listen 127.0.0.1:{port}; proxy_pass {tcp.addr}; }}\n")
        proxy = lab.Proxy(IMPL)
        self.addCleanup(proxy.stop)
        u.start_udp_stream(proxy, body, [port], [port])
        with u.UdpClient(port) as c:
            self.assertEqual(c.ask(b"hi"), [b"udp:0:hi"])
        with lab.connect(port) as s:
            s.sendall(b"x\n")
            self.assertEqual(lab.recv_until_closed(s)[0], b"tcp\n")


if __name__ == "__main__":
    lab.main()
