#!/usr/bin/env python3
"""UDP load for bench/run.sh's `udp` scenario (stdlib only).

    udp_load.py echo HOST PORT                  # answers each datagram with itself
    udp_load.py load HOST PORT CLIENTS SECONDS  # DNS-like closed loop

`load` runs CLIENTS sockets, each with one request in flight: send a small
query, wait for its answer, send the next. A query without an answer within
1 s counts as a timeout and is sent again. At the end it prints one line:

    UDPRESULT requests=N duration_us=D timeouts=T p50_us=A p99_us=B
"""

import os
import select
import socket
import sys
import time


def echo(host: str, port: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((host, port))
    while True:
        data, peer = s.recvfrom(65535)
        try:
            s.sendto(data, peer)
        except OSError:
            pass


def load(host: str, port: int, clients: int, seconds: float) -> None:
    ep = select.epoll()
    socks = {}
    sent_at = {}
    query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"
    for _ in range(clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.connect((host, port))
        socks[s.fileno()] = s
        ep.register(s.fileno(), select.EPOLLIN)
    latencies = []
    requests = timeouts = 0
    start = time.monotonic()
    end = start + seconds
    for fd, s in socks.items():
        s.send(query)
        sent_at[fd] = start
    last_sweep = start
    while True:
        now = time.monotonic()
        if now >= end:
            break
        for fd, _ in ep.poll(0.05):
            s = socks[fd]
            try:
                while s.recv(65535):
                    pass
            except BlockingIOError:
                pass
            except OSError:
                pass
            t = time.monotonic()
            requests += 1
            if len(latencies) < 200000:
                latencies.append(t - sent_at[fd])
            sent_at[fd] = t
            try:
                s.send(query)
            except OSError:
                pass
        if now - last_sweep >= 0.2:
            last_sweep = now
            for fd, t in sent_at.items():
                if now - t > 1.0:
                    timeouts += 1
                    sent_at[fd] = now
                    try:
                        socks[fd].send(query)
                    except OSError:
                        pass
    duration = time.monotonic() - start
    latencies.sort()

    def pct(p):
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e6) if latencies else 0
    print(f"UDPRESULT requests={requests} duration_us={int(duration * 1e6)} timeouts={timeouts} "
          f"p50_us={pct(0.5)} p99_us={pct(0.99)}", flush=True)
    for s in socks.values():
        s.close()


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "echo":
        echo(sys.argv[2], int(sys.argv[3]))
        return 0
    if len(sys.argv) == 6 and sys.argv[1] == "load":
        load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
