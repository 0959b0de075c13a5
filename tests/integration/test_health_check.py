#!/usr/bin/env python3
"""Active health checks of proxyd (`health_check = ...` in [upstream]; nginx
Plus has them, nginx open source does not, so these run against proxyd only).

- http: a backend that accepts TCP but answers GET /readyz with 500 is taken
  out after `fall` checks and back after `rise`; sessions go only to the
  healthy server meanwhile; a group with no healthy server is 502.
- tcp: a refused port is taken out, sessions never try it.
- https: a TLS test server (Python ssl, certificates made here with
  `openssl req`/`openssl x509`): verify=on with the CA and SNI, a client
  certificate required by the server, a wrong name failing verification.
- config: bad parameters are FILE:LINE errors; a missing CA file is a
  warning under -t and a start failure (exit 2).

Time bounds are loose (the checks run every 200-300 ms; a bound is seconds);
measured times are printed.

    python3 tests/integration/test_health_check.py
"""

import os
import re
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402
import testenv  # noqa: E402

setUpModule, tearDownModule = lab.module_fixtures("proxyd")


# proxylab renders the upstream sections; a `health_check` attribute set on
# a lab.Upstream is added as the section's first key.
_render = lab.render_proxyd_ini


def _render_with_health_checks(cfg: lab.Config, tmp: str) -> str:
    text = _render(cfg, tmp)
    for up in cfg.upstreams:
        hc = getattr(up, "health_check", None)
        if hc:
            header = f"\n[upstream {up.name}]\n"
            assert header in text
            text = text.replace(header, header + lab._ini_kv("health_check", hc), 1)
    return text


lab.render_proxyd_ini = _render_with_health_checks


class ReadyzServer(lab.Backend):
    """An apiserver stand-in on one port: an HTTP request (a health check)
    gets `status` for /readyz and closes; anything else is a proxied session,
    answered with the server's name like lab.AnswerServer. With `tls` (an
    ssl.SSLContext) every connection is TLS first."""

    def __init__(self, name: str, status: int = 200, tls=None, **kw):
        self.name = name
        self.status = status
        self.tls = tls
        self.checks: list = []      # (monotonic time, status answered, path)
        self.sessions = 0
        self.tls_failures = 0
        super().__init__(**kw)

    def checks_since(self, t: float, status=None) -> int:
        with self._lock:
            return sum(1 for (at, st, _) in self.checks
                       if at >= t and (status is None or st == status))

    def handle(self, conn, peer):
        if self.tls is None:
            return self.serve(conn)
        conn.settimeout(5)
        try:
            # wrap_socket() takes the descriptor over, even when it fails.
            with self.tls.wrap_socket(conn, server_side=True,
                                      do_handshake_on_connect=False) as tls_conn:
                try:
                    tls_conn.do_handshake()
                except (ssl.SSLError, OSError):
                    with self._lock:
                        self.tls_failures += 1
                    return
                self.serve(tls_conn)
        except OSError:
            pass

    def serve(self, conn):
        buf = lab.recv_until(conn, b"\n")
        if buf is None:
            return
        if buf.startswith(b"GET "):
            buf = lab.recv_until(conn, b"\r\n\r\n", buf)
            if buf is None:
                return
            path = buf.split(b" ", 2)[1].decode()
            status = self.status if path == "/readyz" else 404
            body = b"ok" if status == 200 else b"not ready"
            with self._lock:
                self.checks.append((time.monotonic(), status, path))
            conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n".encode() + body)
            return
        with self._lock:
            self.sessions += 1
        conn.sendall(f"{self.name}\n".encode())
        while conn.recv(4096):
            pass


def ask(port: int) -> str:
    """One session through the proxy: the name of the backend that answered,
    or '' when the proxy closed it (502)."""
    with lab.connect(port) as s:
        s.sendall(b"who?\n")
        s.settimeout(5)
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = s.recv(100)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        return data.decode().strip()


def make_pki(d: str) -> dict:
    """A CA, a server certificate for localhost / 127.0.0.1 and a client
    certificate, all made with the openssl command line."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, cwd=d, capture_output=True, timeout=30)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=proxyd test CA")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for who in ("server", "client"):
        run("req", "-new", *ec, "-keyout", f"{who}.key", "-out", f"{who}.csr",
            "-subj", f"/CN={'localhost' if who == 'server' else 'proxyd-health-check'}")
        run("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{who}.crt", "-extfile", f"{who}.ext")
    return {k: os.path.join(d, k) for k in
            ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")}


class HealthCheckCase(lab.ProxydCase):

    @staticmethod
    def config(servers, health_check, **kw) -> lab.Config:
        cfg = lab.simple_config(servers, **kw)
        cfg.upstreams[0].health_check = health_check
        return cfg

    @staticmethod
    def main_log(proxy: lab.Proxy) -> str:
        try:
            with open(os.path.join(proxy.tmp, "error.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, proxy: lab.Proxy, pattern: str, timeout: float = 10) -> float:
        took = lab.wait_for(lambda: re.search(pattern, self.main_log(proxy)), timeout, 0.02)
        if took is None:
            self.fail(f"no log line matching {pattern!r} within {timeout} s\n"
                      f"{proxy.error_log()[-3000:]}")
        return took


class HttpChecks(HealthCheckCase):

    def test_readyz_500_taken_out_after_fall_back_after_rise(self):
        a = self.backend(ReadyzServer, "backend-a")
        b = self.backend(ReadyzServer, "backend-b")
        proxy = self.start(self.config(
            [a.addr, b.addr],
            "interval=250ms timeout=1s fall=3 rise=2 type=http uri=/readyz expect=2xx"))
        port = proxy.listen_port()
        self.wait(lambda: a.checks_since(0) >= 1 and b.checks_since(0) >= 1, 5)
        both = {ask(port) for _ in range(6)}
        self.assertEqual(both, {"backend-a", "backend-b"})

        t_flip = time.monotonic()
        b.status = 500
        took = self.wait_log(
            proxy, r'upstream server 127\.0\.0\.1:%d in "backends" is unhealthy: '
                   r'HTTP 500 from /readyz \(3 checks\)' % b.port)
        failed = b.checks_since(t_flip, 500)
        self.report(f"unhealthy {took:.2f} s after /readyz turned 500 "
               f"(fall=3, interval=250ms; {failed} failed checks seen by the backend)")
        self.assertGreaterEqual(failed, 3)
        self.assertLess(took, 8)

        # Meanwhile every session goes to the healthy server.
        sessions_b = b.sessions
        answers = [ask(port) for _ in range(10)]
        self.assertEqual(answers, ["backend-a"] * 10)
        self.assertEqual(b.sessions, sessions_b)

        t_back = time.monotonic()
        b.status = 200
        took = self.wait_log(
            proxy, r'upstream server 127\.0\.0\.1:%d in "backends" is healthy again '
                   r'\(2 checks passed\)' % b.port)
        passed = b.checks_since(t_back, 200)
        self.report(f"healthy again {took:.2f} s after /readyz turned 200 "
               f"(rise=2; {passed} passed checks seen by the backend)")
        self.assertGreaterEqual(passed, 2)
        self.assertLess(took, 8)
        answers = {ask(port) for _ in range(6)}
        self.assertEqual(answers, {"backend-a", "backend-b"})
        # Failed checks before the transition are logged at info, with the count.
        self.assertRegex(self.main_log(proxy),
                         r'health check of upstream server 127\.0\.0\.1:%d in "backends" '
                         r'failed: HTTP 500 from /readyz \(1 of 3\)' % b.port)

    def test_all_unhealthy_is_502_no_live_upstreams(self):
        a = self.backend(ReadyzServer, "backend-a", status=503)
        proxy = self.start(self.config(
            [a.addr], "interval=200ms fall=1 rise=1 type=http uri=/readyz"))
        self.wait_log(proxy, r'is unhealthy: HTTP 503 from /readyz \(1 check\)')
        self.assertEqual(ask(proxy.listen_port()), "")
        lines = proxy.access_log_lines(1)
        self.assertEqual(len(lines), 1, lines)
        f = lab.parse_kv(lines[0])
        self.assertEqual((f["status"], f["upstream"]), ("502", "backends"))
        self.assertEqual(a.sessions, 0)
        self.assertRegex(proxy.error_log(), r"no live upstreams")
        a.status = 200
        self.wait_log(proxy, r"is healthy again \(1 check passed\)")
        self.assertEqual(ask(proxy.listen_port()), "backend-a")

    def test_wrong_status_class_and_timeout(self):
        # expect=200 exactly: a 204 fails. A server that never answers fails
        # by the timeout, which bounds each check.
        a = self.backend(ReadyzServer, "backend-a", status=204)
        silent = self.backend(lab.SilentServer)
        proxy = self.start(self.config(
            [a.addr, silent.addr], "interval=300ms timeout=400ms fall=1 type=http uri=/readyz"))
        self.wait_log(proxy, r"127\.0\.0\.1:%d .* is unhealthy: HTTP 204 from /readyz" % a.port)
        took = self.wait_log(
            proxy, r"127\.0\.0\.1:%d .* is unhealthy: timed out after 400 ms "
                   r"\(waiting for the response\)" % silent.port)
        self.report(f"silent server unhealthy {took:.2f} s after start (timeout=400ms)")


class TcpChecks(HealthCheckCase):

    def test_refused_port_is_taken_out(self):
        refused = f"127.0.0.1:{lab.refused_port()}"
        echo = self.backend(lab.AnswerServer, "echo")
        t0 = time.monotonic()
        # Health checks use no session: the passive accounting (max_fails)
        # would also take the refused port out after one session, so
        # max_fails=0 shows that the active check alone does it.
        proxy = self.start(self.config(
            [f"{refused} max_fails=0", echo.addr], "interval=200ms fall=1 type=tcp"))
        self.wait_log(proxy, r"upstream server %s in \"backends\" is unhealthy: "
                             r"connect\(\) failed \(111: Connection refused\)" % re.escape(refused))
        self.report(f"refused port unhealthy {time.monotonic() - t0:.2f} s after start")
        for _ in range(6):
            self.assertEqual(ask(proxy.listen_port()), "echo")
        lines = proxy.access_log_lines(6)
        self.assertEqual(len(lines), 6, lines)
        for line in lines:
            f = lab.parse_kv(line)
            # No try of the refused server at all.
            self.assertEqual((f["status"], f["upstream"]), ("200", echo.addr))


class HttpsChecks(HealthCheckCase):

    @classmethod
    def setUpClass(cls):
        testenv.require(testenv.unavailable(installed=["openssl"]))
        cls.pki_dir = os.path.join(lab.tmp_root(), "pki")
        os.makedirs(cls.pki_dir, exist_ok=True)
        cls.pki = make_pki(cls.pki_dir)

    def tls_context(self, require_client_cert: bool) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.pki["server.crt"], self.pki["server.key"])
        if require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.pki["ca.crt"])
        return ctx

    def test_verify_on_with_ca_and_sni(self):
        srv = self.backend(ReadyzServer, "tls", tls=self.tls_context(False))
        ca = self.pki["ca.crt"]
        proxy = self.start(self.config(
            [srv.addr],
            f"interval=200ms fall=1 rise=1 type=https uri=/readyz sni=localhost "
            f"verify=on ca={ca}"))
        took = self.wait(lambda: srv.checks_since(0, 200) >= 3, 10)
        self.report(f"3 https checks passed in {took:.2f} s (verify=on, sni=localhost)")
        self.assertNotIn("unhealthy", self.main_log(proxy))
        srv.status = 500
        self.wait_log(proxy, r"is unhealthy: HTTP 500 from /readyz \(1 check\)")
        srv.status = 200
        self.wait_log(proxy, r"is healthy again")

    def test_verify_on_by_ip_address_without_sni(self):
        # The server certificate lists IP:127.0.0.1, as apiserver
        # certificates list the node addresses.
        srv = self.backend(ReadyzServer, "tls", tls=self.tls_context(False))
        proxy = self.start(self.config(
            [srv.addr], f"interval=200ms type=https uri=/readyz verify=on ca={self.pki['ca.crt']}"))
        self.wait(lambda: srv.checks_since(0, 200) >= 2, 10)
        self.assertNotIn("unhealthy", self.main_log(proxy))

    def test_verify_fails_for_a_wrong_name(self):
        srv = self.backend(ReadyzServer, "tls", tls=self.tls_context(False))
        proxy = self.start(self.config(
            [srv.addr], f"interval=200ms type=https uri=/readyz sni=other.example verify=on "
                        f"ca={self.pki['ca.crt']}"))
        self.wait_log(proxy, r"is unhealthy: certificate verify failed: "
                             r"hostname mismatch.*\(TLS handshake\)")
        self.assertEqual(srv.checks_since(0), 0)

    def test_client_certificate_required(self):
        srv = self.backend(ReadyzServer, "tls", tls=self.tls_context(True))
        ca, crt, key = self.pki["ca.crt"], self.pki["client.crt"], self.pki["client.key"]
        cfg = lab.Config(
            upstreams=[lab.Upstream("with_cert", [srv.addr]),
                       lab.Upstream("without_cert", [srv.addr])],
            servers=[lab.ServerBlock("a", lab.free_port(), "with_cert", log_format="all"),
                     lab.ServerBlock("b", lab.free_port(), "without_cert", log_format="all")],
            log_formats={"all": lab.FORMAT_ALL})
        cfg.upstreams[0].health_check = (
            f"interval=200ms type=https uri=/readyz sni=localhost verify=on ca={ca} "
            f"cert={crt} key={key}")
        cfg.upstreams[1].health_check = "interval=200ms type=https uri=/readyz"
        proxy = self.start(cfg)
        took = self.wait_log(proxy, r'127\.0\.0\.1:%d in "without_cert" is unhealthy: ' % srv.port)
        self.report(f"no client certificate: unhealthy after {took:.2f} s: " + re.search(
            r'"without_cert" is unhealthy: (.*)', self.main_log(proxy)).group(1))
        self.wait(lambda: srv.checks_since(0, 200) >= 3, 10)
        self.assertNotIn('"with_cert" is unhealthy', self.main_log(proxy))
        self.assertGreater(srv.tls_failures, 0)


class ConfigChecks(unittest.TestCase):

    def check(self, health_check: str, tmp_name: str):
        tmp = os.path.join(lab.tmp_root(), tmp_name)
        os.makedirs(tmp, exist_ok=True)
        cfg = lab.simple_config(["127.0.0.1:1"], listen=lab.free_port())
        cfg.upstreams[0].health_check = health_check
        conf = os.path.join(tmp, "proxyd.ini")
        text = lab.render_proxyd_ini(cfg, tmp)
        with open(conf, "w") as f:
            f.write(text)
        line = text.split("\n").index(f"health_check = {health_check}") + 1
        return conf, line

    def run_proxyd(self, *args, timeout=10):
        return subprocess.run([lab.proxyd_binary(), *args], capture_output=True, text=True,
                              timeout=timeout)

    def test_bad_parameter_is_an_error_at_its_line(self):
        conf, line = self.check("interval=2s fall=0 type=http", "bad")
        r = self.run_proxyd("-t", "-c", conf)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(f"{conf}:{line}: error: health_check: invalid fall \"0\"", r.stderr)

    def test_missing_ca_is_a_warning_under_t_and_an_error_at_start(self):
        conf, line = self.check("type=https verify=on ca=missing-ca.pem", "noca")
        r = self.run_proxyd("-t", "-c", conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, re.escape(f"{conf}:{line}: warning: health_check: cannot read")
                         + r' ".*/noca/missing-ca\.pem"')
        r = self.run_proxyd("-c", conf)
        self.assertEqual(r.returncode, 2, r.stderr)
        with open(os.path.join(os.path.dirname(conf), "error.log")) as f:
            self.assertIn("cannot load the CA file", f.read())


if __name__ == "__main__":
    lab.main()
