#!/usr/bin/env python3
"""limit_conn and the proxy rates on loopback: N+1 sessions of one key with
`limit_conn addr N` leave one closed with 503, nginx's log line and
$limit_conn_status REJECTED; a dry run closes nothing; two worker threads
share one count; the counts stay right across a reload, and another key
for a kept zone rejects the reload; proxy_download_rate and
proxy_upload_rate hold a 256 KiB transfer at 128k/s to about two seconds
(the figures are printed).

    python3 tests/integration/test_limit_conn.py
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402


setUpModule, tearDownModule = lab.module_fixtures("proxyd")

FMT = "status=$status limit=$limit_conn_status received=$bytes_received sent=$bytes_sent"
ZONE = ("limit_conn_zone", "$binary_remote_addr zone=addr:1m")
SIZE = 256 * 1024


class BlobServer(lab.Backend):
    """Sends SIZE bytes to each client, then closes."""

    def handle(self, conn, peer):
        conn.sendall(b"d" * SIZE)


class LimitConnCase(lab.ProxydCase):

    def limited(self, limit: int, *extra, workers=None):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr], fmt=FMT)
        cfg.main_extra = [ZONE]
        cfg.worker_processes = workers
        cfg.servers[0].extra = [("limit_conn", f"addr {limit}"), *extra]
        return self.start(cfg), cfg

    def hold(self, proxy, n: int) -> list:
        """n sessions, each shown to be proxied (an echo)."""
        held = []
        for i in range(n):
            s = lab.connect(proxy.listen_port())
            self.addCleanup(s.close)
            s.sendall(b"ping\n")
            self.assertEqual(lab.recv_exactly(s, 5), b"ping\n", f"session {i}")
            held.append(s)
        return held

    def rejected(self, proxy) -> bool:
        """Whether one more session is closed without an echo."""
        with lab.connect(proxy.listen_port()) as s:
            try:
                s.sendall(b"ping\n")
            except OSError:
                return True
            data, _, _ = lab.recv_until_closed(s, 3)
        return data == b""

    def error_text(self, proxy) -> str:
        """The main and the server's error logs."""
        return proxy.error_log()


class Limits(LimitConnCase):

    def test_one_over_the_limit_is_closed_with_503_and_the_log_line(self):
        proxy, _ = self.limited(2)
        held = self.hold(proxy, 2)
        self.assertTrue(self.rejected(proxy))
        line = proxy.access_log_lines(1)[0]
        self.assertIn("status=503 limit=REJECTED received=0 sent=0", line)
        port = proxy.listen_port()
        lab.wait_for(lambda: "limiting" in self.error_text(proxy), 2)
        self.assertIn('[error] ', self.error_text(proxy))
        self.assertIn(f'limiting connections by zone "addr" while initializing session, '
                      f'client: 127.0.0.1, server: 127.0.0.1:{port}\n', self.error_text(proxy))
        # A session that ends gives its count back.
        held[0].close()
        lab.wait_for(lambda: len(proxy.access_log_lines()) >= 2, 2)
        self.assertIn("status=200 limit=PASSED", proxy.access_log_lines()[1])
        self.hold(proxy, 1)
        self.assertTrue(self.rejected(proxy))

    def test_dry_run_logs_and_closes_nothing(self):
        proxy, _ = self.limited(1, ("limit_conn_dry_run", "on"), ("limit_conn_log_level", "warn"))
        self.hold(proxy, 3)
        lab.wait_for(lambda: "dry run" in self.error_text(proxy), 2)
        text = self.error_text(proxy)
        self.assertEqual(text.count('[warn] '), text.count("limiting connections"))
        self.assertEqual(text.count('limiting connections, dry run, by zone "addr"'), 2)

    def test_two_workers_share_one_count(self):
        proxy, _ = self.limited(3, workers=2)
        self.hold(proxy, 3)
        rejected = sum(self.rejected(proxy) for _ in range(12))
        self.report(f"worker_processes 2, limit_conn addr 3: 12 more connections, "
                    f"{rejected} rejected")
        self.assertEqual(rejected, 12)

    def test_counts_survive_a_reload_and_a_new_key_is_refused(self):
        proxy, cfg = self.limited(2)
        self.hold(proxy, 2)
        cfg.servers[0].proxy_timeout = "5m"
        proxy.rewrite_config(cfg)
        proxy.proc.send_signal(1)
        lab.wait_for(lambda: "reloaded: generation 2" in self.error_text(proxy), 5)
        self.assertTrue(self.rejected(proxy), "the zone's counts were lost in the reload")
        # Same zone, another key: nginx's error, and the old configuration runs on.
        cfg.main_extra = [("limit_conn_zone", "$remote_addr zone=addr:1m")]
        proxy.rewrite_config(cfg)
        proxy.proc.send_signal(1)
        lab.wait_for(lambda: "reload failed" in self.error_text(proxy), 5)
        self.assertIn('limit_conn_zone "addr" uses the "$remote_addr" key while previously it '
                      'used the "$binary_remote_addr" key', self.error_text(proxy))
        self.assertTrue(self.rejected(proxy))
        # Another size: a fresh zone, as nginx's; the held sessions no longer count.
        cfg.main_extra = [("limit_conn_zone", "$binary_remote_addr zone=addr:2m")]
        proxy.rewrite_config(cfg)
        proxy.proc.send_signal(1)
        lab.wait_for(lambda: "reloaded: generation 3" in self.error_text(proxy), 5)
        self.hold(proxy, 2)
        self.assertTrue(self.rejected(proxy))


class Rates(LimitConnCase):

    def test_download_rate(self):
        blob = self.backend(BlobServer)
        cfg = lab.simple_config([blob.addr], fmt=FMT)
        cfg.servers[0].extra = [("proxy_download_rate", "128k")]
        proxy = self.start(cfg)
        t0 = time.monotonic()
        with lab.connect(proxy.listen_port(), timeout=10) as s:
            data, _, _ = lab.recv_until_closed(s, 10)
        took = time.monotonic() - t0
        self.report(f"proxy_download_rate 128k: {len(data)} bytes in {took:.2f} s")
        self.assertEqual(len(data), SIZE)
        self.assertGreaterEqual(took, 1.5)
        self.assertLess(took, 5)

    def test_upload_rate(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr], fmt=FMT)
        cfg.servers[0].extra = [("proxy_upload_rate", "128k")]
        proxy = self.start(cfg)
        t0 = time.monotonic()
        with lab.connect(proxy.listen_port(), timeout=10) as s:
            sender = threading.Thread(target=s.sendall, args=(b"u" * SIZE,), daemon=True)
            sender.start()
            got = lab.recv_exactly(s, SIZE)
            sender.join(5)
        took = time.monotonic() - t0
        self.report(f"proxy_upload_rate 128k: {len(got)} bytes echoed in {took:.2f} s")
        self.assertGreaterEqual(took, 1.5)
        self.assertLess(took, 5)

    def test_no_rate_is_not_slowed(self):
        blob = self.backend(BlobServer)
        cfg = lab.simple_config([blob.addr], fmt=FMT)
        proxy = self.start(cfg)
        t0 = time.monotonic()
        with lab.connect(proxy.listen_port(), timeout=10) as s:
            data, _, _ = lab.recv_until_closed(s, 10)
        took = time.monotonic() - t0
        self.report(f"no rate: {len(data)} bytes in {took:.2f} s")
        self.assertEqual(len(data), SIZE)
        self.assertLess(took, 1.0)


if __name__ == "__main__":
    lab.main()
