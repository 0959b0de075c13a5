#!/usr/bin/env python3
"""Loopback behaviour tests of the stream proxy: forwarding, retries, 502s,
timeouts, half-close and backpressure, checked through the client's eyes and
through the access log.

Runs against PROXY_IMPL=proxyd (default; binary from PROXYD_BIN, default
build/bin/proxyd) or PROXY_IMPL=nginx (the reference: every test here must
pass against nginx's stream module first).

    python3 tests/integration/test_forwarding.py
    PROXY_IMPL=nginx python3 tests/integration/test_forwarding.py
"""

import hashlib
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

IMPL = lab.impl_from_env()
MiB = 1 << 20

TIME_LOCAL = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}$")
SECONDS = re.compile(r"^\d+\.\d{3}$")


setUpModule, tearDownModule = lab.module_fixtures(IMPL)


class ProxyTestCase(lab.ProxydCase):
    IMPL = TAG = lab.impl_from_env()

    def one_log_line(self, proxy: lab.Proxy, count: int = 1) -> dict:
        lines = proxy.access_log_lines(count)
        self.assertEqual(len(lines), count,
                         f"expected {count} access-log line(s), got {lines}\n"
                         f"{proxy.error_log()[-3000:]}")
        return lab.parse_kv(lines[count - 1])

    def assert_common_fields(self, f: dict, proxy: lab.Proxy, client_port=None):
        self.assertRegex(f["time_local"], TIME_LOCAL)
        self.assertEqual(f["remote"], "127.0.0.1")
        self.assertEqual(f["server"], "127.0.0.1")
        self.assertEqual(f["sport"], str(proxy.listen_port()))
        self.assertEqual(f["proto"], "TCP")
        self.assertRegex(f["time"], SECONDS)
        self.assertRegex(f["conn"], r"^\d+$")
        self.assertRegex(f["rport"], r"^\d+$")
        if client_port is not None:
            self.assertEqual(f["rport"], str(client_port))


class Forwarding(ProxyTestCase):

    def test_small_request_response(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.start(lab.simple_config([echo.addr]))
        with lab.connect(proxy.listen_port()) as s:
            client_port = s.getsockname()[1]
            s.sendall(b"hello\n")
            self.assertEqual(lab.recv_exactly(s, 6), b"hello\n")
        f = self.one_log_line(proxy)
        self.assert_common_fields(f, proxy, client_port)
        self.assertEqual(f["status"], "200")
        self.assertEqual((f["sent"], f["received"]), ("6", "6"))
        self.assertEqual(f["upstream"], echo.addr)
        self.assertEqual((f["up_sent"], f["up_received"]), ("6", "6"))
        self.assertRegex(f["up_connect"], SECONDS)

    def test_upstream_close_after_answer_is_200(self):
        # An EOF from the upstream after the connection is up is a normal end.
        ans = self.backend(lab.AnswerServer, "backend-1", close_after=True)
        proxy = self.start(lab.simple_config([ans.addr]))
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"who?\n")
            data, how, _ = lab.recv_until_closed(s, 3)
        self.assertEqual(data, b"backend-1\n")
        self.assertEqual(how, "eof")
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "200")
        self.assertEqual((f["sent"], f["received"]), ("10", "5"))
        self.assertEqual((f["up_sent"], f["up_received"]), ("5", "10"))

    def test_four_parallel_16MiB_full_duplex_sessions(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.start(lab.simple_config([echo.addr]))
        size, n = 16 * MiB, 4
        payloads = [os.urandom(size) for _ in range(n)]
        results = [None] * n
        errors = []

        def session(i):
            try:
                data = payloads[i]
                s = lab.connect(proxy.listen_port(), timeout=60)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

                def writer():
                    view = memoryview(data)
                    for off in range(0, size, 256 * 1024):
                        s.sendall(view[off:off + 256 * 1024])

                w = threading.Thread(target=writer, daemon=True)
                w.start()
                h = hashlib.sha256()
                got = 0
                while got < size:
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                    got += len(chunk)
                w.join(60)
                s.close()
                results[i] = (got, h.hexdigest())
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"session {i}: {e!r}")

        t0 = time.monotonic()
        threads = [threading.Thread(target=session, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(80)
        elapsed = time.monotonic() - t0
        self.assertEqual(errors, [])
        sent_hashes = [hashlib.sha256(p).hexdigest() for p in payloads]
        for i in range(n):
            self.assertIsNotNone(results[i], f"session {i} did not finish")
            self.assertEqual(results[i][0], size, f"session {i} echo length")
            self.assertEqual(results[i][1], sent_hashes[i], f"session {i} echo sha256")
        # What the backend received is what the clients sent.
        lab.wait_for(lambda: len(echo.sessions) >= n, 2)
        got_hashes = sorted(r["sha256"].hexdigest() for r in echo.sessions)
        self.assertEqual(got_hashes, sorted(sent_hashes))
        self.report(f"4 x 16 MiB full duplex in {elapsed:.2f} s "
               f"({2 * n * size / MiB / elapsed:.0f} MiB/s through the proxy)")
        lines = proxy.access_log_lines(n)
        self.assertEqual(len(lines), n, lines)
        for line in lines:
            f = lab.parse_kv(line)
            self.assertEqual(f["status"], "200")
            self.assertEqual((f["sent"], f["received"]), (str(size), str(size)))
            self.assertEqual((f["up_sent"], f["up_received"]), (str(size), str(size)))


class Retries(ProxyTestCase):

    def test_refused_upstream_costs_a_retry_not_the_session(self):
        refused = lab.refused_port()
        echo = self.backend(lab.EchoServer)
        bad = f"127.0.0.1:{refused}"
        # Round robin over a fresh group starts with the first server.
        proxy = self.start(lab.simple_config([bad, echo.addr]))
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"hello\n")
            self.assertEqual(lab.recv_exactly(s, 6), b"hello\n")
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "200")
        self.assertEqual(f["upstream"], f"{bad}, {echo.addr}")
        self.assertEqual(f["up_sent"], "0, 6")
        self.assertEqual(f["up_received"], "0, 6")
        self.assertRegex(f["up_connect"], r"^-, \d+\.\d{3}$")

    def test_every_server_refused_is_502_listing_the_tried(self):
        r1, r2 = lab.refused_port(), lab.refused_port()
        proxy = self.start(lab.simple_config([f"127.0.0.1:{r1}", f"127.0.0.1:{r2}"]))
        with lab.connect(proxy.listen_port()) as s:
            data, how, secs = lab.recv_until_closed(s, 3)
        self.assertEqual(data, b"")
        self.assertIn(how, ("eof", "reset"))
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "502")
        self.assertEqual((f["sent"], f["received"]), ("0", "0"))
        self.assertEqual(f["upstream"], f"127.0.0.1:{r1}, 127.0.0.1:{r2}")
        self.assertEqual((f["up_sent"], f["up_received"], f["up_connect"]),
                         ("0, 0", "0, 0", "-, -"))

    def test_no_live_upstreams_is_502_with_the_group_name(self):
        r1, r2 = lab.refused_port(), lab.refused_port()
        servers = [f"127.0.0.1:{r} max_fails=1 fail_timeout=60s" for r in (r1, r2)]
        proxy = self.start(lab.simple_config(servers, upstream="deadgroup"))
        for _ in range(2):
            with lab.connect(proxy.listen_port()) as s:
                data, how, _ = lab.recv_until_closed(s, 3)
                self.assertEqual(data, b"")
            proxy.access_log_lines(1)
        lines = proxy.access_log_lines(2)
        self.assertEqual(len(lines), 2, lines)
        first, second = (lab.parse_kv(x) for x in lines)
        self.assertEqual(first["status"], "502")
        self.assertEqual(first["upstream"], f"127.0.0.1:{r1}, 127.0.0.1:{r2}")
        # Both servers are now failed for 60 s: nothing is tried at all.
        self.assertEqual(second["status"], "502")
        self.assertEqual((second["upstream"], second["up_sent"], second["up_received"],
                          second["up_connect"]), ("deadgroup", "0", "0", "-"))

    def test_next_upstream_tries_bounds_the_attempts(self):
        refused = lab.refused_port()
        echo = self.backend(lab.EchoServer)
        bad = f"127.0.0.1:{refused}"
        proxy = self.start(lab.simple_config([bad, echo.addr],
                                                   proxy_next_upstream_tries=1))
        with lab.connect(proxy.listen_port()) as s:
            data, _, _ = lab.recv_until_closed(s, 3)
        self.assertEqual(data, b"")
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "502")
        self.assertEqual((f["upstream"], f["up_connect"]), (bad, "-"))


class Timeouts(ProxyTestCase):

    def blackhole(self):
        bh = self.backend(lab.Blackhole)
        if not bh.works:
            self.skipTest("this kernel accepts SYNs beyond a full listen(0) queue; "
                          "no way to make a connect hang on loopback")
        return bh

    def test_connect_timeout_then_next_server(self):
        bh = self.blackhole()
        echo = self.backend(lab.EchoServer)
        proxy = self.start(lab.simple_config([bh.addr, echo.addr],
                                                   proxy_connect_timeout="1s"))
        t0 = time.monotonic()
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"hello\n")
            self.assertEqual(lab.recv_exactly(s, 6), b"hello\n")
            waited = time.monotonic() - t0
        self.report(f"connect timeout 1s: answer after {waited:.3f} s")
        self.assertGreater(waited, 0.8)
        self.assertLess(waited, 3.0)
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "200")
        self.assertEqual(f["upstream"], f"{bh.addr}, {echo.addr}")
        self.assertEqual((f["up_sent"], f["up_received"]), ("0, 6", "0, 6"))
        self.assertRegex(f["up_connect"], r"^-, \d+\.\d{3}$")
        self.assertGreaterEqual(float(f["time"]), 0.8)

    def test_connect_timeout_single_server_is_502(self):
        bh = self.blackhole()
        proxy = self.start(lab.simple_config([bh.addr], proxy_connect_timeout="1s"))
        with lab.connect(proxy.listen_port()) as s:
            data, how, secs = lab.recv_until_closed(s, 5)
        self.report(f"connect timeout 1s, single server: closed after {secs:.3f} s ({how})")
        self.assertEqual(data, b"")
        self.assertIn(how, ("eof", "reset"))
        self.assertGreater(secs, 0.8)
        self.assertLess(secs, 3.0)
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "502")
        self.assertEqual((f["upstream"], f["up_sent"], f["up_received"], f["up_connect"]),
                         (bh.addr, "0", "0", "-"))

    def test_idle_timeout_closes_session_with_200(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.start(lab.simple_config([echo.addr], proxy_timeout="1s"))
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"hello\n")
            self.assertEqual(lab.recv_exactly(s, 6), b"hello\n")
            data, how, secs = lab.recv_until_closed(s, 5)
        self.report(f"proxy_timeout 1s: idle session closed after {secs:.3f} s ({how})")
        self.assertEqual(data, b"")
        self.assertIn(how, ("eof", "reset"))
        self.assertGreater(secs, 0.8)
        self.assertLess(secs, 2.5)
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "200")
        self.assertEqual((f["sent"], f["received"]), ("6", "6"))
        self.assertGreaterEqual(float(f["time"]), 0.9)

    def test_idle_timer_is_rearmed_by_traffic(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.start(lab.simple_config([echo.addr], proxy_timeout="1s"))
        with lab.connect(proxy.listen_port()) as s:
            for _ in range(6):          # 2.4 s of traffic, never 1 s idle
                s.sendall(b"ping\n")
                self.assertEqual(lab.recv_exactly(s, 5), b"ping\n")
                time.sleep(0.4)
            data, how, secs = lab.recv_until_closed(s, 5)
        self.assertEqual(data, b"")
        self.assertLess(secs, 2.5)
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "200")
        self.assertEqual((f["sent"], f["received"]), ("30", "30"))
        self.assertGreaterEqual(float(f["time"]), 2.4)


class HalfClose(ProxyTestCase):

    def test_half_close_off_client_eof_ends_session(self):
        late = self.backend(lab.LateAnswerServer, delay=0.5, answer=b"late answer\n")
        proxy = self.start(lab.simple_config([late.addr], proxy_half_close=False))
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"hello\n")
            s.shutdown(socket.SHUT_WR)
            data, how, secs = lab.recv_until_closed(s, 3)
        self.report(f"half-close off: client saw {how} after {secs:.3f} s, {len(data)} bytes")
        self.assertEqual(data, b"", "the late answer must never reach the client")
        self.assertIn(how, ("eof", "reset"))
        self.assertLess(secs, 0.45)
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "200")
        self.assertEqual((f["sent"], f["received"]), ("0", "6"))
        self.assertEqual((f["up_sent"], f["up_received"]), ("6", "0"))
        # The pending client data was flushed to the upstream before the end.
        # The backend records the event when it accepts; wait for its EOF,
        # not only for the event, or a slow run reads it half-filled.
        lab.wait_for(lambda: late.events and late.events[0]["eof_at"] is not None, 1)
        self.assertEqual(late.events[0]["received"], b"hello\n")

    def test_half_close_on_late_answer_arrives(self):
        late = self.backend(lab.LateAnswerServer, delay=0.5, answer=b"late answer\n")
        proxy = self.start(lab.simple_config([late.addr], proxy_half_close=True))
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"hello\n")
            s.shutdown(socket.SHUT_WR)
            data, how, secs = lab.recv_until_closed(s, 3)
        self.report(f"half-close on: client got {data!r} then {how} after {secs:.3f} s")
        self.assertEqual(data, b"late answer\n")
        self.assertEqual(how, "eof")
        self.assertGreater(secs, 0.4)
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "200")
        self.assertEqual((f["sent"], f["received"]), ("12", "6"))
        self.assertEqual((f["up_sent"], f["up_received"]), ("6", "12"))


class Backpressure(ProxyTestCase):

    def test_slow_reader_keeps_memory_flat_and_blocks_backend(self):
        flood = self.backend(lab.FloodServer)
        proxy = self.start(lab.simple_config([flood.addr]))
        pids = proxy.worker_pids()
        self.assertTrue(pids, "no process to measure")

        def rss():
            return sum(lab.rss_kib(p) for p in pids)

        before = rss()
        s = lab.connect(proxy.listen_port())
        try:
            s.sendall(b"go\n")     # and never read
            time.sleep(2)
            rss2, sent2 = rss(), flood.sent
            time.sleep(2)
            sent4 = flood.sent
            time.sleep(2)
            rss6, sent6 = rss(), flood.sent
            stalled_for = time.monotonic() - flood.last_progress
        finally:
            s.close()
        self.report(f"slow reader: RSS {before} KiB at start, {rss2} KiB after 2 s, "
               f"{rss6} KiB after 6 s of flooding (pids {pids}); backend sent "
               f"{sent2 / MiB:.1f} / {sent4 / MiB:.1f} / {sent6 / MiB:.1f} MiB at 2/4/6 s, "
               f"no progress for the last {stalled_for:.1f} s")
        self.assertLess(abs(rss6 - rss2), 2048, "proxy RSS grows with a slow reader")
        self.assertLess(sent6 - sent4, 1 * MiB, "backend never blocked: no backpressure")
        self.assertGreater(stalled_for, 1.0, "backend still making progress")
        self.assertLess(sent6, 256 * MiB)
        f = self.one_log_line(proxy)
        self.assertEqual(f["status"], "200")
        self.assertEqual(f["received"], "3")


class ConsistentHash(ProxyTestCase):

    def test_same_source_same_backend(self):
        backs = [self.backend(lab.AnswerServer, f"backend-{i}") for i in range(3)]
        proxy = self.start(lab.simple_config([b.addr for b in backs],
                                                   hash="$remote_addr consistent"))
        seen = {}
        for src in [f"127.0.0.{i}" for i in range(2, 12)]:
            answers = set()
            for _ in range(3):
                with lab.connect(proxy.listen_port(), source=src) as s:
                    s.sendall(b"who?\n")
                    answers.add(lab.recv_exactly(s, 10))
            self.assertEqual(len(answers), 1, f"{src} answered by {answers}")
            seen[src] = answers.pop()
        self.assertGreater(len(set(seen.values())), 1, f"all on one backend: {seen}")
        lines = proxy.access_log_lines(30)
        self.assertEqual(len(lines), 30)
        for line in lines:
            f = lab.parse_kv(line)
            self.assertEqual(f["status"], "200")
            self.assertRegex(f["remote"], r"^127\.0\.0\.\d+$")


if __name__ == "__main__":
    lab.main()
