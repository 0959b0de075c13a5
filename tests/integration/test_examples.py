#!/usr/bin/env python3
"""Every configuration under examples/ (but demo/) passes `proxyd -t -c` and
`vrrpd -t -f` (exit 0; the warnings a machine that is not the node gives --
interface, source address, missing script -- are printed, not failures), the
nodes of one example agree with each other (same VRIDs and VIPs, distinct
router_ids), and the examples use documentation addresses only.

    python3 tests/integration/test_examples.py

Environment: PROXYD_BIN (default build/bin/proxyd), VRRPD_BIN (default: vrrpd
beside PROXYD_BIN).
"""

import ipaddress
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import testenv  # noqa: E402

REPO = testenv.REPO
EXAMPLES = os.path.join(REPO, "examples")
EXPECTED = ["seed-kube-apiserver", "unicast-two-dc", "active-active", "ipv6"]

# RFC 5737 / RFC 3849 documentation ranges, plus what any config may name.
ALLOWED_NETS = [ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32",
    "127.0.0.0/8", "0.0.0.0/32", "224.0.0.18/32",
    "::1/128", "::/128", "fe80::/10", "ff02::12/128")]


def setUpModule():
    testenv.require(testenv.unavailable(built=["proxyd", "vrrpd"]))


def example_dirs():
    return sorted(d for d in os.listdir(EXAMPLES)
                  if d != "demo" and os.path.isdir(os.path.join(EXAMPLES, d)))


def configs(kind: str):
    """(example, path) for every proxyd*.ini or vrrpd*.ini."""
    for d in example_dirs():
        for f in sorted(os.listdir(os.path.join(EXAMPLES, d))):
            if f.startswith(kind) and f.endswith(".ini"):
                yield d, os.path.join(EXAMPLES, d, f)


def check(argv, path):
    """Runs a -t check from a neutral directory; returns (rc, stderr)."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd="/")
    out = (p.stdout + p.stderr).strip()
    if out:
        print(f"--- {os.path.relpath(path, REPO)} (exit {p.returncode})\n{out}", file=sys.stderr)
    return p.returncode, p.stdout + p.stderr


def parse_ini(path):
    """{section: [(key, value), ...]} with repeated keys kept in order and
    ` ;` comments cut (the subset of proxyd/vrrpd's INI the checks need)."""
    sections, cur = {}, None
    with open(path) as f:
        for line in f:
            if not line.strip() or line.lstrip()[0] in ";#":
                continue
            line = re.sub(r"\s;.*$", "", line.rstrip("\n"))
            if line.startswith("["):
                cur = line.strip()[1:-1].strip()
                sections[cur] = []
            elif "=" in line and not line[0].isspace():
                k, v = line.split("=", 1)
                sections[cur].append((k.strip(), v.strip()))
    return sections


def values(section, key):
    return [v for k, v in section if k == key]


class Layout(unittest.TestCase):
    def test_every_example_is_there_with_a_readme_and_configs(self):
        self.assertTrue(os.path.isfile(os.path.join(EXAMPLES, "README.md")))
        for d in EXPECTED:
            with self.subTest(example=d):
                files = os.listdir(os.path.join(EXAMPLES, d))
                self.assertIn("README.md", files)
                self.assertTrue(any(f.startswith("proxyd") and f.endswith(".ini") for f in files))
                self.assertGreaterEqual(
                    len([f for f in files if f.startswith("vrrpd") and f.endswith(".ini")]), 2)


class ConfigTest(unittest.TestCase):
    def test_every_proxyd_ini_passes_proxyd_t(self):
        n = 0
        for d, path in configs("proxyd"):
            with self.subTest(config=os.path.relpath(path, EXAMPLES)):
                rc, out = check([testenv.built_binary("proxyd"), "-t", "-c", path], path)
                self.assertEqual(rc, 0, out)
                self.assertNotIn(": error:", out)
                self.assertIn("test is successful", out)
                n += 1
        self.assertGreaterEqual(n, len(EXPECTED))

    def test_every_vrrpd_ini_passes_vrrpd_t(self):
        n = 0
        for d, path in configs("vrrpd"):
            with self.subTest(config=os.path.relpath(path, EXAMPLES)):
                rc, out = check([testenv.built_binary("vrrpd"), "-t", "-f", path], path)
                self.assertEqual(rc, 0, out)
                self.assertNotIn(": error:", out)
                self.assertIn("test is successful", out)
                n += 1
        self.assertGreaterEqual(n, 2 * len(EXPECTED))


class Consistency(unittest.TestCase):
    def test_the_nodes_of_an_example_agree(self):
        """Same instances, VRIDs, VIPs and versions on every node; distinct
        router_ids and, per instance, distinct priorities and sources."""
        for d in example_dirs():
            nodes = {os.path.basename(p): parse_ini(p) for _, p in configs("vrrpd") if _ == d}
            with self.subTest(example=d):
                shape = {}
                for name, secs in nodes.items():
                    inst = {s: (values(v, "virtual_router_id"), sorted(values(v, "virtual_ipaddress")),
                                values(v, "version"), values(v, "advert_int"), values(v, "auth_pass"))
                            for s, v in secs.items() if s.startswith("vrrp_instance")}
                    shape[name] = inst
                first = next(iter(shape.values()))
                for name, inst in shape.items():
                    self.assertEqual(inst, first, f"{name} differs from the other nodes")
                router_ids = [values(s["global"], "router_id")[0] for s in nodes.values()]
                self.assertEqual(len(set(router_ids)), len(router_ids), router_ids)
                for inst in first:
                    prios = [values(s[inst], "priority") for s in nodes.values()]
                    self.assertEqual(len({tuple(p) for p in prios}), len(prios), (inst, prios))

    def test_the_seed_example_keeps_the_seeds_values(self):
        d = os.path.join(EXAMPLES, "seed-kube-apiserver")
        prios = []
        for n in (1, 2, 3):
            vi = parse_ini(os.path.join(d, f"vrrpd-master{n}.ini"))["vrrp_instance VI_1"]
            self.assertEqual(values(vi, "state"), ["BACKUP"])
            self.assertEqual(values(vi, "nopreempt"), ["yes"])
            self.assertEqual(values(vi, "virtual_router_id"), ["51"])
            self.assertEqual(values(vi, "advert_int"), ["2"])
            self.assertEqual(values(vi, "auth_type"), ["PASS"])
            self.assertEqual(values(vi, "virtual_ipaddress"),
                             ["192.0.2.100/24", "203.0.113.100/24"])
            self.assertEqual(values(vi, "mcast_src_ip"), [f"192.0.2.1{n}"])
            prios += values(vi, "priority")
        self.assertEqual(prios, ["100", "80", "60"])
        p = parse_ini(os.path.join(d, "proxyd.ini"))
        up = p["upstream k8sapiserver"]
        self.assertEqual(values(up, "hash"), ["$remote_addr consistent"])
        self.assertEqual(values(up, "server"),
                         [f"192.0.2.1{n}:6443 max_fails=3 fail_timeout=30s" for n in (1, 2, 3)])
        srv = p["server k8s"]
        self.assertEqual(values(srv, "listen"), ["10443"])
        self.assertEqual(values(srv, "proxy_connect_timeout"), ["1s"])
        self.assertEqual(values(p["status"], "listen"), ["10088"])


class Addresses(unittest.TestCase):
    V4 = re.compile(r"(?<![\w.:])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
    V6 = re.compile(r"(?<![\w:])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w:])")

    def test_only_documentation_addresses(self):
        for d in example_dirs():
            for f in sorted(os.listdir(os.path.join(EXAMPLES, d))):
                path = os.path.join(EXAMPLES, d, f)
                with open(path) as fh:
                    text = fh.read()
                # A document section ("section 5.1.2.1") looks like an address.
                found = [m.group(1) for m in self.V4.finditer(text)
                         if not text[max(0, m.start() - 8):m.start()].endswith("section ")]
                found += [a for a in self.V6.findall(text) if "::" in a or a.count(":") == 7]
                for a in found:
                    try:
                        ip = ipaddress.ip_address(a)
                    except ValueError:
                        continue  # a time such as 10:00:00, not an address
                    with self.subTest(file=f"{d}/{f}", address=a):
                        self.assertTrue(any(ip in n for n in ALLOWED_NETS),
                                        f"{a} is not a documentation address")


if __name__ == "__main__":
    testenv.main()
