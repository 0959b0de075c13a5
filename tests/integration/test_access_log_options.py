#!/usr/bin/env python3
"""proxyd's access_log options as written in proxyd.ini: several access_log
in one [server], if=, escape=json, buffer= with flush= (lines wait in memory
until the timer, USR1 writes them to the old file before reopening, a reload
writes them), and
gzip (members that zcat reads, written when the buffer fills and at exit).

    python3 tests/integration/test_access_log_options.py
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402


setUpModule, tearDownModule = lab.module_fixtures("proxyd")


def lines_of(path: str) -> list:
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return f.read().splitlines()


class AccessLogOptions(lab.ProxydCase):
    def start_with(self, logs: list, formats: dict, escapes: dict = None):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr], log_format=None)
        cfg.log_formats = formats
        cfg.log_escapes = escapes or {}
        cfg.servers[0].extra = [("access_log", v) for v in logs]
        return self.start(cfg)

    def session(self, proxy, data: bytes = b"ping\n") -> None:
        with lab.connect(proxy.listen_port()) as s:
            if data:
                s.sendall(data)
                self.assertEqual(lab.recv_exactly(s, len(data)), data)

    def test_several_logs_each_with_its_format_condition_and_escape(self):
        proxy = self.start_with(
            ["every.log plain", "sent.log js if=$bytes_received", "off.log plain if=0"],
            {"plain": "$status $bytes_received", "js": '{"addr":"$upstream_addr"}'},
            {"js": "json"})
        self.session(proxy)
        self.session(proxy, b"")  # $bytes_received "0": not in sent.log
        every = os.path.join(proxy.tmp, "every.log")
        self.assertIsNotNone(lab.wait_for(lambda: len(lines_of(every)) == 2, 5, 0.01),
                             lines_of(every))
        self.assertEqual(sorted(lines_of(every)), [b"200 0", b"200 5"])
        sent = lines_of(os.path.join(proxy.tmp, "sent.log"))
        self.assertEqual(len(sent), 1)
        self.assertRegex(sent[0], rb'^\{"addr":"127\.0\.0\.1:\d+"\}$')
        self.assertEqual(lines_of(os.path.join(proxy.tmp, "off.log")), [])

    def test_buffer_waits_for_flush_and_usr1_writes_it_before_reopening(self):
        proxy = self.start_with(["now.log f", "later.log f buffer=64k flush=1500ms",
                                 "rotated.log f buffer=64k"], {"f": "$status"})
        now = os.path.join(proxy.tmp, "now.log")
        later = os.path.join(proxy.tmp, "later.log")
        rotated = os.path.join(proxy.tmp, "rotated.log")
        self.session(proxy)
        started = time.monotonic()
        self.assertIsNotNone(lab.wait_for(lambda: lines_of(now), 5, 0.01))
        self.assertEqual(lines_of(later), [], "buffer= wrote before flush=")
        time.sleep(0.5)
        self.assertEqual(lines_of(later), [], "buffer= wrote long before flush=")
        self.assertIsNotNone(lab.wait_for(lambda: lines_of(later), 3, 0.01))
        took = time.monotonic() - started
        self.assertGreater(took, 1.0)
        self.assertLess(took, 1.5 + 0.75)
        # No flush=: the line stays in memory until USR1 (or exit).
        self.assertEqual(lines_of(rotated), [])
        os.rename(rotated, rotated + ".1")
        os.kill(proxy.pid, signal.SIGUSR1)
        self.assertIsNotNone(lab.wait_for(lambda: os.path.exists(rotated), 3, 0.01))
        self.assertEqual(lines_of(rotated + ".1"), [b"200"], "USR1 flushes before reopening")

    def test_a_reload_writes_the_buffers_as_nginx_old_workers_do_at_exit(self):
        proxy = self.start_with(["kept.log f buffer=64k"], {"f": "$status"})
        kept = os.path.join(proxy.tmp, "kept.log")
        self.session(proxy)
        time.sleep(0.3)
        self.assertEqual(lines_of(kept), [], "buffer= without flush= waits")
        proxy.rewrite_config(proxy.config)  # the same file: still a reload
        os.kill(proxy.pid, signal.SIGHUP)
        self.assertIsNotNone(lab.wait_for(lambda: lines_of(kept), 5, 0.01),
                             "the reload did not write the buffer")
        self.assertEqual(lines_of(kept), [b"200"])

    def test_gzip_members_when_the_buffer_fills_and_at_exit(self):
        proxy = self.start_with(["zipped.log.gz f buffer=100 gzip=9"],
                                {"f": "$status $bytes_received line-padding-to-forty-bytes"})
        path = os.path.join(proxy.tmp, "zipped.log.gz")
        for _ in range(6):  # 6 lines of 40 bytes through a 100-byte buffer
            self.session(proxy)
        self.assertIsNotNone(lab.wait_for(lambda: os.path.getsize(path) > 0, 5, 0.01),
                             "a full buffer is written")
        proxy.stop()
        with open(path, "rb") as f:
            data = f.read()
        self.assertGreaterEqual(data.count(b"\x1f\x8b\x08"), 3, "one member per buffer write")
        out = subprocess.run(["zcat", path], capture_output=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.splitlines(), [b"200 5 line-padding-to-forty-bytes"] * 6)


if __name__ == "__main__":
    lab.main()
