#!/usr/bin/env python3
"""The importers through the real binaries: `proxyd --import-nginx` on the
seed's nginx.conf (+ stream/stream.conf + conf.d/default.conf) and
`vrrpd --import-keepalived` on the seed's master1/master2/master3
keepalived.conf print an INI on stdout and FILE:LINE warnings on stderr
(exit 0), and the INI passes `proxyd -t` / `vrrpd -t` (exit 0, warnings
allowed). A syntax error in the source is a FILE:LINE error and a non-zero
exit.

A binary that is not built is a skip (exit 77; a failure under CI, see
tests/lib/testenv.py); once it is there, every import is an assertion: a
non-zero exit or a wrong header fails.

    python3 tests/integration/test_importers.py
"""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import testenv  # noqa: E402

ROOT = testenv.REPO
SEED = os.path.join(ROOT, "tests", "data", "seed")
NGINX_CONF = os.path.join(SEED, "nginx", "nginx.conf")
MASTERS = ["master1", "master2", "master3"]

PROXYD = testenv.built_binary("proxyd")
VRRPD = testenv.built_binary("vrrpd")

SEED_FORMAT = (
    "[$time_local] $protocol status:$status, bytes client:$bytes_sent/$bytes_received "
    "$session_time, client: $remote_addr, upstream:\"$upstream_addr\", bytes "
    "upstream:$upstream_bytes_sent $upstream_bytes_received $upstream_connect_time")


def run(*args, timeout=30):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)


def continued_value(ini, key):
    """The value of `key` as proxyd's reader joins it: continuation lines
    (indented) are appended with one space."""
    lines = ini.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(key + " = "):
            parts = [line[len(key) + 3:].strip()]
            for more in lines[i + 1:]:
                if not more[:1].isspace() or not more.strip():
                    break
                parts.append(more.strip())
            return " ".join(parts)
    return None


class ImportNginx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        testenv.require(testenv.unavailable(built=["proxyd"]))

    def test_the_import_prints_the_ini_header(self):
        r = run(PROXYD, "--import-nginx", NGINX_CONF)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("; proxyd.ini imported from"), r.stdout[:200])

    def test_the_seed_imports_and_passes_proxyd_t(self):
        r = run(PROXYD, "--import-nginx", NGINX_CONF)
        self.assertEqual(r.returncode, 0, r.stderr)
        ini = r.stdout
        for line in ini.splitlines():
            self.assertLessEqual(len(line), 199, line)
        self.assertIn("[upstream k8sapiserver]", ini)
        self.assertIn("hash = $remote_addr consistent", ini)
        for n in (11, 12, 13):
            self.assertIn(f"server = 192.0.2.{n}:6443 max_fails=3 fail_timeout=30s", ini)
        self.assertIn("listen = 10443", ini)
        self.assertIn("proxy_connect_timeout = 1s", ini)
        self.assertIn("access_log = logs/10443_access.log proxy", ini)
        self.assertIn("[status]\nlisten = 10088", ini)
        self.assertEqual(continued_value(ini, "format"), SEED_FORMAT)
        # Warnings: FILE:LINE, one per http directive name.
        self.assertIn(f"{NGINX_CONF}:15: warning: gzip is not supported by proxyd: dropped",
                      r.stderr)
        self.assertEqual(r.stderr.count(": gzip is not supported"), 1)
        self.assertIn("becomes [status] listen = 10088", r.stderr)

        with tempfile.TemporaryDirectory(prefix="test_importers.") as tmp:
            os.mkdir(os.path.join(tmp, "logs"))
            out = os.path.join(tmp, "proxyd.ini")
            with open(out, "w") as f:
                f.write(ini)
            t = run(PROXYD, "-t", "-c", out, "-p", tmp)
            self.assertEqual(t.returncode, 0, t.stdout + t.stderr)
            self.assertNotIn(": error:", t.stdout + t.stderr)

    def test_a_syntax_error_is_file_line_and_fails(self):
        with tempfile.TemporaryDirectory(prefix="test_importers.") as tmp:
            bad = os.path.join(tmp, "nginx.conf")
            with open(bad, "w") as f:
                f.write("stream {\n    server {\n        listen 10443\n    }\n}\n")
            r = run(PROXYD, "--import-nginx", bad)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(f"{bad}:4: error: unexpected \"}}\"", r.stderr)


class ImportKeepalived(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        testenv.require(testenv.unavailable(built=["vrrpd"]))

    def test_the_import_prints_the_ini_header(self):
        for node in MASTERS:
            with self.subTest(node=node):
                src = os.path.join(SEED, "keepalived", node, "keepalived.conf")
                r = run(VRRPD, "--import-keepalived", src)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith("; vrrpd.ini imported from"),
                                r.stdout[:200])

    def test_the_seed_nodes_import_and_pass_vrrpd_t(self):
        for node, priority in zip(MASTERS, (100, 80, 60)):
            with self.subTest(node=node):
                src = os.path.join(SEED, "keepalived", node, "keepalived.conf")
                r = run(VRRPD, "--import-keepalived", src)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(f"priority = {priority}", r.stdout)
                self.assertIn("auth_pass = K8SHA_KA_AUTH", r.stdout)
                self.assertIn(f"{src}:22: warning: auth_pass:", r.stderr)
                self.assertIn(f"{src}:29: warning: track_script check_nginx: weight -2",
                              r.stderr)
                self.assertEqual(f"{src}:19: warning: nopreempt" in r.stderr,
                                 node == "master1")
                with tempfile.TemporaryDirectory(prefix="test_importers.") as tmp:
                    out = os.path.join(tmp, "vrrpd.ini")
                    with open(out, "w") as f:
                        f.write(r.stdout)
                    t = run(VRRPD, "-t", "-f", out)
                    self.assertEqual(t.returncode, 0, t.stdout + t.stderr)
                    self.assertNotIn(": error:", t.stdout + t.stderr)

    def test_a_syntax_error_is_file_line_and_fails(self):
        with tempfile.TemporaryDirectory(prefix="test_importers.") as tmp:
            bad = os.path.join(tmp, "keepalived.conf")
            with open(bad, "w") as f:
                f.write("vrrp_instance VI_1 {\n    state BACKUP\n")
            r = run(VRRPD, "--import-keepalived", bad)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(f"{bad}:1: error: ", r.stderr)


if __name__ == "__main__":
    testenv.main()
