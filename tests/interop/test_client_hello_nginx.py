#!/usr/bin/env python3
"""The ClientHello cases of tests/data/client_hello against Debian's nginx:
what its ssl_preread makes of each one must be what expected.tsv says, the
table tests/unit/proxyd/client_hello_test.cc holds our parser to. So the
golden values come from nginx, not from our parser.

Each case is sent to an nginx `stream { server { ssl_preread on; return } }`
on loopback without closing: an answer before preread_timeout means the
preread ended (done, or declined with its debug reason in the error log);
none means nginx waits for more (need_more), and a half-close then makes it
go on with what it has read. The access log shows the three variables ("-"
when not found: nginx forgets a declined hello).

    python3 tests/interop/test_client_hello_nginx.py
    python3 tests/interop/test_client_hello_nginx.py --write   # rewrite expected.tsv from nginx
"""

import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402
import testenv  # noqa: E402

CASES = os.path.join(testenv.REPO, "tests", "data", "client_hello")
EXPECTED = os.path.join(CASES, "expected.tsv")
# nginx answers at once when the preread ends; a case counts as waiting when
# no answer came in this long (preread_timeout is far longer).
WAIT_SECONDS = 1.0
HEADER = ("# What Debian's nginx 1.22 (ssl_preread) makes of each case, written by\n"
          "# tests/interop/test_client_hello_nginx.py --write. Columns (tab-separated):\n"
          "# case, state (done / declined / need_more), $ssl_preread_protocol,\n"
          "# $ssl_preread_server_name, $ssl_preread_alpn_protocols (\"\" when empty,\n"
          "# - when not found: nginx forgets a declined hello), the debug reason.\n")


def read_case(path):
    with open(path) as f:
        return bytes.fromhex("".join(line for line in f if not line.startswith("#")))


def case_names():
    return sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(CASES, "*.hex")))


def read_expected():
    rows = {}
    with open(EXPECTED) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            rows[fields[0]] = fields[1:]
    return rows


def show(value):
    return '""' if value == "" else value


class Nginx:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="nginx-hello-", dir=lab.tmp_root())
        self.port = lab.free_port()
        module = (f"load_module {lab.NGINX_STREAM_MODULE};\n"
                  if os.path.exists(lab.NGINX_STREAM_MODULE) else "")
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""{module}worker_processes 1;
error_log {self.tmp}/error.log debug;
events {{ worker_connections 64; }}
stream {{
    log_format hello '$ssl_preread_protocol|$ssl_preread_server_name|$ssl_preread_alpn_protocols';
    access_log {self.tmp}/access.log hello;
    server {{
        listen 127.0.0.1:{self.port};
        ssl_preread on;
        preread_timeout 30s;
        return "x";
    }}
}}
""")
        self.proc = subprocess.Popen(
            [lab.NGINX_BIN, "-p", self.tmp + "/", "-c", conf, "-e", f"{self.tmp}/error.log",
             "-g", f"daemon off; master_process off; pid {self.tmp}/nginx.pid;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=testenv.die_with_parent())
        if testenv.wait_for(lambda: lab.listening(self.port), 5) is None:
            self.stop()
            raise RuntimeError("nginx did not listen")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _size(self, name):
        path = os.path.join(self.tmp, name)
        return os.path.getsize(path) if os.path.exists(path) else 0

    def _tail(self, name, since):
        with open(os.path.join(self.tmp, name), "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def preread(self, data):
        """(state, protocol, server_name, alpn, reason) as nginx saw `data`."""
        log_at, err_at = self._size("access.log"), self._size("error.log")
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(data)
            s.settimeout(WAIT_SECONDS)
            try:
                answered = s.recv(1) == b"x"
            except socket.timeout:
                answered = False
            if not answered:
                s.shutdown(socket.SHUT_WR)
                s.settimeout(10)
                s.recv(1)
        testenv.wait_for(lambda: self._size("access.log") > log_at, 5)
        fields = self._tail("access.log", log_at).splitlines()[0].split("|")
        debug = self._tail("error.log", err_at)
        reasons = re.findall(r"ssl preread: ((?!state )[^\n]*)", debug)
        reason = reasons[-1] if reasons else ""
        if not answered:
            return ["need_more"] + fields + [""]
        if fields == ["-", "-", "-"]:
            return ["declined"] + fields + ["ssl preread: " + reason]
        return ["done"] + fields + [""]


class ClientHelloAgainstNginx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        lab.require_impl("nginx")
        cls.nginx = Nginx()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()

    def test_every_case_as_expected(self):
        expected = read_expected()
        self.assertEqual(sorted(expected), case_names(), "expected.tsv must list every case")
        for name in case_names():
            with self.subTest(case=name):
                got = self.nginx.preread(read_case(os.path.join(CASES, name + ".hex")))
                want = [v if v != '""' else "" for v in expected[name]]
                self.assertEqual(got, want)


def write_expected():
    lab.require_impl("nginx")
    nginx = Nginx()
    try:
        with open(EXPECTED, "w") as f:
            f.write(HEADER)
            for name in case_names():
                row = nginx.preread(read_case(os.path.join(CASES, name + ".hex")))
                f.write("\t".join([name] + [show(v) for v in row]) + "\n")
    finally:
        nginx.stop()


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_expected()
        sys.exit(0)
    testenv.main()
