#!/usr/bin/env python3
"""Opens N sessions through a proxy to an echo backend and holds them idle.

Each session sends one small message and waits for its echo, so that the proxy
has connected the upstream and relayed data both ways (buffers that a proxy
allocates lazily are allocated).  Then all sockets stay open and idle.

Usage: idle_client.py HOST PORT N READY_FILE HOLD_SECONDS

READY_FILE gets "ok N SECONDS" once all N sessions are established (or
"fail K REASON" after K good ones); the client then holds the sockets until it
is killed or HOLD_SECONDS have passed, whichever comes first.
"""
import os
import resource
import socket
import sys
import time

MESSAGE = b"ping from the idle-session bench\n"


def main() -> int:
    host, port, n, ready_file, hold = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                       sys.argv[4], float(sys.argv[5]))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, n + 64) if hard != resource.RLIM_INFINITY else n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    socks = []
    start = time.monotonic()
    status = None
    try:
        for _ in range(n):
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(MESSAGE)
            got = b""
            while len(got) < len(MESSAGE):
                chunk = s.recv(len(MESSAGE) - len(got))
                if not chunk:
                    raise ConnectionError("proxy closed the session before the echo")
                got += chunk
            if got != MESSAGE:
                raise ConnectionError("echo mismatch")
            socks.append(s)
        status = f"ok {len(socks)} {time.monotonic() - start:.3f}\n"
    except Exception as exc:  # report, do not hang
        status = f"fail {len(socks)} {type(exc).__name__}: {exc}\n".replace("\n", " ") + "\n"
    tmp = ready_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(status)
    os.replace(tmp, ready_file)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        time.sleep(0.2)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
