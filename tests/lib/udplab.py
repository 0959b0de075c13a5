"""UDP pieces of the loopback lab (stdlib only): a datagram upstream that
answers each request with N datagrams naming itself, a port check that
reads /proc/net/udp, and a client that sends and collects answers.

Used by tests/integration/test_udp.py and tests/interop/test_nginx_udp.py.
"""

from __future__ import annotations

import os
import select
import socket
import sys
import threading
import time
from typing import Optional

if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxylab as lab  # noqa: E402


def udp_bound(port: int) -> bool:
    """True when a UDP socket is bound to `port` (any address)."""
    want = f":{port:04X}"
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    if line.split()[1].endswith(want):
                        return True
        except OSError:
            continue
    return False


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A port free for both TCP and UDP (lab.free_port checks TCP; the
    same number is then checked for UDP)."""
    while True:
        port = lab.free_port(host)
        s = socket.socket(lab.family_of(host), socket.SOCK_DGRAM)
        try:
            s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            s.close()


class UdpEcho:
    """A UDP upstream on 127.0.0.1: answers each datagram with `responses`
    datagrams "NAME:i:PAYLOAD" (0 answers nothing), after `delay` seconds.
    Records (peer, payload) of every datagram it received."""

    def __init__(self, name: str = "echo", responses: int = 1, delay: float = 0.0,
                 host: str = "127.0.0.1", port: int = 0):
        self.name = name
        self.responses = responses
        self.delay = delay
        self.sock = socket.socket(lab.family_of(host), socket.SOCK_DGRAM)
        self.sock.bind((host, port or free_udp_port(host)))
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.received: list = []  # (peer, payload)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"UdpEcho:{self.port}")
        self._thread.start()
        lab._register(self)

    @property
    def addr(self) -> str:
        return lab.host_port(self.host, self.port)

    def peers(self) -> set:
        with self._lock:
            return {p for p, _ in self.received}

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([self.sock], [], [], 0.05)
                if not r:
                    continue
                data, peer = self.sock.recvfrom(65535)
            except (OSError, ValueError):
                return
            with self._lock:
                self.received.append((peer, data))
            if self.delay:
                time.sleep(self.delay)
            for i in range(self.responses):
                try:
                    self.sock.sendto(f"{self.name}:{i}:".encode() + data, peer)
                except OSError:
                    pass

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        lab._unregister(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class UdpClient:
    """A client socket bound to its own port: datagrams to the proxy, the
    answers collected with a deadline."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.sock = socket.socket(lab.family_of(host), socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.dest = (host, port)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.dest)

    def collect(self, count: int, timeout: float = 2.0) -> list:
        """Up to `count` datagrams, waiting at most `timeout` in all."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                break
            try:
                out.append(self.sock.recv(65535))
            except OSError:
                break
        return out

    def ask(self, data: bytes, count: int = 1, timeout: float = 2.0) -> list:
        self.send(data)
        return self.collect(count, timeout)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_lines(proxy: "lab.Proxy", path: str, count: int, timeout: float = 5.0) -> list:
    """The first `count` lines of an access log, waiting for them."""
    def read() -> list:
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().splitlines()
    lab.wait_for(lambda: len(read()) >= count, timeout, 0.02)
    return read()


def start_udp_stream(proxy: "lab.Proxy", body: str, udp_ports: list, tcp_ports: Optional[list]
                     = None, timeout: float = 5.0, **kw) -> "lab.Proxy":
    """proxy.start_stream with the error log at info (nginx's UDP session
    lines are info), then waits for the UDP ports to be bound."""
    kw.setdefault("main", "error_log @DIR@/error.log info;\n")
    proxy.start_stream(body, tcp_ports or [], timeout=timeout, **kw)
    if lab.wait_for(lambda: all(udp_bound(p) for p in udp_ports), timeout, 0.02) is None:
        diag = proxy.diagnostics()
        proxy.stop()
        raise lab.ProxyStartError(f"{proxy.impl}: UDP {udp_ports} not bound\n{diag}")
    if proxy.impl == "nginx":
        lab.wait_for(proxy.worker_pids, timeout, 0.02)
    return proxy
