#!/usr/bin/env python3
"""Limits: allow/deny per [server] (403 in the access log), max_conns per
upstream server, worker_connections per worker, and the EMFILE storm: with
a low worker_rlimit_nofile proxyd survives a bounded connection storm on
loopback without spinning (its CPU time is printed) and serves again after.

    python3 tests/integration/test_limits.py
"""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402


setUpModule, tearDownModule = lab.module_fixtures("proxyd")


class LimitCase(lab.ProxydCase):
    """The cases of this file (lab.ProxydCase: start, backend, status)."""


class AccessRules(LimitCase):

    def test_denied_client_is_closed_with_403_and_no_upstream(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.servers[0].extra = [("deny", "127.0.0.1"), ("allow", "all")]
        proxy = self.start(cfg)
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"hello\n")
            data, how, _ = lab.recv_until_closed(s, 3)
        self.assertEqual(data, b"")
        f = lab.parse_kv(proxy.access_log_lines(1)[0])
        self.assertEqual(f["status"], "403")
        self.assertEqual((f["upstream"], f["up_sent"], f["up_received"], f["up_connect"]),
                         ("-", "-", "-", "-"))
        self.assertEqual(echo.accepted, 0)
        with open(os.path.join(proxy.tmp, "error_main.log")) as fh:
            self.assertIn("access forbidden by rule", fh.read())

    def test_allowed_client_first_match_wins(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.servers[0].extra = [("allow", "127.0.0.0/8"), ("deny", "all")]
        proxy = self.start(cfg)
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"hello\n")
            self.assertEqual(lab.recv_exactly(s, 6), b"hello\n")
        self.assertEqual(lab.parse_kv(proxy.access_log_lines(1)[0])["status"], "200")


class MaxConns(LimitCase):

    def test_max_conns_caps_sessions_per_server(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.start(lab.simple_config([f"{echo.addr} max_conns=1"]))
        first = lab.connect(proxy.listen_port())
        self.addCleanup(first.close)
        first.sendall(b"a")
        self.assertEqual(lab.recv_exactly(first, 1), b"a")
        with lab.connect(proxy.listen_port()) as s:
            data, how, _ = lab.recv_until_closed(s, 3)
        self.assertEqual(data, b"")
        f = lab.parse_kv(proxy.access_log_lines(1)[0])
        self.assertEqual(f["status"], "502")
        self.assertEqual(f["upstream"], "backends")  # no live upstreams: the group's name
        first.close()
        proxy.access_log_lines(2)
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"b")
            self.assertEqual(lab.recv_exactly(s, 1), b"b")


class WorkerConnections(LimitCase):

    def test_sessions_beyond_worker_connections_are_closed(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.worker_processes = 1
        cfg.main_extra = [("worker_connections", "4")]   # two sessions (client + upstream each)
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        held = []
        for i in range(2):
            s = lab.connect(proxy.listen_port())
            self.addCleanup(s.close)
            s.sendall(b"x")
            self.assertEqual(lab.recv_exactly(s, 1), b"x")
            held.append(s)
        with lab.connect(proxy.listen_port()) as s:
            data, how, _ = lab.recv_until_closed(s, 3)
        self.assertEqual(data, b"")
        status, _, body = lab.http_request(cfg.status_listen, "/stub_status")
        self.report(f"worker_connections 4, 3 clients: {body!r}")
        self.assertIn(b"\n 3 2 2 \n", body)   # accepts handled requests
        with open(os.path.join(proxy.tmp, "error.log")) as fh:
            self.assertIn("4 worker_connections are not enough", fh.read())
        for s in held:
            s.close()
        time.sleep(0.2)
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"y")
            self.assertEqual(lab.recv_exactly(s, 1), b"y")


class Emfile(LimitCase):

    def test_storm_with_low_rlimit_does_not_spin(self):
        # Runs under ASan+UBSan too: UBSan's vptr check needs a free
        # descriptor (a pipe()), which the workers' descriptor reserve for
        # the status page now leaves.
        echo = self.backend(lab.EchoServer, backlog=512)
        cfg = lab.simple_config([echo.addr])
        cfg.worker_processes = 1
        cfg.main_extra = [("worker_rlimit_nofile", "48")]
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        storm = []
        try:
            for _ in range(150):   # bounded: 150 connections on loopback
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                try:
                    s.connect(("127.0.0.1", proxy.listen_port()))
                except BlockingIOError:
                    pass
                storm.append(s)
            time.sleep(0.5)    # proxyd reaches its descriptor limit
            cpu0 = lab.cpu_seconds(proxy.pid)
            t0 = time.monotonic()
            time.sleep(3.0)
            used = lab.cpu_seconds(proxy.pid) - cpu0
            wall = time.monotonic() - t0
            self.assertTrue(proxy.alive(), "proxyd died in the storm")
            with open(os.path.join(proxy.tmp, "error.log")) as fh:
                log = fh.read()
            pauses = log.count("pauses accepting for 500 ms")
            self.report(f"EMFILE storm (150 connections, RLIMIT_NOFILE 48): proxyd used "
                   f"{used:.3f} s CPU in {wall:.2f} s ({100 * used / wall:.1f}% of a core); "
                   f"{pauses} accept pauses logged")
            self.assertGreater(pauses, 0)
            self.assertLess(used / wall, 0.5)
        finally:
            for s in storm:
                s.close()
        # Descriptors free up: proxyd serves again.
        def serves() -> bool:
            try:
                with lab.connect(proxy.listen_port(), timeout=2) as s:
                    s.sendall(b"again\n")
                    return lab.recv_exactly(s, 6) == b"again\n"
            except OSError:
                return False

        self.wait(serves, 5, "service after the storm", interval=0.2)
        doc = json.loads(lab.http_request(cfg.status_listen, "/status")[2])
        self.assertGreater(doc["workers"][0]["accept_pauses"], 0)
        self.assertEqual(doc["process"]["rlimit_nofile"], 48)


if __name__ == "__main__":
    lab.main()
