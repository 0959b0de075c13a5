#!/usr/bin/env python3
"""limit_conn and the proxy rates, proxyd against Debian's nginx 1.22 with one
nginx.conf (proxyd runs what `--import-nginx` makes of it, without a
warning): the same sessions are refused, with the same $status and
$limit_conn_status in the access log and the same error-log lines (level,
text and context); a 32k zone of long keys fills after the same number of
keys (nginx's slab, "ngx_slab_alloc() failed: no memory"); a dry run
refuses nothing; proxy_download_rate paces both alike (figures printed).

    python3 tests/interop/test_nginx_limits.py
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402


def setUpModule():
    lab.require_impl("nginx")
    lab.require_impl("proxyd")


tearDownModule = lab.cleanup_all

# With a 5-digit port: 239-byte keys, 512-byte slab chunks; blanks, so that
# proxyd.ini can continue the value on the next lines.
PAD = " x" * 117
LONG_KEYS = 45

BODY = """
    log_format lim 'port=$server_port status=$status limit=$limit_conn_status';
    limit_conn_zone $binary_remote_addr zone=addr:1m;
    limit_conn_zone "${remote_port}%(pad)s" zone=full:32k;
    upstream echo { server %(echo)s; }
    access_log @DIR@/access.log lim;
    server { listen 127.0.0.1:%(p1)d; proxy_pass echo; limit_conn addr 2; }
    server {
        listen 127.0.0.1:%(p2)d; proxy_pass echo; limit_conn addr 1;
        limit_conn_dry_run on; limit_conn_log_level warn;
    }
    server { listen 127.0.0.1:%(p3)d; proxy_pass echo; limit_conn full 1; }
    server {
        listen 127.0.0.1:%(p4)d; proxy_pass blob; proxy_download_rate 128k;
    }
    upstream blob { server %(blob)s; }
"""

_LINE = re.compile(r"\[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$")


class BlobServer(lab.Backend):
    """Sends 256 KiB to each client, then closes."""

    def handle(self, conn, peer):
        conn.sendall(b"d" * 262144)


def echoes(s) -> bool:
    try:
        s.sendall(b"ping\n")
        return lab.recv_exactly(s, 5) == b"ping\n"
    except OSError:
        return False


class Limits(unittest.TestCase):
    def run_impl(self, impl: str) -> dict:
        echo = lab.EchoServer()
        self.addCleanup(echo.stop)
        blob = BlobServer()
        self.addCleanup(blob.stop)
        ports = {f"p{i}": lab.free_port() for i in range(1, 5)}
        proxy = lab.Proxy(impl)
        self.addCleanup(proxy.stop)
        proxy.start_stream(BODY % dict(ports, pad=PAD, echo=echo.addr, blob=blob.addr),
                           list(ports.values()), main="error_log @DIR@/limits.log info;\n")
        out = {}
        held = []
        for name, port, n in (("limit 2", ports["p1"], 3), ("dry run", ports["p2"], 3),
                              ("full zone", ports["p3"], LONG_KEYS)):
            got = []
            for _ in range(n):
                s = lab.connect(port)
                held.append(s)
                got.append(echoes(s))
            out[name] = got
            for s in held:
                s.close()
            held.clear()
            time.sleep(0.3)  # the sessions end and give their counts back
        t0 = time.monotonic()
        with lab.connect(ports["p4"], timeout=10) as s:
            data, _, _ = lab.recv_until_closed(s, 10)
        out["rate seconds"] = time.monotonic() - t0
        out["rate bytes"] = len(data)
        lines = []
        lab.wait_for(lambda: len(proxy_lines(proxy)) >= 3 + 3 + LONG_KEYS + 1, 3)
        out["access"] = sorted(mask(l, ports) for l in proxy_lines(proxy))
        with open(os.path.join(proxy.tmp, "limits.log"), errors="replace") as f:
            text = f.read()
        for line in text.splitlines():
            m = _LINE.search(line)
            if m and re.search(r"limiting connections|ngx_slab_alloc|more than 255", m.group(2)):
                lines.append(f"[{m.group(1)}] {mask(m.group(2), ports)}")
        out["errors"] = sorted(lines)
        proxy.stop()
        return out

    def test_same_refusals_and_lines_as_nginx(self):
        want = self.run_impl("nginx")
        got = self.run_impl("proxyd")
        lab.report(f"nginx: {want['rate bytes']} bytes at 128k/s in {want['rate seconds']:.2f} s; "
                   f"proxyd: {got['rate bytes']} in {got['rate seconds']:.2f} s; "
                   f"full zone: nginx kept {sum(want['full zone'])} keys, "
                   f"proxyd {sum(got['full zone'])}")
        for key in ("limit 2", "dry run", "full zone", "access", "errors"):
            with self.subTest(key):
                self.assertEqual(got[key], want[key])
        # Not vacuous: nginx did refuse, and did fill the zone.
        self.assertEqual(want["limit 2"], [True, True, False])
        self.assertEqual(want["dry run"], [True, True, True])
        self.assertIn(False, want["full zone"])
        self.assertIn('[crit] ngx_slab_alloc() failed: no memory in limit_conn_zone "full"',
                      want["errors"])
        self.assertEqual(got["rate bytes"], 262144)
        self.assertGreaterEqual(got["rate seconds"], 1.5)
        self.assertGreaterEqual(want["rate seconds"], 1.5)


def proxy_lines(proxy) -> list:
    path = os.path.join(proxy.tmp, "access.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def mask(text: str, ports: dict) -> str:
    for name, port in ports.items():
        text = text.replace(str(port), name.upper())
    return text


if __name__ == "__main__":
    lab.main()
