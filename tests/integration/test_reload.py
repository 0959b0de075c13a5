#!/usr/bin/env python3
"""Reload (HUP, -s reload) under load: continuous new sessions plus long
established ones while reloading several times, one reload adding a
listener: zero failed and zero dropped. Unchanged listening sockets are the
same sockets after a reload; a bad configuration keeps the old one serving
and logs FILE:LINE.

    python3 tests/integration/test_reload.py
"""

import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402


setUpModule, tearDownModule = lab.module_fixtures("proxyd")


def listen_inodes(port: int) -> set:
    """The inodes of the sockets listening on 127.0.0.1:port (/proc/net/tcp)."""
    want = f"0100007F:{port:04X}"
    out = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[1] == want and parts[3] == "0A":
                out.add(parts[9])
    return out


class ReloadCase(lab.ProxydCase):

    def wait_generation(self, port, gen, timeout=5.0):
        return self.wait_status(port, lambda d: d["process"]["config_generation"] >= gen,
                                timeout, f"generation {gen}")


class ReloadUnderLoad(ReloadCase):

    def test_zero_failed_zero_dropped(self):
        echo = self.backend(lab.EchoServer)
        echo2 = lab.EchoServer()
        self.addCleanup(echo2.stop)
        cfg = lab.simple_config([echo.addr])
        cfg.worker_processes = 2
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        port = proxy.listen_port()
        inodes = listen_inodes(port)
        self.assertEqual(len(inodes), 2)  # one SO_REUSEPORT socket per worker

        # Long sessions (kube watches), pinged throughout.
        long_sessions = [lab.connect(port, timeout=5) for _ in range(20)]
        for s in long_sessions:
            self.addCleanup(s.close)
        stop = threading.Event()
        counts = {"ok": 0, "failed": 0, "errors": []}
        lock = threading.Lock()

        def churn(target_port_fn):
            while not stop.is_set():
                try:
                    with lab.connect(target_port_fn(), timeout=5) as s:
                        s.sendall(b"ping\n")
                        got = lab.recv_exactly(s, 5)
                    ok = got == b"ping\n"
                    err = None if ok else f"got {got!r}"
                except OSError as e:
                    ok, err = False, repr(e)
                with lock:
                    if ok:
                        counts["ok"] += 1
                    else:
                        counts["failed"] += 1
                        counts["errors"].append(err)

        threads = [threading.Thread(target=churn, args=(lambda: port,), daemon=True)
                   for _ in range(4)]
        for t in threads:
            t.start()

        def ping_long(tag):
            dropped = 0
            for s in long_sessions:
                try:
                    s.sendall(tag)
                    if lab.recv_exactly(s, len(tag)) != tag:
                        dropped += 1
                except OSError:
                    dropped += 1
            return dropped

        dropped = ping_long(b"before\n")
        second = lab.free_port()
        reloads = [
            # 1: a different proxy_timeout for new sessions
            lambda c: setattr(c.servers[0], "proxy_timeout", "5m"),
            # 2: a new listener (and server block)
            lambda c: c.servers.append(lab.ServerBlock("second", second, "backends",
                                                       log_format="all")),
            # 3: a second upstream server: a new group for new sessions
            lambda c: c.upstreams[0].servers.append(echo2.addr),
            # 4: the status page's access list changes, same socket
            lambda c: setattr(c, "status_rules", [("allow", "127.0.0.0/8"), ("deny", "all")]),
            # 5: nothing changes
            lambda c: None,
        ]
        t0 = time.monotonic()
        for i, change in enumerate(reloads):
            change(cfg)
            proxy.rewrite_config(cfg)
            proxy.proc.send_signal(1)  # SIGHUP
            self.wait_generation(cfg.status_listen, i + 2)
            time.sleep(0.3)
            dropped += ping_long(f"after reload {i + 1}\n".encode())
            if i == 1:
                threads.append(threading.Thread(target=churn, args=(lambda: second,),
                                                daemon=True))
                threads[-1].start()
        elapsed = time.monotonic() - t0
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(10)
        dropped += ping_long(b"at the end\n")
        self.report(f"{len(reloads)} reloads in {elapsed:.2f} s: {counts['ok']} new sessions ok, "
               f"{counts['failed']} failed; {len(long_sessions)} long sessions, "
               f"{dropped} dropped")
        self.assertEqual(counts["failed"], 0, counts["errors"][:5])
        self.assertEqual(dropped, 0)
        self.assertGreater(counts["ok"], 50)
        # The listening sockets of the first server are the same sockets.
        self.assertEqual(listen_inodes(port), inodes)
        self.assertTrue(lab.listening(second))
        doc = self.status(cfg.status_listen)
        self.assertEqual(doc["process"]["reloads"], 5)
        self.assertEqual(doc["process"]["reload_failures"], 0)
        self.assertEqual([x["server"] for x in doc["listeners"]], ["main", "second"])
        # Counters survive reloads.
        self.assertGreaterEqual(doc["listeners"][0]["sessions"]["total"], counts["ok"] // 2)

        # Removing the second server closes its socket.
        cfg.servers.pop()
        proxy.rewrite_config(cfg)
        proxy.proc.send_signal(1)
        self.wait_generation(cfg.status_listen, len(reloads) + 2)
        lab.wait_for(lambda: not lab.listening(second), 3, 0.02)
        self.assertFalse(lab.listening(second))
        self.assertEqual(ping_long(b"still here\n"), 0)

    def test_failure_state_kept_for_unchanged_group(self):
        dead = f"127.0.0.1:{lab.refused_port()}"
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([dead, echo.addr])
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"x")
            lab.recv_exactly(s, 1)
        before = self.status(cfg.status_listen)["upstreams"][0]["servers"][0]
        self.assertEqual(before["state"], "failed")
        cfg.servers[0].proxy_timeout = "1m"   # the [upstream] does not change
        proxy.rewrite_config(cfg)
        proxy.proc.send_signal(1)
        after = self.wait_generation(cfg.status_listen, 2)["upstreams"][0]["servers"][0]
        self.assertEqual(after["state"], "failed")
        self.assertEqual(after["failures"], 1)


class BadReload(ReloadCase):

    def test_bad_config_keeps_old_and_logs_file_line(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        port = proxy.listen_port()
        with open(proxy.conf_path) as f:
            good = f.read()
        bad = good + "\n[server extra]\nlisten = 127.0.0.1:1\nproxy_pass = nowhere\nbogus = 1\n"
        with open(proxy.conf_path, "w") as f:
            f.write(bad)
        lines = bad.split("\n")
        bogus_line = lines.index("bogus = 1") + 1
        pass_line = lines.index("proxy_pass = nowhere") + 1
        proxy.proc.send_signal(1)
        doc = self.wait_status(cfg.status_listen, lambda d: d["process"]["reload_failures"],
                               what="a failed reload")
        self.assertEqual(doc["process"]["reload_failures"], 1)
        self.assertEqual(doc["process"]["config_generation"], 1)
        self.assertFalse(doc["process"]["last_reload"]["ok"])
        errors = doc["process"]["last_reload"]["errors"]
        self.report(f"reload errors: {errors}")
        with open(os.path.join(proxy.tmp, "error.log")) as f:
            log = f.read()
        for line in (bogus_line, pass_line):
            self.assertRegex(log, re.escape(f"{proxy.conf_path}:{line}: error: "))
            self.assertTrue(any(e.startswith(f"{proxy.conf_path}:{line}: error: ") for e in errors))
        # The old configuration still serves.
        with lab.connect(port) as s:
            s.sendall(b"still\n")
            self.assertEqual(lab.recv_exactly(s, 6), b"still\n")
        # And a good one is taken afterwards.
        with open(proxy.conf_path, "w") as f:
            f.write(good)
        proxy.proc.send_signal(1)
        doc = self.wait_generation(cfg.status_listen, 2)
        self.assertTrue(doc["process"]["last_reload"]["ok"])

    def test_busy_new_address_rejects_the_reload(self):
        echo = self.backend(lab.EchoServer)
        blocker = lab.EchoServer()   # binds without SO_REUSEPORT
        self.addCleanup(blocker.stop)
        cfg = lab.simple_config([echo.addr])
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        cfg.servers.append(lab.ServerBlock("busy", blocker.port, "backends"))
        proxy.rewrite_config(cfg)
        proxy.proc.send_signal(1)
        doc = self.wait_status(cfg.status_listen, lambda d: d["process"]["reload_failures"],
                               what="a failed reload")
        self.assertEqual(doc["process"]["reload_failures"], 1, doc["process"])
        self.assertIn("bind()", doc["process"]["last_reload"]["errors"][0])
        with lab.connect(proxy.listen_port("main")) as s:
            s.sendall(b"ok\n")
            self.assertEqual(lab.recv_exactly(s, 3), b"ok\n")


if __name__ == "__main__":
    lab.main()
