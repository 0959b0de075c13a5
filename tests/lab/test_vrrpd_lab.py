#!/usr/bin/env python3
"""vrrpd in the network-namespace lab (tests/lib/netlab.py): election, GARP,
failover on kill -9 and TERM, restart with stale VIPs, nopreempt and preempt,
unicast across two routed subnets, password mismatch, IPv6 with VRRPv3 and
`vrrpd --status`.

Settings are the seed's (seed/nginx-keepalived-ha.txt): VRRPv2, auth PASS
K8SHA_KA_AUTH, nopreempt, every node state BACKUP, VRID 51, priorities
100/80/60, VIPs 192.0.2.100/24 and 203.0.113.100/24 -- with advert_int 1.
Every measured time is printed next to its RFC bound (REFERENCE.md:
Master_Down_Interval = 3 x advert + Skew_Time, Skew_Time v2 = (256-prio)/256).

    sudo python3 tests/lab/test_vrrpd_lab.py                       # vrrpd (VRRPD_BIN)
    sudo VRRP_IMPL=keepalived python3 tests/lab/test_vrrpd_lab.py  # the reference

Needs root: skipped (exit 77) without it, a failure under CI=true.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netlab  # noqa: E402
import testenv  # noqa: E402

IMPL = netlab.impl_from_env()

VIP = "192.0.2.100/24"
VIP_PUB = "203.0.113.100/24"
VIP6 = "2001:db8::100/64"
SEED_VIPS = [VIP, VIP_PUB]
SLACK = 1.0            # allowed above the RFC bound
BCAST = "ff:ff:ff:ff:ff:ff"


def setUpModule():
    netlab.require(IMPL)


class LabCase(netlab.LabCase):
    """Helpers shared by the scenarios; each class builds its own lab, its
    tests are the scenario's steps (a failed step skips the later ones)."""

    TAG = IMPL
    STEPS = True

    @classmethod
    def start(cls, host, priority, **kw) -> netlab.Daemon:
        return cls.lab.start_daemon(IMPL, host, netlab.seed_config(host, priority, **kw))

    def holders(self, vip=VIP) -> list:
        self.lab.check_daemons()          # a crashed daemon fails at once
        return self.lab.vip_holders(vip)

    def all_holders(self, vips) -> dict:
        return {v: self.holders(v) for v in vips}

    def wait_holds(self, name: str, vips, timeout: float, since=None):
        """Seconds until node `name` holds every address of `vips`."""
        return netlab.wait_for(lambda: all(name in self.holders(v) for v in vips),
                               timeout, since=since)

    def watch(self, seconds: float, vips) -> set:
        """Sample the holders of `vips` for `seconds`: the set of distinct
        holder tuples seen (one element when nothing moved)."""
        return testenv.sample(lambda: tuple(tuple(self.holders(v)) for v in vips), seconds)


# ---------------------------------------------------------------------------
# The seed's three nodes on one segment (multicast)
# ---------------------------------------------------------------------------

class SeedCluster(LabCase):
    """Three nodes 100/80/60 started together, observer capturing ARP."""

    @classmethod
    def setUpClass(cls):
        lab = cls.make_lab(nodes=3, observer=True)
        cls.n1, cls.n2, cls.n3 = lab.nodes
        cls.cap = lab.capture()
        cls.t_start = time.monotonic()
        cls.d = {h.name: cls.start(h, p) for h, p in ((cls.n1, 100), (cls.n2, 80), (cls.n3, 60))}

    def test_1_election_and_garp(self):
        t = netlab.wait_for(lambda: self.holders(VIP) and self.holders(VIP_PUB), 10,
                            since=self.t_start)
        bound = netlab.master_down_interval(100)
        self.report(f"election (all BACKUP, started together): first holder after "
               f"{t if t is None else round(t, 3)} s; Master_Down_Interval(100) = {bound:.4f} s")
        self.assertIsNotNone(t, "no node took the VIP within 10 s")
        self.assertLess(t, bound + SLACK)
        seen = self.watch(1.2, SEED_VIPS)
        self.assertEqual(seen, {(("n1",), ("n1",))},
                         "the highest priority (n1, 100) must hold both VIPs, alone")
        # Gratuitous ARPs, seen by a fourth host: 5 at once for each VIP.
        for vip in SEED_VIPS:
            netlab.wait_for(lambda: len(self.cap.garps(vip)) >= 5, 2)
            g = self.cap.garps(vip)
            macs = sorted({r["src_mac"] for r in g})
            self.report(f"GARPs for {vip} seen by the observer: {len(g)} "
                   f"(ops {sorted({r['op'] for r in g})}, from {macs}; n1 is {self.n1.mac})")
            self.assertGreaterEqual(len(g), 5, f"expected 5 GARPs for {vip} at once")
            self.assertEqual(macs, [self.n1.mac], f"GARPs for {vip} not only from the master")
            for r in g:
                self.assertEqual(r["sha"], self.n1.mac)
                self.assertEqual(r["dst_mac"], BCAST)
                self.assertEqual(r["op"], 1, "keepalived sends ARP requests")
        # The VRRP adverts on the wire: v2, VRID 51, PASS, TTL 255, from n1.
        adv = self.cap.adverts()
        self.assertTrue(adv, "observer saw no VRRP advert")
        last = adv[-1]
        self.report(f"advert seen: v{last['version']} vrid {last['vrid']} prio {last['priority']} "
               f"ttl {last['ttl']} src {last['src']} dst {last['dst']} auth_type "
               f"{last.get('auth_type')} auth {bytes.fromhex(last.get('auth', '')).rstrip(bytes(1))!r} "
               f"addrs {last['addrs']}")
        self.assertEqual((last["version"], last["vrid"], last["priority"], last["ttl"],
                          last["src"], last["dst"], last.get("auth_type")),
                         (2, 51, 100, 255, self.n1.ip4, "224.0.0.18", 1))
        self.assertEqual(bytes.fromhex(last["auth"]), b"K8SHA_KA")
        self.assertTrue(self.lab.reachable(self.lab.observer, "192.0.2.100"),
                        "the observer cannot reach the VIP")

    def test_2_status(self):
        if IMPL != "vrrpd":
            self.skipTest("--status is vrrpd's")
        p = self.d["n1"].status()
        self.report(f"vrrpd --status on n1 (rc {p.returncode}):\n{p.stdout}{p.stderr}")
        self.assertEqual(p.returncode, 0)
        rows = [ln.split() for ln in p.stdout.splitlines() if ln.startswith("VI_1")]
        self.assertTrue(rows, "no VI_1 line")
        self.assertIn("MASTER", rows[0])
        p2 = self.d["n2"].status()
        self.assertEqual(p2.returncode, 0, p2.stderr)
        rows2 = [ln.split() for ln in p2.stdout.splitlines() if ln.startswith("VI_1")]
        self.assertTrue(rows2 and "BACKUP" in rows2[0], p2.stdout)

    def test_3_kill9_failover(self):
        self.assertEqual(self.holders(), ["n1"])
        t0 = time.monotonic()
        self.d["n1"].kill9()
        t = self.wait_holds("n2", SEED_VIPS, 8, since=t0)
        bound = netlab.master_down_interval(80)
        g = [r for r in self.cap.garps("192.0.2.100", since=t0) if r["src_mac"] == self.n2.mac]
        tg = g[0]["t"] - t0 if g else None
        self.report(f"kill -9 of the master: n2 holds the VIPs after "
               f"{t if t is None else round(t, 3)} s (first GARP from n2 at "
               f"{tg if tg is None else round(tg, 3)} s); RFC bound 3 x 1 + (256-80)/256 = "
               f"{bound:.4f} s; keepalived measured 3.60 s")
        self.assertIsNotNone(t, "n2 did not take over within 8 s")
        self.assertLess(t, bound + SLACK)
        self.assertGreater(t, 3 * 1.0 - 1.0 + netlab.skew_time(80) - 0.1,
                           "took over sooner than Master_Down_Interval allows")
        self.assertNotIn("n3", self.holders())
        stale = self.all_holders(SEED_VIPS)
        self.report(f"after kill -9 the dead n1 still has its VIPs (stale): {stale}")
        self.assertIn("n1", stale[VIP], "expected the stale VIP on the killed node")

    def test_4_restart_nopreempt(self):
        t0 = time.monotonic()
        self.d["n1"].restart()
        t = netlab.wait_for(lambda: all("n1" not in self.holders(v) for v in SEED_VIPS), 3,
                            since=t0)
        self.report(f"restarted n1 removed its stale VIPs after {t if t is None else round(t, 3)} s")
        self.assertIsNotNone(t, "restarted node kept its stale VIPs")
        window = netlab.master_down_interval(100) + 1.5 - (time.monotonic() - t0)
        seen = self.watch(window, SEED_VIPS)
        self.report(f"nopreempt: holders during {netlab.master_down_interval(100) + 1.5:.1f} s after "
               f"the restart: {sorted(seen)}")
        self.assertEqual(seen, {(("n2",), ("n2",))},
                         "nopreempt: the restarted higher-priority node must not take the VIP")
        if IMPL == "vrrpd":
            p = self.d["n1"].status()
            self.assertIn("BACKUP", p.stdout, p.stdout + p.stderr)

    def test_5_term_failover(self):
        self.assertEqual(self.holders(), ["n2"])
        t0 = time.monotonic()
        self.d["n2"].send_signal(signal.SIGTERM)
        t = self.wait_holds("n1", SEED_VIPS, 5, since=t0)
        skew = netlab.skew_time(100)
        self.report(f"TERM of the master (n2): n1 (prio 100) holds the VIPs after "
               f"{t if t is None else round(t, 3)} s; Skew_Time(100) = {skew:.4f} s; "
               f"keepalived measured 0.44 s")
        self.assertIsNotNone(t, "no takeover within 5 s of TERM")
        self.assertLess(t, skew + SLACK)
        rc = self.d["n2"].proc.wait(5)
        tr = netlab.wait_for(lambda: all("n2" not in self.holders(v) for v in SEED_VIPS), 2)
        self.assertIsNotNone(tr, "n2 kept its VIPs after stopping")
        self.assertEqual(self.all_holders(SEED_VIPS), {VIP: ["n1"], VIP_PUB: ["n1"]})
        if IMPL == "vrrpd":
            self.assert_exit_clean(self.d["n2"], rc)


# ---------------------------------------------------------------------------
# Preempt: a restarted higher-priority node takes the VIP back
# ---------------------------------------------------------------------------

class Preempt(LabCase):

    @classmethod
    def setUpClass(cls):
        lab = cls.make_lab(nodes=2)
        cls.n1, cls.n2 = lab.nodes
        cls.t_start = time.monotonic()
        cls.d1 = cls.start(cls.n1, 100, nopreempt=False)
        cls.d2 = cls.start(cls.n2, 80, nopreempt=False)

    def test_preempt_after_restart(self):
        t = self.wait_holds("n1", SEED_VIPS, 10, since=self.t_start)
        self.assertIsNotNone(t, "n1 never became master")
        self.assertEqual(self.holders(), ["n1"])
        t0 = time.monotonic()
        self.d1.kill9()
        t = self.wait_holds("n2", SEED_VIPS, 8, since=t0)
        self.report(f"preempt lab: kill -9 -> n2 holds after {t if t is None else round(t, 3)} s "
               f"(bound {netlab.master_down_interval(80):.4f} s)")
        self.assertIsNotNone(t)
        self.assertLess(t, netlab.master_down_interval(80) + SLACK)
        t0 = time.monotonic()
        self.d1.restart()
        t_clean = netlab.wait_for(lambda: self.holders() == ["n2"], 3, since=t0)
        t_back = self.wait_holds("n1", SEED_VIPS, 8, since=t0)
        t_gone = netlab.wait_for(lambda: all(self.holders(v) == ["n1"] for v in SEED_VIPS), 3,
                                 since=t0)
        bound = netlab.master_down_interval(100)
        self.report(f"preempt: restarted n1 removed its stale VIPs after "
               f"{t_clean if t_clean is None else round(t_clean, 3)} s, took the VIPs back after "
               f"{t_back if t_back is None else round(t_back, 3)} s, n2 released them after "
               f"{t_gone if t_gone is None else round(t_gone, 3)} s; "
               f"Master_Down_Interval(100) = {bound:.4f} s")
        self.assertIsNotNone(t_clean, "restarted node kept its stale VIPs")
        self.assertIsNotNone(t_back, "preempt: n1 (100) did not take the VIPs back from n2 (80)")
        self.assertLess(t_back, bound + SLACK)
        self.assertIsNotNone(t_gone, "n2 kept the VIPs after n1 preempted")


# ---------------------------------------------------------------------------
# Unicast across two subnets through a router
# ---------------------------------------------------------------------------

class UnicastRouted(LabCase):
    """n1 on 192.0.2.0/24, n2 on 198.51.100.0/24, a router in between (TTL
    arrives as 254: that is why TTL is not checked in unicast mode)."""

    VIPS = [VIP_PUB]

    @classmethod
    def setUpClass(cls):
        lab = cls.make_lab(nodes=[("n1", "a"), ("n2", "b")])
        lab.add_router()
        cls.n1, cls.n2 = lab.nodes
        cls.cap = lab.capture(lab.router, "eth1")       # the router's leg on subnet b
        cls.t_start = time.monotonic()
        cls.d1 = cls.start(cls.n1, 100, vips=cls.VIPS, unicast_peers=[cls.n2.ip4])
        cls.d2 = cls.start(cls.n2, 80, vips=cls.VIPS, unicast_peers=[cls.n1.ip4])

    def test_unicast_election_and_failover(self):
        t = self.wait_holds("n1", self.VIPS, 10, since=self.t_start)
        self.report(f"unicast across a router: n1 elected after {t if t is None else round(t, 3)} s")
        self.assertIsNotNone(t, "n1 never became master")
        seen = self.watch(1.2, self.VIPS)
        self.assertEqual(seen, {(("n1",),)}, "exactly one holder (n1) expected")
        fwd = [r for r in self.cap.adverts() if r["src"] == self.n1.ip4 and r["outgoing"]]
        self.assertTrue(fwd, "no advert from n1 forwarded onto subnet b")
        self.report(f"adverts n1 -> n2 leave the router with TTL {sorted({r['ttl'] for r in fwd})}, "
               f"dst {sorted({r['dst'] for r in fwd})}")
        self.assertEqual({r["dst"] for r in fwd}, {self.n2.ip4})
        t0 = time.monotonic()
        self.d1.kill9()
        t = self.wait_holds("n2", self.VIPS, 8, since=t0)
        bound = netlab.master_down_interval(80)
        self.report(f"unicast: kill -9 of n1 -> n2 holds after {t if t is None else round(t, 3)} s; "
               f"bound {bound:.4f} s")
        self.assertIsNotNone(t, "n2 did not take over")
        self.assertLess(t, bound + SLACK)


# ---------------------------------------------------------------------------
# Password mismatch keeps nodes apart
# ---------------------------------------------------------------------------

class AuthMismatch(LabCase):
    """n1 K8SHA_KA_AUTH (100), n2 K8SHA_KA_OTHER (80): the same 8 bytes on
    the wire after keepalived's truncation, so one group; n3 WRONGPWD (60):
    apart, becomes MASTER too -> two holders."""

    @classmethod
    def setUpClass(cls):
        lab = cls.make_lab(nodes=3)
        cls.n1, cls.n2, cls.n3 = lab.nodes
        cls.t_start = time.monotonic()
        cls.start(cls.n1, 100, auth_pass="K8SHA_KA_AUTH")
        cls.start(cls.n2, 80, auth_pass="K8SHA_KA_OTHER")
        cls.start(cls.n3, 60, auth_pass="WRONGPWD")

    def test_mismatch_two_masters(self):
        t = netlab.wait_for(lambda: len(self.holders()) >= 2, 10, since=self.t_start)
        self.assertIsNotNone(t, f"password mismatch: expected two holders, got {self.holders()}")
        seen = self.watch(1.5, [VIP])
        self.report(f"password mismatch: holders {sorted(seen)} (second master after {t:.3f} s)")
        self.assertEqual(seen, {(("n1", "n3"),)},
                         "n1 and n3 (different passwords) must both be MASTER; n2 (same "
                         "first 8 bytes as n1) must stay BACKUP")


# ---------------------------------------------------------------------------
# IPv6 VIP with VRRPv3
# ---------------------------------------------------------------------------

class Ipv6V3(LabCase):
    ADVERT = 0.5

    @classmethod
    def setUpClass(cls):
        lab = cls.make_lab(nodes=2, ipv6=True, observer=True)
        cls.n1, cls.n2 = lab.nodes
        cls.cap = lab.capture()
        cls.t_start = time.monotonic()
        kw = dict(vips=[VIP6], version=3, advert_int=cls.ADVERT, auth_type=None,
                  mcast_src_ip=None)
        cls.d1 = cls.start(cls.n1, 100, **kw)
        cls.d2 = cls.start(cls.n2, 80, **kw)

    def test_v3_election_na_failover(self):
        t = self.wait_holds("n1", [VIP6], 10, since=self.t_start)
        bound = netlab.master_down_interval(100, self.ADVERT, 3)
        self.report(f"IPv6/v3 advert {self.ADVERT}: n1 elected after "
               f"{t if t is None else round(t, 3)} s; Master_Down_Interval {bound:.4f} s")
        self.assertIsNotNone(t, "n1 never became master")
        seen = self.watch(1.0, [VIP6])
        self.assertEqual(seen, {(("n1",),)}, "exactly one holder (n1) expected")
        netlab.wait_for(lambda: self.cap.unsolicited_nas(VIP6), 2)
        na = self.cap.unsolicited_nas(VIP6)
        self.report(f"unsolicited NAs for {VIP6}: {len(na)} from {sorted({r['src_mac'] for r in na})}"
               f", override {sorted({r['override'] for r in na})}")
        self.assertTrue(na, "observer saw no unsolicited NA for the VIP")
        self.assertEqual({r["src_mac"] for r in na}, {self.n1.mac})
        self.assertTrue(all(r["override"] for r in na), "NA without the Override flag")
        adv = [r for r in self.cap.adverts() if r["src"].startswith("fe80:")]
        self.assertTrue(adv, "no VRRPv3 advert from a link-local address")
        last = adv[-1]
        self.report(f"v3 advert: version {last['version']} prio {last['priority']} hop limit "
               f"{last['ttl']} max_advert {last['max_advert_cs']} cs dst {last['dst']} "
               f"addrs {last['addrs']}")
        self.assertEqual((last["version"], last["dst"], last["ttl"], last["max_advert_cs"]),
                         (3, "ff02::12", 255, int(self.ADVERT * 100)))
        t0 = time.monotonic()
        self.d1.kill9()
        t = self.wait_holds("n2", [VIP6], 6, since=t0)
        bound = netlab.master_down_interval(80, self.ADVERT, 3)
        self.report(f"IPv6/v3: kill -9 of n1 -> n2 holds after {t if t is None else round(t, 3)} s; "
               f"bound 3 x {self.ADVERT} + (256-80) x {self.ADVERT}/256 = {bound:.4f} s")
        self.assertIsNotNone(t, "n2 did not take over")
        self.assertLess(t, bound + SLACK)


if __name__ == "__main__":
    netlab.main()
