#!/usr/bin/env python3
"""vrrpd's drop counters and drop logging under hostile traffic, in the
namespace lab (tests/lib/netlab.py).  One vrrpd node (IPv4 VI_1, VRRPv2
PASS, and IPv6 VI_6, VRRPv3, on the same eth0) and an attacker host on the
segment that sends adverts from a raw socket.

1. Interface drops per family: adverts for a VRID nobody runs are dropped by
   the IPv4 and the IPv6 socket of eth0 alike; state.json and `vrrpd
   --status` show both counts (keyed by the name alone, the IPv6 counter
   overwrote the IPv4 one).
2. A flood of wrong-password adverts under -D (10 000 a second for 2 s):
   the log gets the first few lines a second and one "N more suppressed"
   line per second (without the limit: one line per packet); the counter in
   state.json still counts every packet the socket got: it equals the
   packets sent less the socket's own receive-queue drops (/proc/net/raw),
   and equals the lines logged plus the suppressed ones.

Needs root: skipped (exit 77) without it, a failure under CI=true.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netlab  # noqa: E402

VIP = "192.0.2.100/24"
VIP6 = "2001:db8::100/64"
FLOOD_RATE = 10000     # packets a second (the figure of issue 9)
FLOOD_SECONDS = 2
# The limit (README, -D): 5 lines a second per reason, then one line.
LINES_PER_SECOND = 5 + 1

# Sends VRRP adverts from the attacker: argv kind count rate.
#   v2bad  VRRPv2 VRID 51 PASS "WRONGPWD" to 224.0.0.18 (VI_1's VRID)
#   v2vrid VRRPv2 VRID 99 (no instance) to 224.0.0.18
#   v3vrid VRRPv3 VRID 99 over IPv6 to ff02::12 (checksum by the kernel)
# Prints the number sent.
_SENDER = r"""
import socket, struct, sys, time
kind, count, rate, ifname = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def v2(vrid, pw):
    m = bytearray(struct.pack("!BBBBBBH", 0x21, vrid, 200, 1, 1, 1, 0)
                  + socket.inet_aton("192.0.2.100") + pw.ljust(8, b"\0")[:8])
    m[6:8] = struct.pack("!H", csum(bytes(m)))
    return bytes(m)
if kind.startswith("v2"):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    msg = v2(51, b"WRONGPWD") if kind == "v2bad" else v2(99, b"K8SHA_KA")
    dst = ("224.0.0.18", 0)
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, 7, 6)   # IPV6_CHECKSUM at offset 6
    msg = struct.pack("!BBBBHH", 0x31, 99, 200, 1, 100, 0) + socket.inet_pton(
        socket.AF_INET6, "2001:db8::100")
    dst = ("ff02::12", 0, 0, socket.if_nametoindex(ifname))
sent, t0 = 0, time.monotonic()
while sent < count:
    due = t0 + sent / rate
    now = time.monotonic()
    if due > now: time.sleep(due - now)
    s.sendto(msg, dst); sent += 1
print(sent)
"""


def setUpModule():
    netlab.require("vrrpd")


class Drops(netlab.LabCase):

    @classmethod
    def setUpClass(cls):
        cls.n1 = cls.make_lab(nodes=1, ipv6=True, observer=True).nodes[0]
        cfg = netlab.seed_config(cls.n1, 100, vips=[VIP], state="MASTER")
        cfg.instances.append(netlab.Instance(name="VI_6", virtual_router_id=52, version=3,
                                             state="MASTER", auth_type=None, advert_int=1,
                                             virtual_ipaddresses=[VIP6]))
        cls.d = cls.lab.start_vrrpd(cls.n1, cfg)
        ok = netlab.wait_for(lambda: cls.lab.vip_holders(VIP) == ["n1"]
                             and cls.lab.vip_holders(VIP6) == ["n1"], 10)
        if ok is None:
            raise AssertionError(f"vrrpd did not come up:\n{cls.lab.diagnostics()}")

    def send(self, kind: str, count: int, rate: float = 1000.0) -> int:
        p = self.lab.exec(self.lab.observer.ns, [sys.executable, "-c", _SENDER, kind, count,
                                                 rate, "eth0"],
                          timeout=count / rate + 20)
        return int(p.stdout.strip())

    def state(self) -> dict:
        self.assertEqual(self.d.status().returncode, 0)   # USR1: a fresh state file
        with open(os.path.join(self.d.run_dir, "state.json")) as f:
            return json.load(f)

    def raw_socket_drops(self) -> int:
        """Receive-queue drops of the VRRP (protocol 112) raw sockets in n1."""
        total = 0
        for path in ("/proc/net/raw", "/proc/net/raw6"):
            p = self.lab.exec(self.n1.ns, ["cat", path])
            for line in p.stdout.splitlines()[1:]:
                f = line.split()
                if f[1].endswith(":0070"):
                    total += int(f[-1])
        return total

    def test_1_interface_drops_by_family(self):
        n4 = self.send("v2vrid", 3)
        n6 = self.send("v3vrid", 5)
        want = {("eth0", "ipv4"): n4, ("eth0", "ipv6"): n6}

        def got():
            doc = self.state()
            return {(e["interface"], e["family"]): e["dropped"].get("unknown_vrid", 0)
                    for e in doc.get("interface_drops", []) if isinstance(e, dict)}
        t = netlab.wait_for(lambda: got() == want, 3, interval=0.2)
        out = self.d.status().stdout
        lines = [ln for ln in out.splitlines() if ln.startswith("interface ")]
        self.report(f"unknown VRID sent: {n4} over IPv4, {n6} over IPv6; state.json "
               f"interface_drops: {got()}; --status: {lines}")
        self.assertIsNotNone(t, f"expected {want}, state.json has {got()}")
        self.assertIn(f"interface eth0 ipv4: dropped unknown_vrid: {n4}", out)
        self.assertIn(f"interface eth0 ipv6: dropped unknown_vrid: {n6}", out)

    def test_2_flood_of_wrong_passwords_is_rate_limited_in_the_log(self):
        def counter():
            for i in self.state()["instances"]:
                if i["name"] == "VI_1":
                    return i["dropped"].get("auth_mismatch", 0)
            return 0
        before, raw_before = counter(), self.raw_socket_drops()
        mark = len(self.d.output())
        t0 = time.monotonic()
        sent = self.send("v2bad", FLOOD_RATE * FLOOD_SECONDS, FLOOD_RATE)
        took = time.monotonic() - t0
        time.sleep(1.5)                      # the last window's "suppressed" line
        log = self.d.output()[mark:]
        dropped_lines = [ln for ln in log.splitlines() if "auth_mismatch" in ln]
        logged = [ln for ln in dropped_lines if "dropped advert" in ln]
        suppressed = sum(int(m.group(1)) for m in
                         re.finditer(r"(\d+) more auth_mismatch line\(s\) suppressed", log))
        counted = counter() - before
        lost = self.raw_socket_drops() - raw_before
        seconds = took + 1.5
        bound = LINES_PER_SECOND * (int(seconds) + 2)
        self.report(f"flood: {sent} wrong-password adverts in {took:.2f} s; counter +{counted}, "
               f"socket queue drops {lost}; log: {len(dropped_lines)} auth_mismatch lines "
               f"({len(logged)} drop lines + suppressed counts totalling {suppressed}), "
               f"{len(log.encode())} bytes; bound {bound} lines")
        self.assertLessEqual(len(dropped_lines), bound, "drop logging is not rate-limited")
        self.assertGreater(len(logged), 0, "no drop line at all under -D")
        self.assertEqual(counted, sent - lost, "the drop counter missed packets")
        self.assertEqual(len(logged) + suppressed, counted,
                         "logged + suppressed lines must account for every drop")


if __name__ == "__main__":
    netlab.main()
