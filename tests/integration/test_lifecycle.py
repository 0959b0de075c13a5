#!/usr/bin/env python3
"""proxyd's life cycle where no other test looked:

- QUIT while a session holds proxyd open: STOPPING=1 arrives on a test
  NOTIFY_SOCKET and checks/check_proxyd.sh fails at once (the status page goes
  first, so the VIP moves while the sessions drain), the session still works.
- USR1 and `-s reopen` reopen the error logs ([main] and per [server]) and the
  access log after logrotate moved them.
- A reload applies `worker_connections` and `error_log` ([main] and
  [server]) at once.
- A reload that changes an [upstream]'s server list starts that group fresh
  (its failure state is reset), where an unchanged one keeps it
  (test_reload.py).

    python3 tests/integration/test_lifecycle.py
"""

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import proxylab as lab  # noqa: E402

CHECK_PROXYD = os.path.normpath(os.path.join(HERE, "..", "..", "checks", "check_proxyd.sh"))


setUpModule, tearDownModule = lab.module_fixtures("proxyd")


def read(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class LifecycleCase(lab.ProxydCase):

    def reload(self, proxy, cfg, gen):
        proxy.rewrite_config(cfg)
        proxy.proc.send_signal(signal.SIGHUP)
        self.wait(lambda: self.status(cfg.status_listen)["process"]["config_generation"] >= gen,
                  what=lambda: f"generation {gen}\n{proxy.error_log()}")

    def echo(self, port, payload=b"ping\n"):
        with lab.connect(port) as s:
            s.sendall(payload)
            return lab.recv_exactly(s, len(payload))

    def two_blocks(self):
        """A live block "main" and a block "broken" whose servers refuse."""
        echo = self.backend(lab.EchoServer)
        dead = f"127.0.0.1:{lab.refused_port()}"
        return lab.Config(
            upstreams=[lab.Upstream("live", [echo.addr]),
                       lab.Upstream("dead", [f"{dead} max_fails=0"])],
            servers=[lab.ServerBlock("main", lab.free_port(), "live", log_format="all"),
                     lab.ServerBlock("broken", lab.free_port(), "dead")],
            log_formats={"all": lab.FORMAT_ALL}, status_listen=lab.free_port())

    def refused_session(self, proxy):
        with lab.connect(proxy.listen_port("broken")) as s:
            lab.recv_until_closed(s, 3)


class QuitWithASession(LifecycleCase):

    def check(self, cfg):
        return subprocess.run([CHECK_PROXYD, "--url", f"http://127.0.0.1:{cfg.status_listen}/",
                               "--timeout", "2"], capture_output=True, text=True, timeout=30)

    def test_quit_sends_stopping_and_fails_the_track_script_while_draining(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.status_listen = lab.free_port()
        sock, env = self.notify_socket("notify-quit")
        proxy = self.start(cfg, env=env)
        self.recv_notify(sock, lambda m: "READY=1" in m.split("\n"))

        r = self.check(cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        held = lab.connect(proxy.listen_port())
        self.addCleanup(held.close)
        self.assertEqual(self.echo_on(held, b"one\n"), b"one\n")

        t0 = time.monotonic()
        proxy.proc.send_signal(signal.SIGQUIT)
        msg = self.recv_notify(sock, lambda m: "STOPPING=1" in m.split("\n"))
        self.report(f"sd_notify after QUIT: {msg!r} ({time.monotonic() - t0:.3f} s)")
        r = self.check(cfg)
        took = time.monotonic() - t0
        self.report(f"check_proxyd.sh after QUIT, one session held: exit {r.returncode} "
               f"({r.stderr.strip()!r}) {took:.3f} s after QUIT")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIsNone(proxy.proc.poll(), "proxyd exited with a session held open")
        self.assertEqual(self.echo_on(held, b"two\n"), b"two\n")
        held.close()
        self.assertEqual(proxy.proc.wait(5), 0)

    def echo_on(self, s, payload):
        s.sendall(payload)
        return lab.recv_exactly(s, len(payload))


class Reopen(LifecycleCase):

    def test_usr1_and_s_reopen_reopen_every_log(self):
        cfg = self.two_blocks()
        proxy = self.start(cfg)
        main_log = os.path.join(proxy.tmp, "error.log")
        broken_log = os.path.join(proxy.tmp, "error_broken.log")
        access = proxy.access_log_path("main")
        self.assertEqual(self.echo(proxy.listen_port("main")), b"ping\n")
        self.refused_session(proxy)
        self.wait(lambda: read(broken_log) and read(access))

        for n, how in enumerate(("USR1", "-s reopen"), 1):
            with self.subTest(how=how):
                moved = {p: f"{p}.{n}" for p in (main_log, broken_log, access)}
                for p, to in moved.items():
                    os.rename(p, to)           # what logrotate does
                if how == "USR1":
                    proxy.proc.send_signal(signal.SIGUSR1)
                else:
                    r = proxy.control("reopen")
                    self.assertEqual(r.returncode, 0, r.stderr)
                self.wait(lambda: all(os.path.exists(p) for p in (main_log, broken_log)),
                          what=lambda: f"{how} to reopen the error logs: "
                                       f"{sorted(os.listdir(proxy.tmp))}")
                sizes = {to: len(read(to)) for to in moved.values()}
                # After the reopen every line goes to the new files.
                self.assertEqual(self.echo(proxy.listen_port("main")), b"ping\n")
                self.refused_session(proxy)
                proxy.proc.send_signal(signal.SIGHUP)     # a [main] error-log line
                self.wait(lambda: "reconfiguring" in read(main_log),
                          what=lambda: read(main_log))
                self.wait(lambda: "while connecting to upstream" in read(broken_log),
                          what=lambda: read(broken_log))
                self.assertEqual(len(proxy.access_log_lines(1, server="main", timeout=3)), 1)
                time.sleep(0.3)
                for to, size in sizes.items():
                    self.assertEqual(len(read(to)), size, f"{to} still written after {how}")
                self.report(f"{how}: new error.log {len(read(main_log))} B, new "
                       f"error_broken.log {len(read(broken_log))} B, new access log 1 line")


class ReloadApplies(LifecycleCase):

    def test_worker_connections_at_reload(self):
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([echo.addr])
        cfg.worker_processes = 1
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        held = []
        for _ in range(3):
            s = lab.connect(proxy.listen_port())
            self.addCleanup(s.close)
            self.assertEqual(self.echo_on(s, b"x"), b"x")
            held.append(s)
        held.pop().close()         # 3 fit under the default 1024
        cfg.main_extra = [("worker_connections", "4")]   # two sessions
        self.reload(proxy, cfg, 2)
        doc = self.status(cfg.status_listen)
        self.assertEqual(doc["process"]["worker_connections"], 4)
        with lab.connect(proxy.listen_port()) as s:
            s.sendall(b"y")
            data, how, _ = lab.recv_until_closed(s, 3)
        self.report(f"after reload to worker_connections 4 with 2 sessions held: third "
               f"session got {data!r} ({how})")
        self.assertEqual(data, b"")
        self.wait(lambda: "4 worker_connections are not enough"
                  in read(os.path.join(proxy.tmp, "error.log")))
        for s in held:
            self.assertEqual(self.echo_on(s, b"z"), b"z")

    def echo_on(self, s, payload):
        s.sendall(payload)
        return lab.recv_exactly(s, len(payload))

    def test_error_log_at_reload(self):
        cfg = self.two_blocks()
        proxy = self.start(cfg)
        old_main = os.path.join(proxy.tmp, "error.log")
        old_broken = os.path.join(proxy.tmp, "error_broken.log")
        self.refused_session(proxy)
        self.wait(lambda: "while connecting to upstream" in read(old_broken))
        new_main = os.path.join(proxy.tmp, "error-new.log")
        new_broken = os.path.join(proxy.tmp, "error_broken-new.log")
        cfg.error_log = f"{new_main} info"
        cfg.servers[1].error_log = f"{new_broken} info"
        self.reload(proxy, cfg, 2)
        sizes = {p: len(read(p)) for p in (old_main, old_broken)}
        self.refused_session(proxy)
        self.wait(lambda: "while connecting to upstream" in read(new_broken),
                  what=proxy.error_log)
        proxy.proc.send_signal(signal.SIGUSR1)
        self.wait(lambda: "reopening logs" in read(new_main), what=proxy.error_log)
        time.sleep(0.2)
        self.assertEqual({p: len(read(p)) for p in sizes}, sizes,
                         "the old error logs are still written after the reload")
        # A level raised at reload drops the lines below it.
        cfg.servers[1].error_log = f"{new_broken} crit"
        self.reload(proxy, cfg, 3)
        size = len(read(new_broken))
        self.refused_session(proxy)
        time.sleep(0.3)
        self.report(f"error_log moved at reload: new [main] log {len(read(new_main))} B, new "
               f"[server] log {size} B, then at crit +{len(read(new_broken)) - size} B")
        self.assertEqual(len(read(new_broken)), size, read(new_broken)[size:])


class ChangedUpstream(LifecycleCase):

    def test_a_changed_server_list_starts_the_group_fresh(self):
        dead = f"127.0.0.1:{lab.refused_port()}"
        echo = self.backend(lab.EchoServer)
        cfg = lab.simple_config([dead, echo.addr])
        cfg.status_listen = lab.free_port()
        proxy = self.start(cfg)
        self.assertEqual(self.echo(proxy.listen_port(), b"x"), b"x")
        before = self.status(cfg.status_listen)["upstreams"][0]["servers"]
        self.assertEqual(before[0]["state"], "failed")
        self.assertEqual(before[0]["failures"], 1)
        echo2 = self.backend(lab.EchoServer)
        cfg.upstreams[0].servers = [dead, echo.addr, echo2.addr]
        self.reload(proxy, cfg, 2)
        after = self.status(cfg.status_listen)["upstreams"][0]["servers"]
        self.report(f"dead server before the change: {before[0]['state']}, "
               f"{before[0]['failures']} failure(s); after: {after[0]['state']}, "
               f"{after[0]['failures']} failure(s)")
        self.assertEqual([p["addr"] for p in after], [dead, echo.addr, echo2.addr])
        self.assertEqual(after[0]["state"], "up")
        self.assertEqual(after[0]["failures"], 0)
        self.assertEqual(after[0]["fails"], 0)


if __name__ == "__main__":
    lab.main()
