#!/usr/bin/env python3
"""vrrpd at the edges of its value limits, in the namespace lab
(tests/lib/netlab.py).

`vrrp_script interval = 9000000000000000` used to pass `vrrpd -t` and then
abort vrrpd on a libevent assertion (a restart loop under Restart=always).
Now every number has keepalived's range (vrrpd/value_limits.cc):

- a node whose every duration and count is at its maximum (script interval
  and timeout 4294 s, fall and rise 2^31-1, preempt_delay 1000 s,
  garp_master_delay 4294 s, garp_master_refresh 4294967295 s,
  vrrp_garp_interval 4294.967 s, repeats 255) starts, becomes MASTER within
  Master_Down_Interval, keeps running, and stops cleanly on TERM with its
  VIP removed;
- one above the maximum, `vrrpd -t` refuses the file with FILE:LINE;
- a signal that arrives while vrrpd is starting (USR1 from `vrrpd --status`,
  which signals whoever holds the pid file, HUP from a reload) is held until
  its handler is in place, never acted on by its default action (death).

Needs root: skipped (exit 77) without it, a failure under CI=true.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netlab  # noqa: E402

VIP = "192.0.2.100/24"
SLACK = 1.0

SCRIPT_AT_MAX = netlab.vrrp_script_ini("chk", "/bin/true", interval=4294, timeout=4294,
                                       fall=2147483647, rise=2147483647, weight=253)

INSTANCE_AT_MAX = [("track_script", "chk weight=-253"),
                   ("preempt_delay", "1000"),
                   ("garp_master_delay", "4294"),
                   ("garp_master_repeat", "255"),
                   ("garp_master_refresh", "4294967295"),
                   ("garp_master_refresh_repeat", "255")]


def setUpModule():
    netlab.require("vrrpd")


class AtMaximum(netlab.Daemon):
    def extra_ini(self) -> str:
        return SCRIPT_AT_MAX


class Limits(netlab.LabCase):
    def setUp(self):
        (self.n1,) = self.new_lab(nodes=1).nodes

    def test_every_maximum_runs(self):
        cfg = netlab.seed_config(self.n1, 100, vips=[VIP], nopreempt=False,
                                 extra=INSTANCE_AT_MAX)
        cfg.global_extra = [("vrrp_garp_interval", "4294.967"),
                            ("vrrp_gna_interval", "4294.967")]
        d = AtMaximum(self.lab, "vrrpd", self.n1, cfg, start=False)
        d.write_config()
        check = subprocess.run([netlab.vrrpd_binary(), "-t", "-f", d.conf_path],
                               capture_output=True, text=True, timeout=20)
        self.assertEqual(check.returncode, 0, check.stderr)
        t0 = time.monotonic()
        self.run_daemon(d)
        t = netlab.wait_for(lambda: self.lab.vip_holders(VIP) == ["n1"], 10)
        # The script's weight, +253 - 253, leaves the priority at 100.
        bound = netlab.master_down_interval(100)
        self.report(f"every value at its maximum: MASTER after "
               f"{t if t is None else round(t, 3)} s (Master_Down_Interval(100) = {bound:.3f} s)")
        measured = t
        self.assertIsNotNone(t, f"n1 never held the VIP:\n{d.output()}")
        self.assertLess(t, bound + SLACK)
        time.sleep(1.5)  # timers armed at their maximum must not fire or abort
        self.assertTrue(d.alive(), f"vrrpd died:\n{d.output()}")
        self.assertEqual(self.lab.vip_holders(VIP), ["n1"])
        rc = d.term()
        self.report(f"measured: MASTER after {measured:.3f} s, TERM exit {rc} after "
               f"{time.monotonic() - t0:.3f} s in all")
        self.assertEqual(rc, 0, d.output())
        self.assertEqual(self.lab.vip_holders(VIP), [])

    def test_one_above_the_maximum_is_refused_with_file_line(self):
        for key, value in (("interval", "4295"), ("interval", "9000000000000000"),
                           ("fall", "2147483648")):
            with self.subTest(key=key, value=value):
                cfg = netlab.seed_config(self.n1, 100, vips=[VIP],
                                         extra=[("track_script", "chk")])
                d = netlab.Daemon(self.lab, "vrrpd", self.n1, cfg, start=False)
                d.write_config()
                with open(d.conf_path, "a") as f:
                    f.write(netlab.vrrp_script_ini("chk", "/bin/true", **{key: value}))
                with open(d.conf_path) as f:
                    lines = f.read().splitlines()
                line = lines.index(f"{key} = {value}") + 1
                r = subprocess.run([netlab.vrrpd_binary(), "-t", "-f", d.conf_path],
                                   capture_output=True, text=True, timeout=20)
                self.report(f"vrrpd -t with {key} = {value}: exit {r.returncode}")
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(f"{d.conf_path}:{line}: error: {key}: invalid value", r.stderr)


class SignalsWhileStarting(netlab.LabCase):
    def setUp(self):
        (self.n1,) = self.new_lab(nodes=1).nodes

    def test_usr1_and_hup_at_the_pid_file_do_not_kill_a_starting_vrrpd(self):
        cfg = netlab.seed_config(self.n1, 100, vips=[VIP], nopreempt=False)
        for attempt in range(5):
            for sig in (signal.SIGUSR1, signal.SIGHUP):
                with self.subTest(attempt=attempt, signal=sig.name):
                    d = netlab.Daemon(self.lab, "vrrpd", self.n1, cfg, start=False)
                    self.run_daemon(d)
                    pid = None

                    def signalled() -> bool:
                        nonlocal pid
                        try:
                            with open(d.pid_path) as f:
                                pid = int(f.read().strip() or 0) or None
                        except (OSError, ValueError):
                            return False
                        if pid is not None:
                            os.kill(pid, sig)  # at once: as early as `--status` can
                        return pid is not None

                    t = netlab.wait_for(signalled, 10, 0.0002)
                    self.assertIsNotNone(t, f"no pid file:\n{d.output()}")
                    alive = netlab.wait_for(lambda: not d.alive(), 1.0) is None
                    self.assertTrue(alive, f"{sig.name} at {t * 1000:.1f} ms killed vrrpd:\n"
                                           f"{d.output()}")
                    self.assert_exit_clean(d, d.term())
        self.report("10 signals sent the moment the pid file appeared: vrrpd kept running")


if __name__ == "__main__":
    netlab.main()
