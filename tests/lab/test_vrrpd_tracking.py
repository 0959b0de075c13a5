#!/usr/bin/env python3
"""vrrpd's track scripts in the namespace lab (tests/lib/netlab.py).

The seed's two-node pair (VRRPv2, PASS, every node BACKUP with nopreempt,
advert_int 1) with a [vrrp_script] on each node that fails while a flag
file exists -- the way check_proxyd.sh fails while proxyd is down:

- weight 0 (DESIGN.md's recommendation): the failing master enters FAULT,
  sends priority 0, drops its VIPs, and the backup takes over within
  Skew_Time even though every node has nopreempt; when the script passes
  again the node returns as BACKUP and the VIP stays where it is;
- a negative weight with preemption: the failing master's priority drops
  below the backup's, which preempts it;
- `init_fail`: a node whose script has never passed starts in FAULT.

Needs root: skipped (exit 77) without it, a failure under CI=true.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netlab  # noqa: E402
import testenv  # noqa: E402

VIP = "192.0.2.100/24"
SLACK = 1.0


def setUpModule():
    netlab.require("vrrpd")


class TrackedDaemon(netlab.Daemon):
    """vrrpd with a [vrrp_script chk] that fails while `flag` exists."""

    def __init__(self, lab, host, cfg, flag, weight, init_fail=False):
        self.flag, self.weight, self.init_fail = flag, weight, init_fail
        super().__init__(lab, "vrrpd", host, cfg, start=False)

    def extra_ini(self) -> str:
        return netlab.vrrp_script_ini("chk", f"/bin/sh -c 'test ! -e {self.flag}'",
                                      interval=1, timeout=1, fall=1, rise=1,
                                      weight=self.weight, init_fail=self.init_fail)


def state_of(d, instance: str = "VI_1") -> str:
    out = d.status().stdout
    for line in out.splitlines():
        if line.startswith(instance + " "):
            return line.split()[4]
    return "?"


class GroupedDaemon(netlab.Daemon):
    """vrrpd with VI_1 and VI_2 in one [vrrp_sync_group]."""

    def extra_ini(self) -> str:
        return "\n[vrrp_sync_group G1]\ngroup = VI_1 VI_2\n"


class Tracking(netlab.LabCase):

    def setUp(self):
        self.n1, self.n2 = self.new_lab(nodes=2).nodes

    def start(self, host, priority, weight, nopreempt=True, init_fail=False):
        flag = os.path.join(host.tmp, "fail")
        cfg = netlab.seed_config(host, priority, vips=[VIP], nopreempt=nopreempt,
                                 extra=[("track_script", "chk")])
        return self.run_daemon(TrackedDaemon(self.lab, host, cfg, flag, weight, init_fail)), flag

    def holders(self):
        return self.lab.vip_holders(VIP)

    def wait_holder(self, name, timeout):
        return netlab.wait_for(lambda: self.holders() == [name], timeout)

    def test_weight_zero_failure_moves_vip_despite_nopreempt(self):
        d1, flag1 = self.start(self.n1, 100, weight=0)
        d2, _ = self.start(self.n2, 80, weight=0)
        t = self.wait_holder("n1", 10)
        self.assertIsNotNone(t, f"n1 never held the VIP alone: {self.holders()}")

        open(flag1, "w").close()           # the check starts failing on n1
        t = self.wait_holder("n2", 10)
        bound = 1.0 + netlab.skew_time(80)  # one script interval + Skew_Time(80)
        self.report(f"weight 0: script fails on the master -> n2 holds the VIP after "
               f"{t if t is None else round(t, 3)} s (bound: interval 1 s + "
               f"Skew_Time(80) {netlab.skew_time(80):.3f} s = {bound:.3f} s)")
        self.assertIsNotNone(t, f"the VIP did not move: {self.holders()}")
        self.assertLess(t, bound + SLACK)
        self.assertEqual(state_of(d1), "FAULT")

        os.unlink(flag1)                   # healthy again
        back = netlab.wait_for(lambda: state_of(d1) == "BACKUP", 5)
        # The script runs every 1 s (rise 1): BACKUP by the next run, plus the
        # time `vrrpd --status` takes to answer.
        back_bound = 1.0 + 0.5
        self.report(f"weight 0: script passes again -> n1 BACKUP after "
               f"{back if back is None else round(back, 3)} s (bound: interval 1 s + 0.5 s)")
        self.assertIsNotNone(back, "n1 did not return as BACKUP")
        self.assertLess(back, back_bound)
        # nopreempt: the VIP stays on n2.  A broken nopreempt shows only once
        # n1's Master_Down_Interval (it discards n2's lower-priority adverts)
        # runs out, 3.61 s after it became BACKUP: watch beyond that.
        window = netlab.master_down_interval(100) + 1.0
        seen = testenv.sample(lambda: tuple(self.holders()), window)
        self.report(f"nopreempt after FAULT: holders during {window:.2f} s "
               f"(Master_Down_Interval(100) + 1 s): {sorted(seen)}")
        self.assertEqual(seen, {("n2",)}, "nopreempt: n1 took the VIP back after FAULT")
        self.assertEqual(state_of(d1), "BACKUP")

    def test_negative_weight_lowers_priority_and_the_backup_preempts(self):
        d1, flag1 = self.start(self.n1, 100, weight=-30, nopreempt=False)
        d2, _ = self.start(self.n2, 80, weight=-30, nopreempt=False)
        self.assertIsNotNone(self.wait_holder("n1", 10), f"holders: {self.holders()}")
        open(flag1, "w").close()           # 100 - 30 = 70 < 80
        t = self.wait_holder("n2", 10)
        bound = 1.0 + netlab.master_down_interval(80)
        self.report(f"weight -30 with preempt: n2 preempts after "
               f"{t if t is None else round(t, 3)} s (loose bound {bound:.3f} s)")
        self.assertIsNotNone(t, f"n2 did not preempt: {self.holders()}")
        self.assertLess(t, bound + SLACK)
        self.assertIn("70", d1.status().stdout)   # the effective priority shown

    def test_reload_applies_a_new_script_weight_without_a_flap(self):
        d1, flag1 = self.start(self.n1, 100, weight=-10, nopreempt=False)
        d2, _ = self.start(self.n2, 80, weight=-10, nopreempt=False)
        self.assertIsNotNone(self.wait_holder("n1", 10), f"holders: {self.holders()}")
        open(flag1, "w").close()           # 100 - 10 = 90: still above 80
        self.assertIsNotNone(netlab.wait_for(lambda: "90" in d1.status().stdout, 5))
        self.assertEqual(self.holders(), ["n1"])
        d1.weight = -30                    # HUP with the script's weight changed
        d1.write_config()
        d1.send_signal(signal.SIGHUP)
        t = self.wait_holder("n2", 10)     # 100 - 30 = 70 < 80: n2 preempts
        self.report(f"reload to weight -30: n2 preempts after {t if t is None else round(t, 3)} s")
        self.assertIsNotNone(t, f"the new weight was not applied: {d1.status().stdout}")

    def test_own_interface_and_tracked_interface_down_mean_fault(self):
        # A second link on n1 to track: a veth pair inside n1's namespace.
        self.lab.ip(self.n1.ns, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1")
        self.lab.ip(self.n1.ns, "link", "set", "trk1", "up")
        self.lab.ip(self.n1.ns, "link", "set", "trk0", "up")
        cfg = netlab.seed_config(self.n1, 100, vips=[VIP], extra=[("track_interface", "trk0")])
        d1 = self.lab.start_vrrpd(self.n1, cfg)
        self.lab.start_vrrpd(self.n2, netlab.seed_config(self.n2, 80, vips=[VIP]))
        self.assertIsNotNone(self.wait_holder("n1", 10), f"holders: {self.holders()}")

        self.lab.ip(self.n1.ns, "link", "set", "trk0", "down")
        t = self.wait_holder("n2", 5)
        self.report(f"tracked interface down on the master -> n2 holds the VIP after "
               f"{t if t is None else round(t, 3)} s (Skew_Time(80) {netlab.skew_time(80):.3f} s)")
        self.assertIsNotNone(t, f"holders: {self.holders()}")
        self.assertEqual(state_of(d1), "FAULT")
        self.lab.ip(self.n1.ns, "link", "set", "trk0", "up")
        self.assertIsNotNone(netlab.wait_for(lambda: state_of(d1) == "BACKUP", 5))

        # Its own interface going down is a FAULT too (keepalived's default).
        self.lab.ip(self.n1.ns, "link", "set", "eth0", "down")
        self.assertIsNotNone(netlab.wait_for(lambda: state_of(d1) == "FAULT", 5),
                             d1.status().stdout)
        self.lab.ip(self.n1.ns, "link", "set", "eth0", "up")
        self.assertIsNotNone(netlab.wait_for(lambda: state_of(d1) == "BACKUP", 5),
                             d1.status().stdout)

    def test_sync_group_faults_together(self):
        self.lab.ip(self.n1.ns, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1")
        self.lab.ip(self.n1.ns, "link", "set", "trk1", "up")
        self.lab.ip(self.n1.ns, "link", "set", "trk0", "up")
        cfg = netlab.seed_config(self.n1, 100, vips=[VIP], extra=[("track_interface", "trk0")])
        cfg.instances.append(netlab.Instance(name="VI_2", virtual_router_id=52, priority=100,
                                             mcast_src_ip=self.n1.ip4,
                                             virtual_ipaddresses=["203.0.113.100/24"]))
        d1 = self.run_daemon(GroupedDaemon(self.lab, "vrrpd", self.n1, cfg, start=False))
        self.assertIsNotNone(netlab.wait_for(
            lambda: state_of(d1, "VI_1") == "MASTER" and state_of(d1, "VI_2") == "MASTER", 10))
        self.lab.ip(self.n1.ns, "link", "set", "trk0", "down")   # only VI_1 tracks it
        t = netlab.wait_for(
            lambda: state_of(d1, "VI_1") == "FAULT" and state_of(d1, "VI_2") == "FAULT", 5)
        self.report(f"sync group: VI_1's tracked link down -> both FAULT after "
               f"{t if t is None else round(t, 3)} s")
        self.assertIsNotNone(t, d1.status().stdout)
        self.assertEqual(self.lab.vip_holders("203.0.113.100/24"), [])
        self.lab.ip(self.n1.ns, "link", "set", "trk0", "up")
        self.assertIsNotNone(netlab.wait_for(
            lambda: "FAULT" not in (state_of(d1, "VI_1"), state_of(d1, "VI_2")), 5),
            d1.status().stdout)

    def test_init_fail_starts_in_fault(self):
        d1, flag1 = self.start(self.n1, 100, weight=0, init_fail=True)
        open(flag1, "w").close()
        d2, _ = self.start(self.n2, 80, weight=0)
        t = self.wait_holder("n2", 10)
        self.assertIsNotNone(t, f"holders: {self.holders()}")
        self.assertEqual(state_of(d1), "FAULT")


if __name__ == "__main__":
    netlab.main()
