#!/usr/bin/env python3
"""The status page ([status] listen): GET / names the node, /stub_status is
nginx's format byte for byte, /status is JSON, /metrics Prometheus text,
/ready 503 without a usable upstream; 405 on POST, the access list (a
denied client closed at accept), and
worker threads (worker_processes) sharing the counters.

    python3 tests/integration/test_status_page.py
"""

import json
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

STUB = re.compile(r"^Active connections: (\d+) \nserver accepts handled requests\n"
                  r" (\d+) (\d+) (\d+) \nReading: (\d+) Writing: (\d+) Waiting: (\d+) \n$")


setUpModule, tearDownModule = lab.module_fixtures("proxyd")


class StatusCase(lab.ProxydCase):

    def echo_once(self, port, payload=b"hello\n"):
        with lab.connect(port) as s:
            s.sendall(payload)
            self.assertEqual(lab.recv_exactly(s, len(payload)), payload)


class Endpoints(StatusCase):

    def setUp(self):
        self.echo = self.backend(lab.EchoServer)
        dead = [f"127.0.0.1:{lab.refused_port()}", f"127.0.0.1:{lab.refused_port()}"]
        self.cfg = lab.Config(
            upstreams=[lab.Upstream("live", [self.echo.addr]), lab.Upstream("dead", dead)],
            servers=[lab.ServerBlock("main", lab.free_port(), "live", log_format="all"),
                     lab.ServerBlock("broken", lab.free_port(), "dead", log_format="all")],
            log_formats={"all": lab.FORMAT_ALL},
            worker_processes=2,
            status_listen=lab.free_port())
        self.proxy = self.start(self.cfg)
        self.sp = self.cfg.status_listen

    def test_root_names_the_host(self):
        status, headers, body = lab.http_request(self.sp, "/")
        self.assertEqual(status, 200)
        self.assertEqual(body, f"proxyd {socket.gethostname()} ok\n".encode())
        self.assertEqual(headers["content-type"], "text/plain")
        status, headers, body = lab.http_request(self.sp, "/", method="HEAD")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers["content-length"], str(len(f"proxyd {socket.gethostname()} ok\n")))

    def test_post_is_405_with_allow(self):
        for path in ("/", "/status", "/stub_status"):
            status, headers, _ = lab.http_request(self.sp, path, method="POST")
            self.assertEqual(status, 405, path)
            self.assertEqual(headers.get("allow"), "GET, HEAD")

    def test_unknown_path_is_404(self):
        self.assertEqual(lab.http_request(self.sp, "/nope")[0], 404)

    def test_counters_on_every_endpoint(self):
        for _ in range(3):
            self.echo_once(self.proxy.listen_port("main"))
        with lab.connect(self.proxy.listen_port("broken")) as s:
            lab.recv_until_closed(s, 3)
        # One session still open, so "active" is seen.
        held = lab.connect(self.proxy.listen_port("main"))
        self.addCleanup(held.close)
        held.sendall(b"x")
        self.assertEqual(lab.recv_exactly(held, 1), b"x")
        self.proxy.access_log_lines(3, server="main")

        status, headers, body = lab.http_request(self.sp, "/stub_status")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain")
        text = body.decode()
        self.report(f"stub_status: {text!r}")
        m = STUB.match(text)
        self.assertIsNotNone(m, text)
        active, accepts, handled, requests, reading, writing, waiting = map(int, m.groups())
        self.assertEqual((active, accepts, handled, requests), (1, 5, 5, 5))
        self.assertEqual((reading, writing, waiting), (0, 1, 0))

        status, headers, body = lab.http_request(self.sp, "/status")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        doc = json.loads(body)
        self.assertEqual(doc["process"]["pid"], self.proxy.pid)
        self.assertEqual(doc["process"]["hostname"], socket.gethostname())
        self.assertEqual(doc["process"]["config_generation"], 1)
        self.assertEqual(doc["process"]["workers"], 2)
        self.assertEqual(len(doc["workers"]), 2)
        listeners = {x["server"]: x for x in doc["listeners"]}
        self.assertEqual(listeners["main"]["sessions"], {"active": 1, "total": 4})
        self.assertEqual(listeners["main"]["status"]["200"], 3)
        # Bytes are counted when a session ends (as the access log has them).
        self.assertEqual(listeners["main"]["bytes"]["from_client"], 18)
        self.assertEqual(listeners["broken"]["status"]["502"], 1)
        groups = {g["name"]: g for g in doc["upstreams"]}
        self.assertEqual(groups["live"]["servers"][0]["state"], "up")
        self.assertEqual(groups["live"]["servers"][0]["active"], 1)
        self.assertEqual(groups["live"]["servers"][0]["selected"], 4)
        dead = groups["dead"]["servers"]
        self.assertEqual([p["state"] for p in dead], ["failed", "failed"])
        self.assertEqual(groups["dead"]["usable"], 0)
        for p in dead:
            self.assertRegex(p["failed_until"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn("Connection refused", p["last_error"]["text"])
            self.assertEqual(p["failures"], 1)

        status, headers, body = lab.http_request(self.sp, "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        metrics = body.decode()
        for line in (
                'proxyd_sessions_total{server="main",status="200"} 3',
                'proxyd_sessions_total{server="broken",status="502"} 1',
                'proxyd_sessions_active{server="main"} 1',
                'proxyd_connections_accepted_total 5',
                'proxyd_config_generation 1',
                'proxyd_reloads_total{result="ok"} 0',
                'proxyd_accept_pauses_total 0',
                'proxyd_upstream_connect_seconds_count{server="main"} 4',
                f'proxyd_upstream_server_state{{upstream="dead",server="{dead[0]["server"]}",'
                f'addr="{dead[0]["addr"]}",state="failed"}} 1'):
            self.assertIn(line + "\n", metrics)
        self.assertRegex(metrics, r'proxyd_upstream_connect_seconds_bucket\{server="main",'
                                  r'le="\+Inf"\} 4\n')
        self.assertRegex(metrics, r'proxyd_received_bytes_total\{server="main",side="client"\} 18\n')

        # /ready: the live group has a usable server.
        status, _, body = lab.http_request(self.sp, "/ready")
        self.assertEqual(status, 200, body)


class Ready(StatusCase):

    def test_ready_is_503_when_no_server_is_usable(self):
        dead = [f"127.0.0.1:{lab.refused_port()}", f"127.0.0.1:{lab.refused_port()}"]
        cfg = lab.simple_config(dead)
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        self.assertEqual(lab.http_request(cfg.status_listen, "/ready")[0], 200)
        with lab.connect(proxy.listen_port()) as s:
            lab.recv_until_closed(s, 3)
        status, _, body = lab.http_request(cfg.status_listen, "/ready")
        self.assertEqual(status, 503, body)
        self.assertIn(b"backends: 0/2 usable", body)
        # GET / is about the proxy itself, not its upstreams.
        self.assertEqual(lab.http_request(cfg.status_listen, "/")[0], 200)


class AccessList(StatusCase):

    def test_denied_client_is_closed_at_accept_and_counted(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.status_listen = lab.free_port()
        cfg.status_rules = [("deny", "127.0.0.1"), ("allow", "all")]
        self.start(cfg)
        for _ in range(3):
            # Nothing sent: closed at accept, not after a request (or a timeout).
            with lab.connect(cfg.status_listen) as s:
                data, how, secs = lab.recv_until_closed(s, 3)
            self.report(f"denied client: {how} after {secs * 1000:.1f} ms, {len(data)} bytes")
            self.assertEqual(data, b"")
            self.assertIn(how, ("eof", "reset"))
        # The counters, read from an allowed address (127.0.0.2).
        with lab.connect(cfg.status_listen, source="127.0.0.2") as s:
            s.sendall(b"GET /status HTTP/1.0\r\n\r\n")
            data, _, _ = lab.recv_until_closed(s, 3)
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"), data[:100])
        doc = json.loads(data.partition(b"\r\n\r\n")[2])
        self.assertEqual(doc["status_page"]["denied"], 3)

    def test_allowed_client_first_match_wins(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.status_listen = lab.free_port()
        cfg.status_rules = [("allow", "127.0.0.0/8"), ("deny", "all")]
        self.start(cfg)
        self.assertEqual(lab.http_request(cfg.status_listen, "/")[0], 200)


class Workers(StatusCase):

    def test_sessions_spread_over_worker_threads(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.worker_processes = 4
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        def threads() -> int:
            with open(f"/proc/{proxy.pid}/status") as f:
                return int(re.search(r"Threads:\s+(\d+)", f.read()).group(1))

        # The listeners are open before the threads start: control + 4 workers.
        self.wait(lambda: threads() >= 5, 3, what=lambda: f"5 threads, not {threads()}")
        for _ in range(64):
            self.echo_once(proxy.listen_port())
        # A session ends when proxyd reads the client's close.
        doc = self.wait_status(cfg.status_listen,
                               lambda d: d["listeners"][0]["status"]["200"] == 64, 3)
        handled = [w["handled"] for w in doc["workers"]]
        self.report(f"64 sessions over 4 workers: {handled}")
        self.assertEqual(sum(handled), 64)
        self.assertGreaterEqual(sum(1 for h in handled if h > 0), 2)
        self.assertEqual(doc["listeners"][0]["status"]["200"], 64)


if __name__ == "__main__":
    lab.main()
