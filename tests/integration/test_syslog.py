#!/usr/bin/env python3
"""proxyd's syslog targets caught on local sockets: access_log lines on a
unix datagram socket, a debug-level error_log over UDP with nginx's stream
debug lines (accept, connect, finalize, close, all "*N"), the error_log
chain (a warn-level file beside it gets none of them), and a dead syslog
server: sessions go on, the lines are counted as lost and the error log
says so once.

    python3 tests/integration/test_syslog.py
"""

import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402

setUpModule, tearDownModule = lab.module_fixtures("proxyd")

_RFC3164 = re.compile(r"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} (\S+) (\w*): (.*)$", re.S)


def session(port: int) -> bytes:
    with lab.connect(port) as s:
        s.sendall(b"ping\n")
        return lab.recv_exactly(s, 5)


class Catcher:
    def __init__(self, family, address):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(3)

    def lines(self, until, limit: int = 50) -> list:
        """Datagrams, parsed, until `until(parsed)` holds for the last one."""
        got = []
        while len(got) < limit:
            m = _RFC3164.match(self.sock.recv(65536).decode())
            got.append(m.groups() if m else None)
            if got[-1] is None or until(got[-1]):
                break
        return got

    def stop(self):
        self.sock.close()


class SyslogTargets(lab.ProxydCase):
    def config(self, echo, access_log: str, error_logs: list) -> "lab.Config":
        sb = lab.ServerBlock("main", lab.free_port(), "backends", error_log=error_logs[0],
                             extra=[("access_log", f"{access_log} p")] +
                             [("error_log", e) for e in error_logs[1:]])
        return lab.Config(upstreams=[lab.Upstream("backends", [echo.addr])], servers=[sb],
                          log_formats={"p": "$remote_addr $status $bytes_received"},
                          status_listen=lab.free_port())

    def test_access_and_debug_lines_reach_their_sockets(self):
        echo = self.backend(lab.EchoServer)
        udp = self.own(Catcher(socket.AF_INET, ("127.0.0.1", 0)))
        path = os.path.join(lab.tmp_root(), f"syslog-{os.getpid()}.sock")
        unix = self.own(Catcher(socket.AF_UNIX, path))
        self.addCleanup(os.unlink, path)
        udp_port = udp.sock.getsockname()[1]
        warn_file = os.path.join(lab.tmp_root(), f"warn-{os.getpid()}.log")
        proxy = self.start(self.config(
            echo, f"syslog:server=unix:{path},facility=local0,tag=acc,nohostname",
            [f"syslog:server=127.0.0.1:{udp_port},tag=err debug", f"{warn_file} warn"]))
        self.assertEqual(session(proxy.listen_port()), b"ping\n")

        raw = unix.sock.recv(65536).decode()
        # local0.info = 16*8+6; nohostname: TAG right after the time; no newline.
        self.assertRegex(raw, r"^<134>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} acc: "
                              r"127\.0\.0\.1 200 5$")

        debug = udp.lines(lambda g: "close stream connection" in g[3])
        self.assertNotIn(None, debug)
        host = socket.gethostname().lower()
        for pri, hostname, tag, _ in debug:
            self.assertEqual((hostname, tag), (host, "err"))
        texts = [d[3] for d in debug]
        wanted = [r"accept: 127\.0\.0\.1:\d+ fd:\d+", rf"connect to {re.escape(echo.addr)}, fd:\d+",
                  r"finalize stream proxy: 200", r"close stream connection: \d+"]
        conn = None
        for pattern in wanted:
            line = next((t for t in texts if re.search(r"\[debug\] \d+#\d+: \*\d+ " + pattern, t)),
                        None)
            self.assertIsNotNone(line, f"{pattern} not in {texts}")
            n = re.search(r"\*(\d+) ", line).group(1)
            self.assertEqual(conn or n, n, "one session, one connection number")
            conn = n
            # local7.debug: 23*8+7.
            self.assertEqual(debug[texts.index(line)][0], "191")
        with open(warn_file) as f:
            self.assertNotIn("[debug]", f.read())

    def test_a_dead_server_loses_lines_and_never_stalls_a_session(self):
        echo = self.backend(lab.EchoServer)
        missing = os.path.join(lab.tmp_root(), f"nobody-{os.getpid()}.sock")
        proxy = self.start(self.config(echo, f"syslog:server=unix:{missing}",
                                       [f"{lab.tmp_root()}/errors-{os.getpid()}.log info"]))
        port = proxy.listen_port()
        for _ in range(5):
            self.assertEqual(session(port), b"ping\n")
        status_port = proxy.config.status_listen
        self.wait_status(status_port,
                         lambda d: sum(w["access_log_lost_lines"] for w in d["workers"]) == 5,
                         what="5 access-log lines lost")
        with open(f"{lab.tmp_root()}/errors-{os.getpid()}.log") as f:
            said = [line for line in f if "while logging to syslog" in line]
        # The first loss at once, then at most once a minute.
        self.assertEqual(len(said), 1, said)
        self.assertIn("[warn]", said[0])
        self.assertIn(f"server: syslog:server=unix:{missing}: 1 line(s) lost", said[0])


if __name__ == "__main__":
    lab.main()
