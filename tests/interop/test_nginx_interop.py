#!/usr/bin/env python3
"""proxyd against real nginx: the same scripted sessions through both, with
the seed's log_format `proxy` and with a format using every variable; the
access-log lines must be identical once the fields that legitimately differ
(times, client ports, connection numbers, the listen port) are masked.  And
`hash $remote_addr consistent` must send each client address to the backend
nginx sends it to.

nginx (Debian's nginx-light + libnginx-mod-stream) is the reference.  Without
nginx or its stream module the tests are skipped, except under CI=true where
that is a failure.  proxyd comes from PROXYD_BIN (default build/bin/proxyd).

    python3 tests/interop/test_nginx_interop.py
"""

import os
import re
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

# The implementation compared with nginx.  INTEROP_CANDIDATE=nginx compares
# nginx with itself: a check that normalise() masks everything that differs
# from run to run and nothing else.
CANDIDATE = os.environ.get("INTEROP_CANDIDATE", "proxyd")

FORMATS = {"proxy": lab.FORMAT_PROXY, "all": lab.FORMAT_ALL}

_TIME_LOCAL = re.compile(r"\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]")
_SECONDS = re.compile(r"(?<![\d.])\d+\.\d{3}(?![\d.])")


def normalise(line: str, listen_port: int) -> str:
    """Mask what legitimately differs between two runs; keep everything else
    (a time in the wrong format is not masked and so shows up as a diff)."""
    line = _TIME_LOCAL.sub("[TIME_LOCAL]", line)
    line = _SECONDS.sub("S.SSS", line)
    line = re.sub(r"\brport=\d+\b", "rport=PORT", line)
    line = re.sub(r"\bconn=\d+\b", "conn=N", line)
    line = re.sub(rf"\bsport={listen_port}\b", "sport=LISTEN", line)
    return line


def setUpModule():
    lab.require_impl("nginx")


def require_proxyd(test: unittest.TestCase) -> None:
    """Called after the nginx reference run, so that run is exercised even
    where proxyd is not built; skip (fail under CI=true) without proxyd."""
    reason = lab.unavailable_reason(CANDIDATE)
    if reason is None:
        return
    test.skipTest(f"{reason}; the nginx reference run passed")


def tearDownModule():
    lab.cleanup_all()


def report(msg: str) -> None:
    print(f"\n    {msg}", file=sys.stderr, flush=True)


class Backends:
    """Backends shared by the nginx run and the proxyd run, so upstream
    addresses (and the consistent-hash ring) are the same in both."""

    def __init__(self):
        self.echo = lab.EchoServer()
        self.late = lab.LateAnswerServer(delay=0.5, answer=b"late answer\n")
        self.refused = [lab.refused_port() for _ in range(4)]
        self.blackhole = lab.Blackhole()

    def stop(self):
        self.echo.stop()
        self.late.stop()
        self.blackhole.stop()


class LogInterop(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.b = Backends()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def run_sessions(self, impl, fmt_name, upstream, servers, session, count, **kw):
        """Start `impl` with one group and one listener, run `session(port)`,
        return the normalised access-log lines (waiting for `count`)."""
        cfg = lab.simple_config(servers, upstream=upstream, log_format=fmt_name,
                                fmt=FORMATS[fmt_name], **kw)
        proxy = lab.Proxy(impl)
        proxy.start(cfg)
        try:
            session(proxy.listen_port(), proxy)
            lines = proxy.access_log_lines(count)
            diag = proxy.error_log()[-3000:]
        finally:
            proxy.stop()
        self.assertIsNone(proxy.exit_problem())
        self.assertEqual(len(lines), count,
                         f"{impl}: expected {count} access-log lines, got {lines}\n{diag}")
        return [normalise(x, cfg.servers[0].listen) for x in lines]

    def compare(self, upstream, servers, session, count=1, **kw):
        for fmt_name in FORMATS:
            with self.subTest(log_format=fmt_name):
                want = self.run_sessions("nginx", fmt_name, upstream, servers,
                                         session, count, **kw)
                require_proxyd(self)
                got = self.run_sessions(CANDIDATE, fmt_name, upstream, servers,
                                        session, count, **kw)
                self.assertEqual(got, want, f"{CANDIDATE} (first) vs nginx (second), "
                                            f"log_format {fmt_name}")

    # -- scripted sessions ------------------------------------------------
    @staticmethod
    def echo_session(port, proxy):
        with lab.connect(port) as s:
            s.sendall(b"hello\n")
            assert lab.recv_exactly(s, 6) == b"hello\n"
        proxy.access_log_lines(1)

    @staticmethod
    def closed_session(port, proxy):
        with lab.connect(port) as s:
            data, _, _ = lab.recv_until_closed(s, 5)
            assert data == b"", data

    def test_normal_echo_session(self):
        self.compare("backends", [self.b.echo.addr], self.echo_session)

    def test_refused_then_success(self):
        servers = [f"127.0.0.1:{self.b.refused[0]}", self.b.echo.addr]
        self.compare("backends", servers, self.echo_session)

    def test_all_down_502(self):
        servers = [f"127.0.0.1:{r}" for r in self.b.refused[:2]]
        self.compare("backends", servers, self.closed_session)

    def test_no_live_upstreams_502(self):
        servers = [f"127.0.0.1:{r} max_fails=1 fail_timeout=60s" for r in self.b.refused[2:]]

        def two_sessions(port, proxy):
            self.closed_session(port, proxy)
            proxy.access_log_lines(1)
            self.closed_session(port, proxy)

        self.compare("deadgroup", servers, two_sessions, count=2)

    def test_connect_timeout_then_next_server(self):
        if not self.b.blackhole.works:
            self.skipTest("blackhole backend does not drop SYNs on this kernel")
        servers = [self.b.blackhole.addr, self.b.echo.addr]
        self.compare("backends", servers, self.echo_session, proxy_connect_timeout="1s")

    def test_idle_timeout(self):
        def idle(port, proxy):
            with lab.connect(port) as s:
                s.sendall(b"hello\n")
                assert lab.recv_exactly(s, 6) == b"hello\n"
                data, how, secs = lab.recv_until_closed(s, 5)
                assert data == b"" and how != "timeout" and secs < 2.5, (data, how, secs)

        self.compare("backends", [self.b.echo.addr], idle, proxy_timeout="1s")

    def half_close(self, on):
        def session(port, proxy):
            with lab.connect(port) as s:
                s.sendall(b"hello\n")
                s.shutdown(socket.SHUT_WR)
                data, _, _ = lab.recv_until_closed(s, 3)
                assert data == (b"late answer\n" if on else b""), data
            proxy.access_log_lines(1)

        self.compare("backends", [self.b.late.addr], session, proxy_half_close=on)

    def test_half_close_off(self):
        self.half_close(False)

    def test_half_close_on(self):
        self.half_close(True)


class HashInterop(unittest.TestCase):
    """hash $remote_addr consistent: the same client address must land on the
    same backend under nginx and under proxyd (ketama ring, REFERENCE.md)."""

    SOURCES = ([f"127.0.{i // 20}.{i % 20 + 2}" for i in range(60)]
               + ["127.10.20.30", "127.200.1.7", "127.255.255.254"])

    @classmethod
    def setUpClass(cls):
        cls.backends = [lab.AnswerServer(f"backend-{i}") for i in range(3)]
        cls.addr_to_name = {b.addr: b.name for b in cls.backends}

    @classmethod
    def tearDownClass(cls):
        for b in cls.backends:
            b.stop()

    def picks(self, impl):
        cfg = lab.simple_config([b.addr for b in self.backends],
                                hash="$remote_addr consistent", upstream="k8sapiserver",
                                fmt=lab.FORMAT_PROXY, log_format="proxy")
        proxy = lab.Proxy(impl)
        proxy.start(cfg)
        out = {}
        try:
            for src in self.SOURCES:
                with lab.connect(proxy.listen_port(), source=src) as s:
                    s.sendall(b"who?\n")
                    out[src] = lab.recv_exactly(s, 10).decode().strip()
        finally:
            proxy.stop()
        self.assertIsNone(proxy.exit_problem())
        return out

    def test_same_backend_for_each_client_address(self):
        want = self.picks("nginx")
        dist = {n: list(want.values()).count(n) for n in sorted(set(want.values()))}
        report(f"nginx spread over {len(self.SOURCES)} sources: {dist}")
        self.assertGreater(len(dist), 1, "all sources on one backend: test proves nothing")
        require_proxyd(self)
        got = self.picks(CANDIDATE)
        diff = {src: (got.get(src), want[src]) for src in want if got.get(src) != want[src]}
        self.assertEqual(diff, {}, f"source: ({CANDIDATE}, nginx) where they differ")

    def test_python_ketama_model_matches_nginx(self):
        """Checks REFERENCE.md's description of the ring against nginx itself,
        so proxyd's unit tests can trust it."""
        want = self.picks("nginx")
        ring = lab.ketama_ring([b.addr for b in self.backends])
        model = {src: self.addr_to_name[lab.ketama_pick(ring, src)] for src in self.SOURCES}
        diff = {src: (model[src], want[src]) for src in want if model[src] != want[src]}
        self.assertEqual(diff, {}, "source: (model, nginx) where they differ")


if __name__ == "__main__":
    lab.main()
