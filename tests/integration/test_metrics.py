#!/usr/bin/env python3
"""The /metrics families no other test read, each against a figure the test
observes itself (sessions it made, bytes it sent and got back, attempts on
refused ports, `proxyd -v`, the wall clock around the start), and the
stalled-worker 503 of GET / on a live proxy: the worker's access log is a
FIFO that the test stops reading, so the worker thread blocks for real in
write(2) (no test hook), its heartbeat ages and the page the track script
checks answers 503 until the FIFO is read again.

    python3 tests/integration/test_metrics.py
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

F_SETPIPE_SZ = 1031   # linux/fcntl.h


setUpModule, tearDownModule = lab.module_fixtures("proxyd")


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$")


def parse_metrics(text: str) -> dict:
    """{family_or_sample_name: {labels_text: float}} of the sample lines."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        out.setdefault(m.group(1), {})[m.group(3) or ""] = float(m.group(4))
    return out


def sample(metrics: dict, name: str, **labels) -> float:
    """The one sample of `name` whose labels include `labels`."""
    want = [f'{k}="{v}"' for k, v in labels.items()]
    hits = [v for lbl, v in metrics.get(name, {}).items()
            if all(w in lbl.split(",") for w in want)]
    assert len(hits) == 1, f"{name}{labels}: {len(hits)} samples in {metrics.get(name)}"
    return hits[0]


class MetricsCase(lab.ProxydCase):

    def metrics(self, port) -> dict:
        status, _, body = lab.http_request(port, "/metrics")
        self.assertEqual(status, 200)
        return parse_metrics(body.decode())

    @staticmethod
    def wait_root(port, want: int, timeout: float = 10):
        """(status, body) of GET / once it answers `want`, or the last answer
        after `timeout` s."""
        got = [None, b""]

        def answers() -> bool:
            got[0], _, got[1] = lab.http_request(port, "/", timeout=3)
            return got[0] == want

        lab.wait_for(answers, timeout, 0.1)
        return tuple(got)


class Families(MetricsCase):

    def test_every_family_against_what_the_test_saw(self):
        echo = self.backend(lab.EchoServer)
        dead = [f"127.0.0.1:{lab.refused_port()}", f"127.0.0.1:{lab.refused_port()}"]
        cfg = lab.Config(
            upstreams=[lab.Upstream("live", [echo.addr]), lab.Upstream("dead", dead)],
            servers=[lab.ServerBlock("main", lab.free_port(), "live", log_format="all"),
                     lab.ServerBlock("broken", lab.free_port(), "dead", log_format="all")],
            log_formats={"all": lab.FORMAT_ALL}, worker_processes=2,
            status_listen=lab.free_port())
        wall_before = time.time()
        proxy = self.start(cfg)
        wall_after = time.time()

        sent = received = 0
        payloads = [b"a" * 100, b"b" * 1000, b"c" * 7]
        for p in payloads:
            with lab.connect(proxy.listen_port("main")) as s:
                s.sendall(p)
                got = lab.recv_exactly(s, len(p))
                self.assertEqual(got, p)
                sent += len(p)
                received += len(got)
        with lab.connect(proxy.listen_port("broken")) as s:
            lab.recv_until_closed(s, 3)
        held = lab.connect(proxy.listen_port("main"))
        self.addCleanup(held.close)
        held.sendall(b"h")
        self.assertEqual(lab.recv_exactly(held, 1), b"h")
        # Bytes and handled sessions are counted when a session ends: wait
        # for the access log, which is written at the same moment.
        self.assertEqual(len(proxy.access_log_lines(3, server="main", timeout=3)), 3)
        self.assertEqual(len(proxy.access_log_lines(1, server="broken", timeout=3)), 1)

        m = self.metrics(cfg.status_listen)
        version = subprocess.run([proxy.binary, "-v"], capture_output=True, text=True,
                                 timeout=10)
        vtext = version.stdout + version.stderr
        build = m["proxyd_build_info"]
        self.report(f"build_info {build}, proxyd -v: {vtext.strip()!r}")
        self.assertEqual(len(build), 1)
        (labels, value), = build.items()
        self.assertEqual(value, 1)
        v = re.fullmatch(r'version="([^"]+)"', labels)
        self.assertIsNotNone(v, labels)
        self.assertIn(v.group(1), vtext)

        start = sample(m, "proxyd_start_time_seconds")
        self.report(f"start_time {start:.3f}, test saw the start in "
               f"[{wall_before:.3f}, {wall_after:.3f}]")
        self.assertGreaterEqual(start, int(wall_before) - 1)
        self.assertLessEqual(start, wall_after + 1)

        self.assertEqual(sample(m, "proxyd_workers"), 2)
        ages = m["proxyd_worker_heartbeat_age_seconds"]
        self.report(f"heartbeat ages: {ages}")
        self.assertEqual(sorted(ages), ['worker="0"', 'worker="1"'])
        for age in ages.values():
            self.assertGreaterEqual(age, 0)
            self.assertLess(age, 2.0)     # healthy: stamped every 250 ms

        # 3 echo sessions + 1 refused + the held one were all accepted and
        # handed to a worker.
        self.assertEqual(sample(m, "proxyd_connections_handled_total"), 5)
        self.assertEqual(sample(m, "proxyd_sent_bytes_total", server="main", side="client"),
                         received)
        self.assertEqual(sample(m, "proxyd_sent_bytes_total", server="main",
                                side="upstream"), sent)
        self.assertEqual(sample(m, "proxyd_sent_bytes_total", server="broken",
                                side="client"), 0)
        # One session on "broken": each dead server refused it once.
        self.assertEqual(sample(m, "proxyd_upstream_connect_failures_total",
                                server="broken"), 2)
        self.assertEqual(sample(m, "proxyd_upstream_connect_failures_total",
                                server="main"), 0)
        self.assertEqual(sample(m, "proxyd_upstream_server_active", upstream="live",
                                addr=echo.addr), 1)
        self.assertEqual(sample(m, "proxyd_upstream_server_selected_total", upstream="live",
                                addr=echo.addr), 4)
        for addr in dead:
            # max_fails=1 (nginx's default): one refusal counts one fail.
            self.assertEqual(sample(m, "proxyd_upstream_server_fails", upstream="dead",
                                    addr=addr), 1)
            self.assertEqual(sample(m, "proxyd_upstream_server_failures_total",
                                    upstream="dead", addr=addr), 1)
            self.assertEqual(sample(m, "proxyd_upstream_server_active", upstream="dead",
                                    addr=addr), 0)
        self.assertEqual(sample(m, "proxyd_upstream_server_fails", upstream="live",
                                addr=echo.addr), 0)
        held.close()


class StalledWorker(MetricsCase):

    def test_a_worker_blocked_in_write_makes_root_503(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.worker_processes = 1
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        self.assertEqual(lab.http_request(cfg.status_listen, "/")[0], 200)

        # The worker opens its access log at its first session's end: make
        # it a FIFO with a reader that does not read, one page of buffer.
        path = proxy.access_log_path()
        self.assertFalse(os.path.exists(path))
        os.mkfifo(path)
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, reader)
        try:
            import fcntl
            fcntl.fcntl(reader, F_SETPIPE_SZ, 4096)
        except OSError:
            pass
        draining = threading.Event()
        done = threading.Event()
        self.addCleanup(done.set)

        def drain():
            draining.wait()
            while not done.is_set():
                try:
                    if not os.read(reader, 65536):
                        time.sleep(0.01)
                except BlockingIOError:
                    time.sleep(0.01)
        threading.Thread(target=drain, daemon=True).start()
        # Whatever happens, the worker gets unblocked before proxyd is stopped.
        self.addCleanup(draining.set)

        stalled_at, sessions = None, 0
        for _ in range(400):   # 400 lines of ~250 bytes: many times the pipe
            s = lab.connect(proxy.listen_port(), timeout=2)
            try:
                s.sendall(b"ping\n")
                s.settimeout(1.0)
                got = s.recv(5)
            except socket.timeout:
                got = b""
            finally:
                s.close()
            if got != b"ping\n":
                stalled_at = time.monotonic()
                break
            sessions += 1
        self.assertIsNotNone(stalled_at, "the worker never blocked on the full FIFO")
        self.report(f"worker blocked in write() after {sessions} sessions")

        status, body = self.wait_root(cfg.status_listen, 503)
        took = time.monotonic() - stalled_at
        self.report(f"GET / answered {status} {body!r} {took:.2f} s after the stall was seen "
               f"(threshold 2 s of heartbeat)")
        self.assertEqual(status, 503, body)
        self.assertIn(b"worker 0 stalled", body)
        age = sample(self.metrics(cfg.status_listen), "proxyd_worker_heartbeat_age_seconds",
                     worker="0")
        self.report(f"heartbeat age while stalled: {age:.3f} s")
        self.assertGreater(age, 2.0)

        draining.set()
        status, body = self.wait_root(cfg.status_listen, 200)
        self.assertEqual(status, 200, body)
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"again\n")
            self.assertEqual(lab.recv_exactly(s, 6), b"again\n")


if __name__ == "__main__":
    lab.main()
