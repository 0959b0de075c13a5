#!/usr/bin/env python3
"""vrrpd's notify scripts in the namespace lab (tests/lib/netlab.py).

A node whose notify_master / notify_backup / notify_fault hang (and ignore
SIGTERM) is made to flap 8 times through its track script (weight 0: FAULT,
then BACKUP, then MASTER again: 3 transitions a flap). The old runner had no
timeout and started every notify at once: one hanging process per
transition, 16 and more after 8 flaps. Now a notify runs only after the one
before it has ended, at most one transition waits (the others coalesce), and
notify_timeout ends each one with SIGTERM then SIGKILL: at most one hanging
notify at any time, none once the flaps stop and the timeout has passed.

Needs root: skipped (exit 77) without it, a failure under CI=true.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netlab  # noqa: E402
import testenv  # noqa: E402

VIP = "192.0.2.100/24"
NOTIFY_TIMEOUT = 2.0  # s; then 2 s of grace before SIGKILL
SLEEP = b"sleep\x00301\x00"


def setUpModule():
    netlab.require("vrrpd")


def hanging_notifies() -> list:
    """Pids of every live process running the hanging notify (any namespace:
    the lab shares the pid namespace)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{d}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if cmd == SLEEP and state != "Z":
            out.append(int(d))
    return out


class NotifyDaemon(netlab.Daemon):
    def __init__(self, lab, host, cfg, flag, hang):
        self.flag, self.hang = flag, hang
        super().__init__(lab, "vrrpd", host, cfg, start=False)

    def extra_ini(self) -> str:
        return netlab.vrrp_script_ini("chk", f"/bin/sh -c 'test ! -e {self.flag}'",
                                      interval=0.1, timeout=1, weight=0)


class HangingNotify(netlab.LabCase):
    def setUp(self):
        (self.n1,) = self.new_lab(nodes=1).nodes

    def test_hanging_notify_under_flaps_is_bounded(self):
        host = self.n1
        flag = os.path.join(host.tmp, "fail")
        hang = os.path.join(host.tmp, "notify.sh")
        with open(hang, "w") as f:
            # One `sleep 301` per hanging notify (the trailing ":" keeps the
            # shell from exec'ing it); both ignore SIGTERM.
            f.write("#!/bin/sh\ntrap '' TERM\nsleep 301\n:\n")
        os.chmod(hang, 0o755)
        notify = [(k, hang) for k in ("notify_master", "notify_backup", "notify_fault")]
        cfg = netlab.seed_config(host, 100, vips=[VIP], nopreempt=False, version=3,
                                 advert_int=0.1, auth_type=None,
                                 extra=[("track_script", "chk")] + notify)
        cfg.global_extra.append(("notify_timeout", str(NOTIFY_TIMEOUT)))
        cfg.global_extra.append(("script_user", "root"))
        d = self.run_daemon(NotifyDaemon(self.lab, host, cfg, flag, hang))
        self.assertIsNotNone(
            netlab.wait_for(lambda: self.lab.vip_holders(VIP) == ["n1"], 10),
            "n1 never became MASTER")

        most, flaps = 0, 0
        for _ in range(8):
            open(flag, "w").close()  # FAULT
            t = netlab.wait_for(lambda: self.lab.vip_holders(VIP) == [], 5)
            self.assertIsNotNone(t, "n1 did not give the VIP up on a failing script")
            os.unlink(flag)          # BACKUP, then MASTER after Master_Down_Interval
            t = netlab.wait_for(lambda: self.lab.vip_holders(VIP) == ["n1"], 5)
            self.assertIsNotNone(t, "n1 did not take the VIP back")
            flaps += 1
            most = max(most, len(hanging_notifies()))
        # Sample a while longer at the end of the flapping.
        most = max([most, *testenv.sample(lambda: len(hanging_notifies()), 0.5)])
        self.report(f"measured: at most {most} hanging notify process(es) during {flaps} flaps "
               f"({3 * flaps} transitions; the old runner kept one per transition)")
        self.assertLessEqual(most, 1)

        # Once flapping stops, the one running and the one waiting end within
        # 2 x (notify_timeout + 2 s grace).
        bound = 2 * (NOTIFY_TIMEOUT + 2.0) + 2.0
        t = netlab.wait_for(lambda: not hanging_notifies(), bound + 5)
        self.report(f"measured: no hanging notify left {t if t is None else round(t, 2)} s after "
               f"the last flap (bound {bound:.1f} s)")
        self.assertIsNotNone(t, f"hanging notifies still alive: {hanging_notifies()}")
        self.assertLess(t, bound)
        log = d.proc.output() if d.proc else ""
        self.assertIn("timed out after 2000 ms", log)
        self.assertIn("superseded by", log)


if __name__ == "__main__":
    netlab.main()
