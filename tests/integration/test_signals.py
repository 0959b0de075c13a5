#!/usr/bin/env python3
"""Stopping and signalling proxyd: QUIT drains (bounded by
worker_shutdown_timeout), TERM stops at once, `-s reload|quit|stop` go
through the pid file, and the sd_notify messages (READY=1, RELOADING=1 with
MONOTONIC_USEC, STATUS=, STOPPING=1) arrive on a test NOTIFY_SOCKET.

    python3 tests/integration/test_signals.py
"""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402
import testenv  # noqa: E402


setUpModule, tearDownModule = lab.module_fixtures("proxyd")


class SignalCase(lab.ProxydCase):

    def echo_config(self, **kw):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr], **kw)
        cfg.status_listen = lab.free_port()
        return cfg

    def wait_exit(self, proxy, timeout):
        t0 = time.monotonic()
        try:
            rc = proxy.proc.wait(timeout)
        except Exception:  # noqa: BLE001
            rc = None
        return rc, time.monotonic() - t0

    def generation(self, cfg):
        doc = json.loads(lab.http_request(cfg.status_listen, "/status")[2])
        return doc["process"]["config_generation"]


class Quit(SignalCase):

    def test_quit_drains_then_exits(self):
        cfg = self.echo_config()
        proxy = self.start(cfg)
        port = proxy.listen_port()
        s = lab.connect(port)
        self.addCleanup(s.close)
        s.sendall(b"one\n")
        self.assertEqual(lab.recv_exactly(s, 4), b"one\n")
        proxy.proc.send_signal(signal.SIGQUIT)
        lab.wait_for(lambda: not lab.listening(port), 3, 0.02)
        self.assertFalse(lab.listening(port), "still accepting after QUIT")
        # The established session goes on.
        time.sleep(0.5)
        self.assertIsNone(proxy.proc.poll(), "exited with a session running")
        s.sendall(b"two\n")
        self.assertEqual(lab.recv_exactly(s, 4), b"two\n")
        s.close()
        rc, took = self.wait_exit(proxy, 5)
        self.report(f"QUIT: exited {took:.3f} s after the last session ended, rc {rc}")
        self.assertEqual(rc, 0)
        self.assertLess(took, 2.0)

    def test_worker_shutdown_timeout_bounds_the_drain(self):
        cfg = self.echo_config()
        cfg.main_extra = [("worker_shutdown_timeout", "1s")]
        proxy = self.start(cfg)
        s = lab.connect(proxy.listen_port())
        self.addCleanup(s.close)
        s.sendall(b"x")
        lab.recv_exactly(s, 1)
        t0 = time.monotonic()
        proxy.proc.send_signal(signal.SIGQUIT)
        _, how, _ = lab.recv_until_closed(s, 5)
        rc, _ = self.wait_exit(proxy, 5)
        took = time.monotonic() - t0
        self.report(f"QUIT with worker_shutdown_timeout 1s: session closed ({how}), exit after "
               f"{took:.3f} s, rc {rc}")
        self.assertEqual(rc, 0)
        self.assertIn(how, ("eof", "reset"))
        self.assertGreater(took, 0.9)
        self.assertLess(took, 3.0)


class Term(SignalCase):

    def test_term_stops_at_once(self):
        cfg = self.echo_config()
        cfg.worker_processes = 3
        proxy = self.start(cfg)
        sessions = [lab.connect(proxy.listen_port()) for _ in range(5)]
        for s in sessions:
            self.addCleanup(s.close)
            s.sendall(b"x")
            lab.recv_exactly(s, 1)
        proxy.proc.send_signal(signal.SIGTERM)
        rc, took = self.wait_exit(proxy, 5)
        self.report(f"TERM with 5 sessions: exit after {took:.3f} s, rc {rc}")
        self.assertEqual(rc, 0)
        self.assertLess(took, 1.0)
        for s in sessions:
            _, how, _ = lab.recv_until_closed(s, 2)
            self.assertIn(how, ("eof", "reset"))


class EarlySignal(SignalCase):

    def test_hup_as_soon_as_a_port_listens_reloads(self):
        """A HUP sent the moment the first listening socket appears (a
        supervisor or logrotate may) reloads; it must never meet the default
        action, which kills. Many listeners widen the window in which the
        first port already listens while the rest are still being bound."""
        for attempt in range(3):
            cfg = self.echo_config()
            cfg.worker_processes = 2
            first = cfg.servers[0]
            ports = {first.listen, cfg.status_listen}
            while len(ports) < 62:
                ports.add(lab.free_port())
            ports -= {first.listen, cfg.status_listen}
            cfg.servers += [lab.ServerBlock(f"s{i}", p, first.proxy_pass)
                            for i, p in enumerate(sorted(ports))]
            conf = os.path.join(lab.tmp_root(), f"early-hup-{os.getpid()}-{attempt}.ini")
            with open(conf, "w") as f:
                f.write(lab.render_proxyd_ini(cfg, lab.tmp_root()))
            self.addCleanup(os.unlink, conf)
            err_path = conf + ".stderr"
            self.addCleanup(os.unlink, err_path)
            proc = testenv.Process([lab.proxyd_binary(), "-c", conf], err_path)

            def reloaded() -> bool:
                try:
                    return lab.listening(cfg.status_listen) and self.generation(cfg) >= 2
                except (OSError, ValueError):
                    return False  # the status page is not up yet, or went away with proxyd

            try:
                # No pause between polls: the HUP goes out as the first port listens.
                lab.wait_for(lambda: lab.listening(first.listen) or not proc.alive(), 10, 0)
                proc.send(signal.SIGHUP, group=False)
                took = lab.wait_for(lambda: not proc.alive() or reloaded(), 10, 0.02)
                if not proc.alive():
                    self.fail(f"attempt {attempt}: proxyd died of the early HUP "
                              f"(exit {proc.proc.returncode}): {proc.output()!r}")
                self.assertIsNotNone(took, f"attempt {attempt}: the early HUP did not reload")
                self.report(f"early HUP, attempt {attempt}: reloaded after {took:.3f} s")
            finally:
                proc.kill(signal.SIGTERM, 5)


class ControlThroughPidFile(SignalCase):

    def test_s_reload_quit(self):
        cfg = self.echo_config()
        proxy = self.start(cfg)
        r = proxy.control("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        lab.wait_for(lambda: self.generation(cfg) >= 2, 5, 0.02)
        self.assertEqual(self.generation(cfg), 2)
        r = proxy.control("quit")
        self.assertEqual(r.returncode, 0, r.stderr)
        rc, took = self.wait_exit(proxy, 5)
        self.assertEqual(rc, 0)

    def test_s_stop(self):
        cfg = self.echo_config()
        proxy = self.start(cfg)
        r = proxy.control("stop")
        self.assertEqual(r.returncode, 0, r.stderr)
        rc, took = self.wait_exit(proxy, 5)
        self.assertEqual(rc, 0)
        self.assertFalse(os.path.exists(proxy.pid_file()))


class SdNotify(SignalCase):

    def test_ready_reloading_status_stopping(self):
        cfg = self.echo_config()
        sock, env = self.notify_socket("notify")
        proxy = self.start(cfg, env=env)

        ready = self.recv_notify(sock, lambda m: "READY=1" in m)
        self.assertIn("STATUS=generation 1, 1 worker(s), 1 listener(s)", ready)

        t_before = time.clock_gettime(time.CLOCK_MONOTONIC)
        proxy.proc.send_signal(signal.SIGHUP)
        reloading = self.recv_notify(sock, lambda m: "RELOADING=1" in m)
        usec = int(dict(ln.split("=", 1) for ln in reloading.split("\n"))["MONOTONIC_USEC"])
        self.assertGreaterEqual(usec, int(t_before * 1e6))
        self.assertLess(usec, int((t_before + 5) * 1e6))
        done = self.recv_notify(sock, lambda m: "READY=1" in m)
        self.assertIn("STATUS=reloaded: generation 2", done)

        with open(proxy.conf_path, "a") as f:
            f.write("\n[bogus]\n")
        proxy.proc.send_signal(signal.SIGHUP)
        failed = self.recv_notify(sock, lambda m: "STATUS=reload failed" in m)
        self.report(f"sd_notify after a bad reload: {failed!r}")
        self.assertIn(f"{proxy.conf_path}:", failed)
        self.assertIn("still running generation 2", failed)

        proxy.proc.send_signal(signal.SIGTERM)
        self.recv_notify(sock, lambda m: "STOPPING=1" in m)


if __name__ == "__main__":
    lab.main()
