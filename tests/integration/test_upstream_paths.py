#!/usr/bin/env python3
"""Upstream paths no other test took:

- `proxy_next_upstream_timeout` caps the time spent trying servers: with
  every server dropping SYNs, a 0.5 s connect timeout and a 0.95 s cap, the
  session stops after the second attempt (nginx: the next server is tried
  only while less than the cap has passed since the first, so attempt 1 ends
  at 0.5 s < 0.95 s, attempt 2 at 1.0 s >= 0.95 s; a timer is never early, so
  only a first attempt 0.45 s late could change the count) instead of trying
  all five; without the cap all five are tried.  The same test passes against nginx:
  `PROXY_IMPL=nginx python3 tests/integration/test_upstream_paths.py`.
- IPv6: a listener on [::1] and upstream servers on [::1], the session
  forwarded and logged with the IPv6 addresses.

    python3 tests/integration/test_upstream_paths.py
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402


setUpModule, tearDownModule = lab.module_fixtures(lab.impl_from_env())


def ipv6_loopback() -> bool:
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


class UpstreamCase(lab.ProxydCase):
    IMPL = TAG = lab.impl_from_env()


class NextUpstreamTimeout(UpstreamCase):

    def attempts(self, next_timeout):
        holes = []
        for _ in range(5):
            b = self.backend(lab.Blackhole)
            if not b.works:
                self.skipTest("this kernel accepts SYNs beyond a full listen(0) queue")
            holes.append(b)
        cfg = lab.simple_config([b.addr for b in holes], proxy_connect_timeout="500ms")
        cfg.servers[0].proxy_next_upstream_timeout = next_timeout
        proxy = self.start(cfg)
        t0 = time.monotonic()
        with lab.connect(proxy.listen_port()) as s:
            _, how, _ = lab.recv_until_closed(s, 10)
        took = time.monotonic() - t0
        lines = proxy.access_log_lines(1, timeout=3)
        self.assertEqual(len(lines), 1, f"session ended ({how}), no log line\n"
                                        f"{proxy.diagnostics()}")
        line = lab.parse_kv(lines[0])
        return lab.split_list(line["upstream"]), line["status"], took

    def test_the_cap_stops_the_attempts(self):
        tried, status, took = self.attempts("950ms")
        self.report(f"proxy_next_upstream_timeout 950ms, connect timeout 500ms, 5 servers: "
               f"{len(tried)} attempts, status {status}, {took:.2f} s")
        self.assertEqual(status, "502")
        self.assertEqual(len(tried), 2, tried)
        self.assertLess(took, 2.0)

    def test_without_the_cap_every_server_is_tried(self):
        tried, status, took = self.attempts(None)
        self.report(f"no proxy_next_upstream_timeout, 5 servers: {len(tried)} attempts, "
               f"status {status}, {took:.2f} s")
        self.assertEqual(status, "502")
        self.assertEqual(len(tried), 5, tried)


class Ipv6(UpstreamCase):

    def test_listen_and_upstream_on_ipv6_loopback(self):
        if not ipv6_loopback():
            self.skipTest("no IPv6 loopback (::1) on this host")
        echo1 = lab.EchoServer(host="::1")
        echo2 = lab.EchoServer(host="::1")
        self.addCleanup(echo1.stop)
        self.addCleanup(echo2.stop)
        cfg = lab.simple_config([echo1.addr, echo2.addr], listen_host="::1",
                                listen=lab.free_port("::1"))
        proxy = self.start(cfg)
        for i in range(4):
            with lab.connect(proxy.listen_port(), host="::1") as s:
                payload = f"v6 session {i}\n".encode()
                s.sendall(payload)
                self.assertEqual(lab.recv_exactly(s, len(payload)), payload)
        lines = [lab.parse_kv(ln) for ln in proxy.access_log_lines(4, timeout=3)]
        self.report(f"IPv6: {len(lines)} sessions, upstreams "
               f"{sorted(set(ln['upstream'] for ln in lines))}, remote {lines[0]['remote']}, "
               f"server {lines[0]['server']}")
        self.assertEqual(len(lines), 4)
        for ln in lines:
            self.assertEqual(ln["status"], "200")
            self.assertEqual(ln["remote"], "::1")
            self.assertEqual(ln["server"], "::1")
            self.assertEqual(ln["sport"], str(proxy.listen_port()))
        # nginx writes an IPv6 upstream as [::1]:port; round robin uses both.
        self.assertEqual(sorted(set(ln["upstream"] for ln in lines)),
                         sorted([echo1.addr, echo2.addr]))
        self.assertEqual(echo1.accepted + echo2.accepted, 4)
        for echo in (echo1, echo2):
            self.assertTrue(all(s["peer"][0] == "::1" for s in echo.sessions))


if __name__ == "__main__":
    lab.main()
