#!/usr/bin/env python3
"""Transports and socket options (issue 12): UNIX-domain listen and
upstreams with nginx's $remote_addr/$server_addr/$upstream_addr texts, the
socket file's life (0666, removed at exit, a stale one replaced, a live one
refused), listen backlog= and so_keepalive= as the kernel shows them (ss),
proxy_socket_keepalive and proxy_bind to a loopback address.

    PROXYD_BIN=build/bin/proxyd python3 tests/integration/test_sockets.py
"""

import os
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

setUpModule, tearDownModule = lab.module_fixtures("proxyd")

FORMAT = ("remote=$remote_addr rport=$remote_port server=$server_addr "
          "sport=$server_port up=$upstream_addr status=$status")


class PeerServer(threading.Thread):
    """Answers each connection with the peer address it sees, then closes."""

    def __init__(self, family=socket.AF_INET, addr=("127.0.0.1", 0)):
        super().__init__(daemon=True)
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(addr)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop_flag = False
        self.held = []
        self.start()

    def run(self):
        while not self.stop_flag:
            try:
                c, peer = self.sock.accept()
            except OSError:
                continue
            try:
                c.recv(100)
                c.sendall(f"peer={peer!r}\n".encode())
            except OSError:
                pass  # a client gone first (the second proxyd's probe)
            self.held.append(c)  # open until stop(): ss can see it

    def stop(self):
        self.stop_flag = True
        self.join(2)
        for c in self.held:
            c.close()
        self.sock.close()


def ss(*args) -> str:
    return subprocess.run(["ss", *args], capture_output=True, text=True, timeout=10).stdout


class UnixSockets(unittest.TestCase):

    def setUp(self):
        self.dir = lab.tmp_root()
        self.tmp = os.path.join(self.dir, f"sock-{os.getpid()}-{id(self)}")
        os.makedirs(self.tmp)
        self.back = os.path.join(self.tmp, "back.sock")
        self.front = os.path.join(self.tmp, "in.sock")
        self.backend = PeerServer(socket.AF_UNIX, self.back)
        self.probe = lab.free_port()

    def tearDown(self):
        self.backend.stop()
        for p in (self.back, self.front):
            if os.path.lexists(p):
                os.unlink(p)

    def body(self) -> str:
        return (f"log_format f '{FORMAT}';\n"
                f"server {{ listen unix:{self.front}; proxy_pass unix:{self.back};\n"
                f"  access_log @DIR@/access.log f; }}\n"
                f"server {{ listen 127.0.0.1:{self.probe}; return ok; }}\n")

    def session(self) -> bytes:
        deadline = time.monotonic() + 3
        while not os.path.exists(self.front) and time.monotonic() < deadline:
            time.sleep(0.02)
        with socket.socket(socket.AF_UNIX) as c:
            c.settimeout(3)
            c.connect(self.front)
            c.sendall(b"hi")
            return c.recv(100)

    def test_unix_listen_and_upstream_with_nginx_texts(self):
        proxy = lab.Proxy("proxyd")
        try:
            proxy.start_stream(self.body(), [self.probe])
            self.assertEqual(self.session(), b"peer=''\n")
            mode = stat.S_IMODE(os.lstat(self.front).st_mode)
            self.assertEqual(mode, 0o666, "nginx makes the socket file 0666")
            log = os.path.join(proxy.tmp, "access.log")
            lab.wait_for(lambda: os.path.exists(log) and os.path.getsize(log) > 0, 3, 0.02)
            with open(log) as f:
                line = f.read().strip()
            self.assertEqual(line, f"remote=unix: rport= server=unix:{self.front} sport= "
                                   f"up=unix:{self.back} status=200")
        finally:
            proxy.stop()
        self.assertIsNone(proxy.exit_problem())
        self.assertFalse(os.path.lexists(self.front), "the socket file is removed at exit")

    def test_stale_file_replaced_live_one_and_links_refused(self):
        # A socket file nothing accepts on (a proxyd that was killed).
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(self.front)
        stale.close()
        proxy = lab.Proxy("proxyd")
        try:
            proxy.start_stream(self.body(), [self.probe])
            self.assertEqual(self.session(), b"peer=''\n")
            # A second proxyd finds it live and fails as nginx: in use.
            with self.assertRaises(lab.ProxyStartError) as ctx:
                lab.Proxy("proxyd").start_stream(self.body(), [lab.free_port()])
            self.assertIn("Address already in use", str(ctx.exception))
        finally:
            proxy.stop()
        # A symbolic link there is never followed nor removed.
        target = os.path.join(self.tmp, "target")
        open(target, "w").close()
        os.symlink(target, self.front)
        with self.assertRaises(lab.ProxyStartError) as ctx:
            lab.Proxy("proxyd").start_stream(self.body(), [self.probe])
        self.assertIn("Address already in use", str(ctx.exception))
        self.assertTrue(os.path.islink(self.front))
        self.assertTrue(os.path.exists(target))


class SocketOptions(unittest.TestCase):

    def test_backlog_keepalive_and_proxy_bind(self):
        backend = PeerServer()
        port = lab.free_port()
        body = (f"server {{ listen 127.0.0.1:{port} backlog=7 so_keepalive=77s:5s:3 fastopen=5 "
                f"deferred;\n  proxy_pass 127.0.0.1:{backend.sock.getsockname()[1]};\n"
                f"  proxy_bind 127.0.0.2; proxy_socket_keepalive on; }}\n")
        proxy = lab.Proxy("proxyd")
        try:
            proxy.start_stream(body, [port])
            listen = ss("-Hltn", f"sport = :{port}")
            print(f"ss listen: {listen.strip()}")
            self.assertEqual(listen.split()[2], "7", "Send-Q of a listener is its backlog")
            with socket.create_connection(("127.0.0.1", port), timeout=3) as c:
                c.sendall(b"hi")
                answer = c.recv(100)
                self.assertTrue(answer.startswith(b"peer=('127.0.0.2', "), answer)
                # proxyd's side of the client connection inherited
                # SO_KEEPALIVE with TCP_KEEPIDLE 77 s from the listener.
                accepted = ss("-Htno", "state", "established", f"sport = :{port}")
                print(f"ss accepted: {accepted.strip()}")
                self.assertIn("timer:(keepalive,1min", accepted)
                upstream = ss("-Htno", "state", "established", "src", "127.0.0.2")
                self.assertIn("keepalive", upstream, "proxy_socket_keepalive on")
        finally:
            proxy.stop()
            backend.stop()
        self.assertIsNone(proxy.exit_problem())


if __name__ == "__main__":
    lab.main()
