#!/usr/bin/env python3
"""The files both daemons write (issue 9, "Files"):

- run_dir (vrrpd) and the pid file's directory (proxyd): created 0755 when
  missing, refused (exit 2) when writable by others or owned by another uid;
  a link planted in it (vrrpd.pid.tmp, state.json.tmp) is never written
  through;
- the pid file lock: a stale pid file -- naming a dead pid, or a pid that now
  belongs to an unrelated process -- is taken over; a second start is
  refused; `proxyd -s` and `vrrpd --status` signal only the lock holder, never
  a process a file merely names;
- `vrrpd -t` warns when a configuration holding auth_pass is readable by
  other users;
- the access log on a full file system (a small tmpfs in a private mount
  namespace, `unshare -m`, which dies with proxyd): whole lines or none,
  every lost line counted in /status and /metrics, one error-log line.

    PROXYD_BIN=build/bin/proxyd VRRPD_BIN=build/bin/vrrpd \
        python3 tests/integration/test_run_files.py
"""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import proxylab as lab  # noqa: E402
import testenv  # noqa: E402

NOBODY = 65534
VRRPD = testenv.built_binary("vrrpd")


def setUpModule():
    testenv.require(testenv.unavailable(built=["proxyd", "vrrpd"]))


tearDownModule = lab.cleanup_all


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


class FilesCase(lab.ProxydCase):
    TAG = None

    def tmpdir(self) -> str:
        d = tempfile.mkdtemp(prefix="run-files-", dir=lab.tmp_root())
        os.chmod(d, 0o755)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def spawn(self, argv, log_path, **kw) -> testenv.Process:
        """A daemon (or a stand-in) in its own process group, killed with the
        group when the test ends, whatever happened."""
        return self.own(testenv.Process(argv, log_path, **kw))

    def bystander(self) -> testenv.Process:
        """An unrelated live process whose pid a stale file will name."""
        return self.spawn(["sleep", "60"], os.path.join(self.tmpdir(), "sleep.out"))


# ---------------------------------------------------------------------------
# vrrpd: run_dir, pid file, state.json, --status, auth_pass
# ---------------------------------------------------------------------------

class VrrpdFiles(FilesCase):

    def setUp(self):
        testenv.require(testenv.unavailable(root="vrrpd (netlink, raw sockets)"))
        self.dir = self.tmpdir()
        self.run_dir = os.path.join(self.dir, "run")
        self.conf = os.path.join(self.dir, "vrrpd.ini")
        with open(self.conf, "w") as f:  # no instances: nothing on the network
            f.write(f"[global]\nrouter_id = files-test\nrun_dir = {self.run_dir}\n")
        self.pid_path = os.path.join(self.run_dir, "vrrpd.pid")
        self.state_path = os.path.join(self.run_dir, "state.json")

    def start(self, name="vrrpd") -> testenv.Process:
        return self.spawn([VRRPD, "-f", self.conf, "-l"],
                          os.path.join(self.dir, f"{name}.log"))

    def start_running(self, name="vrrpd") -> testenv.Process:
        p = self.start(name)
        self.wait(lambda: p.proc.poll() is not None or os.path.exists(self.state_path),
                 what="state.json")
        self.assertIsNone(p.proc.poll(), p.output())
        return p

    def status(self) -> subprocess.CompletedProcess:
        return subprocess.run([VRRPD, "--status", "-f", self.conf],
                              capture_output=True, text=True, timeout=10)

    def test_run_dir_created_0755_and_refused_when_others_can_write(self):
        old = os.umask(0)
        try:
            p = self.start_running()
        finally:
            os.umask(old)
        mode = stat.S_IMODE(os.stat(self.run_dir).st_mode)
        self.report(f"missing run_dir created with mode {mode:04o}")
        self.assertEqual(mode, 0o755)
        with open(self.pid_path) as f:
            self.assertEqual(int(f.read()), p.pid)
        p.stop()
        for how, fix in (("chmod 1777", lambda: os.chmod(self.run_dir, 0o1777)),
                         ("chmod 0775", lambda: os.chmod(self.run_dir, 0o775)),
                         ("chown nobody", lambda: os.chown(self.run_dir, NOBODY, -1))):
            with self.subTest(how):
                shutil.rmtree(self.run_dir, ignore_errors=True)
                os.mkdir(self.run_dir, 0o755)
                fix()
                p = self.start(how.replace(" ", "_"))
                rc = p.wait(5)
                if rc is None:
                    self.fail(f"vrrpd started in a run_dir after {how}")
                out = p.output()
                self.report(f"{how}: exit {rc}: {out.strip().splitlines()[-1] if out else ''}")
                self.assertEqual(rc, 2, out)
                self.assertIn(f'run directory "{self.run_dir}"', out)
                self.assertFalse(os.path.exists(self.pid_path))
                self.assertFalse(os.path.exists(self.state_path))

    def test_links_planted_in_run_dir_are_not_written_through(self):
        os.mkdir(self.run_dir, 0o755)
        victims = {}
        for name in ("vrrpd.pid.tmp", "state.json.tmp"):
            victim = os.path.join(self.dir, f"victim-{name}")
            with open(victim, "w") as f:
                f.write("root-owned content\n")
            os.symlink(victim, os.path.join(self.run_dir, name))
            victims[victim] = "root-owned content\n"
        p = self.start_running()
        p.proc.send_signal(signal.SIGUSR1)  # one more state.json write
        time.sleep(0.2)
        p.stop()
        for victim, text in victims.items():
            with open(victim) as f:
                self.assertEqual(f.read(), text, f"{victim} was written through a link")
        # A link as the pid file itself: refused, not followed.
        victim = os.path.join(self.dir, "victim-pid")
        with open(victim, "w") as f:
            f.write("root-owned content\n")
        os.symlink(victim, self.pid_path)
        p = self.start("pid-link")
        self.assertEqual(p.wait(), 2, p.output())
        self.assertIn("symbolic link", p.output())
        with open(victim) as f:
            self.assertEqual(f.read(), "root-owned content\n")

    def test_stale_pid_file_taken_over_and_status_signals_only_the_lock_holder(self):
        os.mkdir(self.run_dir, 0o755)
        # A pid file (and state.json) left by a killed vrrpd whose pid the
        # kernel has since given to an unrelated process.
        other = self.bystander()
        with open(self.pid_path, "w") as f:
            f.write(f"{other.pid}\n")
        with open(self.state_path, "w") as f:
            json.dump({"pid": other.pid, "router_id": "old", "instances": []}, f)
        st = self.status()
        self.report(f"--status, state.json naming a bystander: exit {st.returncode}, "
               f"bystander alive: {alive(other.pid)}")
        self.assertTrue(alive(other.pid), "vrrpd --status killed an unrelated process (USR1)")
        self.assertEqual(st.returncode, 2, st.stdout + st.stderr)
        self.assertIn("NOT RUNNING", st.stdout)

        os.unlink(self.state_path)
        first = self.start_running("first")
        with open(self.pid_path) as f:
            self.assertEqual(int(f.read()), first.pid)
        self.assertIn(f"named pid {other.pid}", first.output())

        second = self.start("second")
        self.assertEqual(second.wait(), 2, second.output())
        self.assertIn(f"locked by pid {first.pid}", second.output())
        st = self.status()
        self.assertEqual(st.returncode, 0, st.stdout + st.stderr)
        self.assertIn(f"vrrpd pid {first.pid} running", st.stdout)

        # SIGKILL: the pid file stays behind, naming a dead pid.
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        self.assertTrue(os.path.exists(self.pid_path))
        st = self.status()
        self.assertEqual(st.returncode, 2, st.stdout + st.stderr)
        os.unlink(self.state_path)
        third = self.start_running("third")
        with open(self.pid_path) as f:
            self.assertEqual(int(f.read()), third.pid)
        self.assertIn(f"named pid {first.pid}", third.output())
        third.stop()
        self.assertFalse(os.path.exists(self.pid_path), "pid file left at a clean stop")
        self.assertTrue(alive(other.pid))

    def test_auth_pass_in_a_file_others_can_read_is_a_warning(self):
        with open(self.conf, "a") as f:
            f.write("\n[vrrp_instance VI_1]\ninterface = lo\nvirtual_router_id = 51\n"
                    "priority = 100\nadvert_int = 1\nvirtual_ipaddress = 192.0.2.10/24\n"
                    "auth_type = PASS\nauth_pass = secret1\n")
        with open(self.conf) as f:
            line = f.read().splitlines().index("auth_pass = secret1") + 1
        for mode, warned in ((0o644, True), (0o640, True), (0o600, False)):
            with self.subTest(mode=oct(mode)):
                os.chmod(self.conf, mode)
                r = subprocess.run([VRRPD, "-t", "-f", self.conf],
                                   capture_output=True, text=True, timeout=10)
                self.assertEqual(r.returncode, 0, r.stderr)
                hit = f"{self.conf}:{line}: warning: auth_pass:" in r.stderr and \
                    "readable by other users" in r.stderr
                if hit:
                    self.report(f"mode {mode:04o}: " + next(
                        ln for ln in r.stderr.splitlines() if "readable" in ln))
                self.assertEqual(hit, warned, r.stderr)


# ---------------------------------------------------------------------------
# proxyd: pid file, -s
# ---------------------------------------------------------------------------

class ProxydPidFile(FilesCase):

    def setUp(self):
        echo = self.backend(lab.EchoServer)
        self.cfg = lab.simple_config([echo.addr])
        self.dir = self.tmpdir()
        self.pid_dir = os.path.join(self.dir, "run")
        self.pid_path = os.path.join(self.pid_dir, "proxyd.pid")
        self.conf = os.path.join(self.dir, "proxyd.ini")
        text = lab.render_proxyd_ini(self.cfg, self.dir).replace(
            f"pid = {self.dir}/proxyd.pid", f"pid = {self.pid_path}")
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self, name="proxyd") -> testenv.Process:
        return self.spawn([lab.proxyd_binary(), "-c", self.conf],
                          os.path.join(self.dir, f"{name}.out"))

    def start_running(self, name="proxyd") -> testenv.Process:
        p = self.start(name)
        port = self.cfg.servers[0].listen
        self.wait(lambda: p.proc.poll() is not None or lab.listening(port), what="listening")
        self.assertIsNone(p.proc.poll(), p.output())
        return p

    def control(self, action) -> subprocess.CompletedProcess:
        return subprocess.run([lab.proxyd_binary(), "-c", self.conf, "-s", action],
                              capture_output=True, text=True, timeout=10)

    def test_s_stop_never_signals_a_process_the_file_merely_names(self):
        os.mkdir(self.pid_dir, 0o755)
        other = self.bystander()
        with open(self.pid_path, "w") as f:
            f.write(f"{other.pid}\n")
        r = self.control("stop")
        time.sleep(0.1)
        self.report(f"-s stop with a stale pid file: exit {r.returncode}: {r.stderr.strip()}; "
               f"bystander alive: {alive(other.pid)}")
        self.assertTrue(alive(other.pid), "proxyd -s stop killed an unrelated process")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no process holds its lock", r.stderr)

    def test_stale_pid_file_taken_over_second_start_refused(self):
        os.mkdir(self.pid_dir, 0o755)
        other = self.bystander()
        with open(self.pid_path, "w") as f:
            f.write(f"{other.pid}\n")
        first = self.start_running("first")
        with open(self.pid_path) as f:
            self.assertEqual(int(f.read()), first.pid)

        second = self.start("second")
        self.assertEqual(second.wait(), 2, second.output())
        self.assertIn(f"locked by pid {first.pid}", second.output())
        self.assertIsNone(first.proc.poll())

        os.kill(first.pid, signal.SIGKILL)  # the file stays, naming a dead pid
        first.wait()
        r = self.control("reload")
        self.assertEqual(r.returncode, 2, r.stderr)
        third = self.start_running("third")
        with open(self.pid_path) as f:
            self.assertEqual(int(f.read()), third.pid)
        r = self.control("stop")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(third.wait(), 0, third.output())
        self.assertFalse(os.path.exists(self.pid_path))
        self.assertTrue(alive(other.pid))

    def test_pid_dir_writable_by_others_is_refused(self):
        os.mkdir(self.pid_dir, 0o755)
        os.chmod(self.pid_dir, 0o1777)
        p = self.start()
        rc = p.wait(5)
        if rc is None:
            self.fail("proxyd started with a world-writable pid directory")
        self.report(f"pid dir 1777: exit {rc}: {p.output().strip()}")
        self.assertEqual(rc, 2, p.output())
        self.assertIn("writable by other users", p.output() + self.error_log())
        self.assertFalse(os.path.exists(self.pid_path))

    def error_log(self) -> str:
        try:
            with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


# ---------------------------------------------------------------------------
# proxyd: the access log on a full file system
# ---------------------------------------------------------------------------

PAD = "p" * 60
FORMAT = f"conn=$connection status=$status {PAD} end"
LINE = re.compile(rf"^conn=(\d+) status=200 {PAD} end$")
TMPFS_KIB = 16
FILLER = 8 * 1024


class AccessLogFullDisk(FilesCase):

    def setUp(self):
        testenv.require(testenv.unavailable(root="a tmpfs in a private mount namespace",
                                            installed=["unshare"]))
        self.unshare = testenv.system_binary("unshare")

    def test_whole_lines_or_none_and_every_lost_line_counted(self):
        echo = self.backend(lab.EchoServer)
        logdir = self.tmpdir()  # empty here; a tmpfs inside proxyd's namespace
        cfg = lab.Config(upstreams=[lab.Upstream("backends", [echo.addr])],
                         servers=[lab.ServerBlock("main", lab.free_port(), "backends",
                                                  extra=[("access_log",
                                                          f"{logdir}/access.log full")])],
                         log_formats={"full": FORMAT}, worker_processes=2)
        cfg.status_listen = lab.free_port()
        wrapper = os.path.join(self.tmpdir(), "proxyd-on-tmpfs")
        with open(wrapper, "w") as f:
            # exec all the way: the pid Proxy sees is proxyd's, and the
            # mount namespace (and the tmpfs) end when proxyd does.
            f.write("#!/bin/sh\n"
                    f"exec {self.unshare} --mount --propagation private /bin/sh -c "
                    f"'mount -t tmpfs -o size={TMPFS_KIB}k,mode=0755 files-test {logdir} && "
                    f"exec \"$0\" \"$@\"' {lab.proxyd_binary()} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        proxy = self.own(lab.Proxy("proxyd", binary=wrapper).start(cfg))
        inside = f"/proc/{proxy.pid}/root{logdir}"
        log_path = f"{inside}/access.log"
        self.assertTrue(os.path.ismount(f"/proc/{proxy.pid}/root{logdir}") or
                        os.path.exists(inside), "tmpfs not mounted in proxyd's namespace")
        self.assertFalse(os.path.exists(f"{logdir}/access.log"), "tmpfs leaked to the host")
        with open(f"{inside}/filler", "wb") as f:
            f.write(b"\0" * FILLER)

        port = cfg.servers[0].listen
        sessions = 0

        def session():
            nonlocal sessions
            with lab.connect(port) as s:
                s.sendall(b"ping\n")
                self.assertEqual(lab.recv_exactly(s, 5), b"ping\n")
            sessions += 1

        def lost():
            _, _, body = lab.http_request(cfg.status_listen, "/status")
            return sum(w["access_log_lost_lines"] for w in json.loads(body)["workers"])

        def lines():
            with open(log_path, errors="replace") as f:
                return f.read()

        def settled():
            # Every session is a whole line in the file or a lost one.
            n = lost()
            return n if lines().count("\n") + n == sessions else None

        # Fill the file system (bounded: 16 KiB holds ~100 lines).
        while sessions < 400:
            session()
            if sessions % 10 == 0 and lost() > 0:
                break
        for _ in range(5):
            session()
        self.wait(settled, what="every session logged or counted")
        lost_full = lost()
        text = lines()
        self.report(f"measured: {sessions} sessions, {text.count(chr(10))} lines in "
               f"{len(text)} bytes, {lost_full} lost (tmpfs {TMPFS_KIB} KiB)")
        self.assertGreater(lost_full, 0, "the file system never filled up")
        self.assertTrue(text.endswith("\n"), f"a torn line at the end: {text[-80:]!r}")

        # Space again: the next lines start lines of their own.
        os.unlink(f"{inside}/filler")
        for _ in range(10):
            session()
        self.wait(settled, what="the lines after the disk had room again")
        text = lines()
        bad = [ln for ln in text.split("\n")[:-1] if not LINE.match(ln)]
        self.assertEqual(bad, [], "lines that are not whole")
        self.assertTrue(text.endswith("\n"))

        _, _, metrics = lab.http_request(cfg.status_listen, "/metrics")
        m = re.search(rb"^proxyd_access_log_lost_lines_total (\d+)$", metrics, re.M)
        self.assertIsNotNone(m, "no proxyd_access_log_lost_lines_total in /metrics")
        self.assertEqual(int(m.group(1)), lost())
        said = [ln for ln in proxy.error_log().splitlines() if "access log line(s) lost" in ln]
        self.report(f"error log: {said}")
        # One line per worker that lost lines, at most: once a minute each.
        self.assertGreaterEqual(len(said), 1)
        self.assertLessEqual(len(said), 2)
        self.assertIn("No space left on device", said[0])


if __name__ == "__main__":
    lab.main()
