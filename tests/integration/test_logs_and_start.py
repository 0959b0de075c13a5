#!/usr/bin/env python3
"""proxyd's logs across logrotate (USR1 reopens them) and its start-up
errors: a port already in use is a clear message and exit 2, a config typo
is FILE:LINE and exit 1, `-t` and `-T` behave as nginx's.

    python3 tests/integration/test_logs_and_start.py
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402


setUpModule, tearDownModule = lab.module_fixtures("proxyd")


def session(port: int) -> bytes:
    with lab.connect(port) as s:
        s.sendall(b"ping\n")
        return lab.recv_exactly(s, 5)


class LogRotation(lab.ProxydCase):
    def test_usr1_reopens_the_access_log_after_logrotate_moved_it(self):
        echo = self.backend(lab.EchoServer)
        proxy = self.own(lab.Proxy("proxyd").start(lab.simple_config([echo.addr])))
        port = proxy.listen_port()
        path = proxy.access_log_path()

        self.assertEqual(session(port), b"ping\n")
        self.assertEqual(len(proxy.access_log_lines(1)), 1)
        os.rename(path, path + ".1")            # what logrotate does
        self.assertEqual(session(port), b"ping\n")
        time.sleep(0.3)                          # this line still goes to the moved file
        with open(path + ".1") as f:
            self.assertEqual(len(f.read().splitlines()), 2)

        os.kill(proxy.pid, signal.SIGUSR1)
        lab.wait_for(lambda: os.path.exists(path), 2, 0.02)
        self.assertTrue(os.path.exists(path), "USR1 did not reopen the access log")
        self.assertEqual(session(port), b"ping\n")
        self.assertEqual(len(proxy.access_log_lines(1)), 1, "the new file gets the new line")
        with open(path + ".1") as f:
            self.assertEqual(len(f.read().splitlines()), 2, "the old file gets nothing more")


class StartErrors(unittest.TestCase):
    def run_proxyd(self, ini: str, *args, timeout: float = 5.0):
        d = tempfile.mkdtemp(prefix="proxyd-start-", dir=lab.tmp_root())
        conf = os.path.join(d, "proxyd.ini")
        with open(conf, "w") as f:
            f.write(ini)
        p = subprocess.run([lab.proxyd_binary(), "-c", conf, *args], capture_output=True,
                           text=True, timeout=timeout)
        return p, conf

    def test_port_in_use_is_a_clear_error_and_exit_2(self):
        busy = socket.socket()
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        port = busy.getsockname()[1]
        p, _ = self.run_proxyd(f"[upstream u]\nserver = 127.0.0.1:9\n"
                               f"[server s]\nlisten = 127.0.0.1:{port}\nproxy_pass = u\n")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"bind() to 127.0.0.1:{port} failed (98: Address already in use)",
                      p.stderr)

    def test_typo_is_file_line_and_exit_1(self):
        p, conf = self.run_proxyd("[upstream u]\nserver = 127.0.0.1:9\n"
                                  "[server s]\nlisten = 127.0.0.1:1\nproxy_pas = u\n")
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"{conf}:5: error: unknown key \"proxy_pas\" in [server s]", p.stderr)

    def test_t_and_T(self):
        ini = "[upstream u]\nserver = 127.0.0.1:9\n[server s]\nlisten = 127.0.0.1:1\nproxy_pass = u\n"
        p, conf = self.run_proxyd(ini, "-t")
        self.assertEqual(p.returncode, 0)
        self.assertIn(f"configuration file {conf} test is successful", p.stderr)
        p, conf = self.run_proxyd(ini, "-T")
        self.assertEqual(p.returncode, 0)
        self.assertIn(f"# configuration file {conf}:", p.stdout)
        self.assertIn("proxy_pass = u", p.stdout)


if __name__ == "__main__":
    lab.main()
