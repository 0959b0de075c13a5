#!/usr/bin/env python3
"""One nginx.conf with every stream directive of issue 11
(tests/data/nginx-stream-all/): nginx 1.22 accepts it (`nginx -t`, without
vhosts.conf: server_name is nginx 1.25.5's); `proxyd --import-nginx` carries
all of it with no warning; proxyd runs the result, and what each directive
does shows: SNI routing through ssl_preread and the map (exact, hostnames,
include, named capture), `return` with variables, `set` + `proxy_pass $var`,
server_name choice, the JSON and gzip access logs, `if=`, and syslog.

    python3 tests/interop/test_import_everything.py
"""

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402
import testenv  # noqa: E402

FIXTURE = os.path.join(testenv.REPO, "tests", "data", "nginx-stream-all")
PROXYD = testenv.built_binary("proxyd")
NGINX = lab.NGINX_BIN


client_hello = lab.client_hello


class NameServer(lab.Backend):
    """Sends its name as soon as a connection comes, then closes it after
    reading what came (a close with unread data would be a reset)."""

    def __init__(self, name: str):
        self.answer = f"{name}\n".encode()
        super().__init__()

    def handle(self, conn, peer):
        conn.sendall(self.answer)
        conn.settimeout(0.2)
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass


def ask(port, data, timeout=5.0) -> bytes:
    """Sends `data`, then reads until the proxy closes."""
    s = lab.connect(port, timeout=timeout)
    try:
        if data:
            s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


class Syslog:
    """A UDP socket on loopback that keeps every datagram."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.lines = []

    def drain(self):
        while True:
            try:
                self.lines.append(self.sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                return self.lines

    def close(self):
        self.sock.close()


class ImportEverything(testenv.DaemonCase):
    @classmethod
    def setUpClass(cls):
        testenv.require(testenv.unavailable(built=["proxyd"]) or lab.unavailable_reason("nginx"))
        cls.tmp = tempfile.mkdtemp(prefix="import-all-", dir=lab.tmp_root())
        os.chmod(cls.tmp, 0o755)
        cls.syslog = Syslog()
        cls.ports = {name: lab.free_port() for name in ("TLS", "PROBE", "DIRECT", "VHOST")}
        cls.ups = {name: NameServer(name.lower()) for name in ("UP1", "UP2", "UP3")}
        subst = dict(cls.ports, DIR=cls.tmp, SYSLOG=cls.syslog.port,
                     **{k: v.port for k, v in cls.ups.items()})
        for name in os.listdir(FIXTURE):
            with open(os.path.join(FIXTURE, name)) as f:
                text = f.read()
            for key, value in subst.items():
                text = text.replace(f"@{key}@", str(value))
            with open(os.path.join(cls.tmp, name), "w") as f:
                f.write(text)
        cls.conf = os.path.join(cls.tmp, "nginx.conf")

    @classmethod
    def tearDownClass(cls):
        cls.syslog.close()
        for up in cls.ups.values():
            up.stop()
        if os.environ.get("KEEP_TMP") is None:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_1_nginx_accepts_the_file(self):
        # Debian's 1.22 has no stream server_name: check the file without it.
        ref = os.path.join(self.tmp, "ref")
        os.makedirs(ref, exist_ok=True)
        with open(self.conf) as f:
            text = f.read().replace(f"include {self.tmp}/vhosts.conf;", "")
        text = f"load_module {lab.NGINX_STREAM_MODULE};\n" + text.replace(self.tmp + "/", ref + "/")
        for name in ("pools.map", "office.geo"):
            shutil.copy(os.path.join(self.tmp, name), ref)
        with open(os.path.join(ref, "nginx.conf"), "w") as f:
            f.write(text)
        r = subprocess.run([NGINX, "-t", "-p", ref + "/", "-c", os.path.join(ref, "nginx.conf"),
                            "-e", os.path.join(ref, "error.log")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_2_import_warns_for_nothing_and_runs(self):
        r = subprocess.run([PROXYD, "--import-nginx", self.conf], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "", "the importer dropped something")
        ini = os.path.join(self.tmp, "proxyd.ini")
        with open(ini, "w") as f:
            f.write(r.stdout)
        check = subprocess.run([PROXYD, "-t", "-c", ini], capture_output=True, text=True,
                               timeout=30)
        self.assertEqual(check.returncode, 0, check.stderr + "\n" + r.stdout)
        proc = testenv.Process([PROXYD, "-c", ini], os.path.join(self.tmp, "proxyd.out"))
        self.own(proc, proc.stop)
        self.wait(lambda: all(lab.listening(p) for p in self.ports.values()), 5,
                  lambda: "proxyd listening\n" + proc.output())
        tls = self.ports["TLS"]
        # SNI routing: exact, hostnames wildcard, include, named capture, default.
        self.assertEqual(ask(tls, client_hello("api.example.com")), b"up1\n")
        self.assertEqual(ask(tls, client_hello("x.apps.example.com")), b"up2\n")
        self.assertEqual(ask(tls, client_hello("a.shop.example.com")), b"up2\n")
        self.assertEqual(ask(tls, client_hello("db1.example.com")), b"up1\n")
        self.assertEqual(ask(tls, client_hello("legacy.example.org")), b"up3\n")
        self.assertEqual(ask(tls, client_hello()), b"up3\n")
        # return with a volatile map value; set + proxy_pass $var.
        self.assertEqual(ask(self.ports["PROBE"], b""), b"ok 127.0.0.1\n")
        self.assertEqual(ask(self.ports["DIRECT"], b""), b"up2\n")
        # server_name: by the SNI, else the default_server.
        vhost = self.ports["VHOST"]
        self.assertEqual(ask(vhost, client_hello("v2.example.com")), b"api api.example.com\n")
        self.assertEqual(ask(vhost, client_hello("b.api.example.com")), b"api api.example.com\n")
        self.assertEqual(ask(vhost, client_hello("else.example.com")),
                         b"default default.example.com\n")
        proc.stop()
        self.assertIsNone(testenv.exit_problem("proxyd", proc.wait(), proc.output()))
        # The buffered logs are written at exit.
        with open(os.path.join(self.tmp, "json.log")) as f:
            records = [json.loads(line) for line in f]
        self.assertEqual(len(records), 6, records)
        self.assertEqual(records[0]["sni"], "api.example.com")
        self.assertEqual(records[0]["pool"], "apiserver")
        self.assertEqual(records[3]["pool"], "db1")
        self.assertEqual(records[0]["region"], "loopback")
        self.assertEqual(records[0]["tag"], "tls")
        self.assertIn(records[0]["variant"], ("a", "b", "c"))
        with gzip.open(os.path.join(self.tmp, "plain.log.gz"), "rt") as f:
            plain = f.read().splitlines()
        self.assertEqual(len(plain), 6, plain)
        self.assertTrue(plain[0].startswith('127.0.0.1 200 "127.0.0.1:'), plain[0])
        # if=$blocked: 127.0.0.1 is not blocked, so the probe logged nothing.
        probe = os.path.join(self.tmp, "probe.log")
        self.assertFalse(os.path.exists(probe) and os.path.getsize(probe), "if=$blocked")
        # syslog: one access-log datagram per TLS session (if=$variant is
        # never empty), local7.info = <190>, tag "edge".
        def access_lines():
            self.syslog.drain()
            got = [x for x in self.syslog.lines if x.startswith("<190>")]
            return got if len(got) >= 6 else None

        testenv.wait_for(access_lines, 3)
        lines = [x for x in self.syslog.lines if x.startswith("<190>")]
        self.assertTrue(lines, self.syslog.lines)
        self.assertEqual(len(lines), 6, lines)
        self.assertIn(" edge: {", lines[0])


if __name__ == "__main__":
    testenv.main()
