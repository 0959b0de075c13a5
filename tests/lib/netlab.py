"""Network-namespace lab for vrrpd (and keepalived) tests (Python 3, stdlib only).

DESIGN.md, "The test lab": everything that sends VRRP, ARP or NA runs inside
network namespaces this module creates and removes; never on the host's own
interfaces.  Every `ip` command here carries `-n NS` (or `ip netns exec NS`)
with NS one of this run's namespaces: `_ns_ip()` refuses anything else.

Topology
    switch namespace  one Linux bridge per subnet (br-a, br-b, ...)
    node namespaces   one per node, joined to its subnet's bridge by a veth
                      pair whose node side is `eth0`
    observer          a plain host on a subnet (captures GARP/NA/VRRP)
    router            optional, one leg per subnet, ip_forward=1; nodes then
                      get a default route through it (unicast across subnets)

Addresses (documentation ranges only)
    subnet a  192.0.2.0/24     2001:db8::/64       (default)
    subnet b  198.51.100.0/24  2001:db8:0:b::/64   (add_subnet("b"))
    node k (1-based, global count) gets .10+k (192.0.2.11, .12, ...) and
    PREFIX::10+k in hex-free decimal form (2001:db8::11, ::12, ...) with
    nodad; the router gets .1, the observer .250.
    VIPs used by the tests: 192.0.2.100/24, 203.0.113.100/24, 2001:db8::100/64.

Namespace names carry a per-run prefix `vlab<PID>-<RAND>-` so parallel runs
never collide; a lab found from a run whose PID is dead is removed by the
next Lab() (a ctest timeout SIGKILLs the test: no handler can run then).

Cleanup on every exit path: Lab is a context manager (try/finally), an atexit
hook stops every process and deletes every namespace of this run, and
SIGTERM/SIGINT/SIGHUP handlers do the same then exit 128+signal.  Every child
also gets PR_SET_PDEATHSIG so it dies with the test even after a SIGKILL.

Daemons: VrrpConfig/Instance describe one node's configuration; render it as
vrrpd.ini (DESIGN.md schema) or keepalived.conf and start it with
Lab.start_vrrpd(node, cfg) / Lab.start_keepalived(node, cfg) or
Lab.start_daemon(impl, node, cfg).
"""

from __future__ import annotations

import atexit
import dataclasses
import ipaddress
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from typing import Optional

if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testenv  # noqa: E402

REPO = testenv.REPO
KEEPALIVED_BIN = testenv.system_binary("keepalived")
IP = testenv.system_binary("ip")
SYSCTL = testenv.system_binary("sysctl")

SKIP_RETURN_CODE = testenv.SKIP_RETURN_CODE
NS_PREFIX_BASE = "vlab"

SUBNETS = {
    "a": ("192.0.2.0/24", "2001:db8::/64"),
    "b": ("198.51.100.0/24", "2001:db8:0:b::/64"),
    "c": ("203.0.113.0/24", "2001:db8:0:c::/64"),
}

# ---------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------


# One skip rule, one binary lookup, one wait for the whole suite
# (tests/lib/testenv.py), re-exported here.
in_ci = testenv.in_ci
wait_for = testenv.wait_for


def vrrpd_binary() -> str:
    return testenv.built_binary("vrrpd")


def impl_from_env() -> str:
    impl = os.environ.get("VRRP_IMPL", "vrrpd").strip() or "vrrpd"
    if impl not in ("vrrpd", "keepalived"):
        raise ValueError(f"VRRP_IMPL must be vrrpd or keepalived, not {impl!r}")
    return impl


def unavailable_reason(impl: Optional[str] = None) -> Optional[str]:
    """None when the lab (and `impl`, if given) can run here, else why not."""
    if impl not in (None, "vrrpd", "keepalived"):
        raise ValueError(impl)
    return testenv.unavailable(root="the namespace lab (CAP_NET_ADMIN, CAP_SYS_ADMIN)",
                               built=["vrrpd"] if impl == "vrrpd" else [],
                               installed=["ip"] + (["keepalived"] if impl == "keepalived" else []))


def require(impl: Optional[str] = None) -> None:
    """Skip the calling test (module) when the lab or `impl` cannot run here;
    under CI the runner (testenv.main) makes that skip a failure unless it is
    on tests/lib/allowed_skips.txt."""
    testenv.require(unavailable_reason(impl))


# ---------------------------------------------------------------------------
# Cleanup registry and signal handling
# ---------------------------------------------------------------------------

_RUN_PREFIX = f"{NS_PREFIX_BASE}{os.getpid()}-{secrets.token_hex(2)}-"
_procs: list = []       # NsProcess objects still to stop
_namespaces: list = []  # namespace names registered BEFORE `ip netns add`
_tmpdirs: list = []
_cleaning = False
_lab_serial = itertools.count(1)


def run_prefix() -> str:
    return _RUN_PREFIX


# What a child gets when the test process dies (even by SIGKILL), so no
# daemon outlives its test; None (seedlab's --keep): children outlive it.
PDEATHSIG: Optional[int] = signal.SIGKILL


def _run(argv: list, check: bool = True, timeout: float = 20.0,
         input: Optional[str] = None) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       input=input, stdin=None if input is not None else subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} -> {p.returncode}: {p.stderr.strip()}")
    return p


def _list_netns() -> list:
    p = _run([IP, "netns", "list"], check=False)
    return [ln.split()[0] for ln in p.stdout.splitlines() if ln.strip()]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _kill_ns_pids(ns: str) -> None:
    """SIGKILL whatever still runs in namespace `ns` (a daemon's children,
    a process registered too late)."""
    p = _run([IP, "netns", "pids", ns], check=False, timeout=10)
    for tok in p.stdout.split():
        if tok.isdigit() and int(tok) != os.getpid():
            try:
                os.kill(int(tok), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _delete_ns(ns: str) -> None:
    if not ns.startswith(NS_PREFIX_BASE):
        raise AssertionError(f"refusing to delete foreign namespace {ns!r}")
    _kill_ns_pids(ns)
    _run([IP, "netns", "del", ns], check=False, timeout=10)


def reap_dead_runs() -> list:
    """Delete namespaces left by earlier runs whose process is gone
    (a SIGKILLed test cannot clean up).  Returns the names removed."""
    removed = []
    for ns in _list_netns():
        m = re.match(rf"^{NS_PREFIX_BASE}(\d+)-[0-9a-f]{{4}}-", ns)
        if not m or ns.startswith(_RUN_PREFIX):
            continue
        if not _pid_alive(int(m.group(1))):
            _delete_ns(ns)
            removed.append(ns)
    return removed


def cleanup_all() -> None:
    """Stop every process, delete every namespace of this run (including any
    not (yet) registered but carrying the run prefix), remove temp dirs.
    Idempotent and safe to re-enter from a signal handler."""
    global _cleaning
    _cleaning = True
    try:
        while _procs:
            proc = _procs.pop()
            try:
                proc.kill(signal.SIGKILL)
            except Exception:  # noqa: BLE001 - best effort on exit
                pass
        while _namespaces:
            ns = _namespaces.pop()
            try:
                _delete_ns(ns)
            except Exception:  # noqa: BLE001
                pass
        for ns in _list_netns():
            if ns.startswith(_RUN_PREFIX):
                try:
                    _delete_ns(ns)
                except Exception:  # noqa: BLE001
                    pass
        if not os.environ.get("NETLAB_KEEP_TMP"):
            while _tmpdirs:
                shutil.rmtree(_tmpdirs.pop(), ignore_errors=True)
    finally:
        _cleaning = False


atexit.register(cleanup_all)


def _on_signal(signum, frame):
    # Ignore further TERM/INT while cleaning, then leave with 128+signal.
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        try:
            signal.signal(s, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    try:
        print(f"\nnetlab: signal {signum}: removing the lab", file=sys.stderr, flush=True)
        cleanup_all()
    finally:
        os._exit(128 + signum)


def install_signal_handlers() -> None:
    """TERM, INT (Ctrl-C) and HUP stop every process and remove every
    namespace of this run, then exit 128+signal.  (unittest would record a
    SystemExit raised inside a test as an error and carry on, so the handler
    cleans up itself instead of raising.)"""
    import threading
    if threading.current_thread() is not threading.main_thread():
        return
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _on_signal)


install_signal_handlers()


def _mkdtemp(prefix: str) -> str:
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    _tmpdirs.append(d)
    return d


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def skew_time(priority: int, advert: float = 1.0, version: int = 2) -> float:
    """Skew_Time: v2 (256 - priority)/256 s; v3 (256 - priority) * advert / 256."""
    return (256 - priority) / 256.0 * (advert if version == 3 else 1.0)


def master_down_interval(priority: int, advert: float = 1.0, version: int = 2) -> float:
    """Master_Down_Interval = 3 * advert + Skew_Time (RFC 3768 / 5798)."""
    return 3 * advert + skew_time(priority, advert, version)


def _addr(a: str) -> ipaddress._BaseAddress:
    return ipaddress.ip_address(a.split("/")[0])


# ---------------------------------------------------------------------------
# Processes in namespaces
# ---------------------------------------------------------------------------


class NsProcess(testenv.Process):
    """A process started with `ip netns exec NS argv...` (ip execs the
    program, so `pid` is the program's), in its own session and process
    group, stdout/stderr to files; registered for cleanup_all()."""

    def __init__(self, ns: str, argv: list, logdir: str, name: str,
                 env: Optional[dict] = None):
        self.ns = ns
        self.name = name
        super().__init__([IP, "netns", "exec", ns] + list(argv),
                         os.path.join(logdir, f"{name}.stdout"),
                         os.path.join(logdir, f"{name}.stderr"),
                         pdeathsig=PDEATHSIG, stamp=True, env=env)
        self.argv = list(argv)
        _procs.append(self)

    def kill9(self) -> None:
        """kill -9 of the whole process group, reaped at once."""
        self.kill(signal.SIGKILL)

    def term(self, timeout: float = 5.0) -> Optional[int]:
        """TERM, wait up to `timeout` s (then SIGKILL).  Returns the exit code."""
        return self.kill(signal.SIGTERM, timeout)

    def kill(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> Optional[int]:
        # Leftovers of the group (keepalived's VRRP child, scripts) are ours.
        rc = super().kill(sig, timeout)
        if self in _procs:
            _procs.remove(self)
        return rc


# ---------------------------------------------------------------------------
# Packet capture on the observer (AF_PACKET, in a child python)
# ---------------------------------------------------------------------------

_CAPTURE_SCRIPT = r"""
import json, socket, struct, sys, time
out, ifname = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
f = open(out, "a", buffering=1)
f.write(json.dumps({"t": time.monotonic(), "kind": "ready"}) + "\n")
def mac(b): return ":".join("%02x" % x for x in b)
def v4(b): return socket.inet_ntop(socket.AF_INET, b)
def v6(b): return socket.inet_ntop(socket.AF_INET6, b)
def vrrp(rec, p, fam):
    vt = p[0]; rec.update(kind="vrrp", version=vt >> 4, type=vt & 15, vrid=p[1],
                          priority=p[2], count=p[3])
    n = p[3]
    if rec["version"] == 2:
        rec["auth_type"] = p[4]; rec["advert_int"] = p[5]
        alen = 4
        rec["addrs"] = [v4(p[8 + 4 * i:12 + 4 * i]) for i in range(n)]
        rec["auth"] = p[8 + 4 * n:16 + 4 * n].hex()
    else:
        rec["max_advert_cs"] = struct.unpack("!H", p[4:6])[0] & 0x0fff
        alen = 4 if fam == 4 else 16
        conv = v4 if fam == 4 else v6
        rec["addrs"] = [conv(p[8 + alen * i:8 + alen * (i + 1)]) for i in range(n)]
while True:
    pkt, anc, _, sa = s.recvmsg(65535, socket.CMSG_SPACE(16))
    t = time.monotonic()
    kt = None
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(data) >= 16:
            sec, ns = struct.unpack("qq", data[:16]); kt = sec + ns / 1e9
    if len(pkt) < 14: continue
    et = struct.unpack("!H", pkt[12:14])[0]
    rec = {"t": t, "kt": kt, "dst_mac": mac(pkt[0:6]), "src_mac": mac(pkt[6:12]),
           "outgoing": sa[2] == 4, "raw": pkt.hex()}
    p = pkt[14:]
    try:
        if et == 0x0806 and len(p) >= 28:
            rec.update(kind="arp", op=struct.unpack("!H", p[6:8])[0], sha=mac(p[8:14]),
                       spa=v4(p[14:18]), tha=mac(p[18:24]), tpa=v4(p[24:28]))
        elif et == 0x0800 and len(p) >= 20:
            ihl = (p[0] & 15) * 4
            rec.update(src=v4(p[12:16]), dst=v4(p[16:20]), ttl=p[8], tos=p[1])
            if p[9] != 112: continue
            vrrp(rec, p[ihl:], 4)
        elif et == 0x86dd and len(p) >= 40:
            nh = p[6]
            rec.update(src=v6(p[8:24]), dst=v6(p[24:40]), ttl=p[7])
            q = p[40:]
            if nh == 112:
                vrrp(rec, q, 6)
            elif nh == 58 and q[0] == 136:
                rec.update(kind="na", target=v6(q[8:24]), flags=q[4],
                           override=bool(q[4] & 0x20), solicited=bool(q[4] & 0x40),
                           router=bool(q[4] & 0x80))
            else:
                continue
        else:
            continue
    except Exception as e:
        rec.update(kind="error", error=repr(e))
    f.write(json.dumps(rec) + "\n")
"""


class Capture:
    """Records ARP, neighbour advertisements and VRRP adverts seen on a
    namespace's interface, one JSON object per line, each with `t`
    (time.monotonic(), comparable with the test's clock), `kt` (the
    kernel's receive time, CLOCK_REALTIME: for gaps between two packets,
    free of the capture process's scheduling) and `raw` (the whole Ethernet
    frame, hex, for byte comparisons)."""

    def __init__(self, lab: "Lab", ns: str, ifname: str = "eth0", name: str = "capture"):
        self.path = os.path.join(lab.tmp, f"{name}.jsonl")
        self.proc = NsProcess(ns, [sys.executable, "-u", "-c", _CAPTURE_SCRIPT, self.path, ifname],
                              lab.tmp, name)
        ok = wait_for(lambda: os.path.exists(self.path) and os.path.getsize(self.path) > 0, 5)
        if ok is None:
            raise RuntimeError(f"capture did not start:\n{self.proc.output()}")

    def records(self, kind: Optional[str] = None, since: Optional[float] = None) -> list:
        out = []
        try:
            with open(self.path) as f:
                for line in f:
                    if not line.endswith("\n"):
                        break
                    r = json.loads(line)
                    if kind is not None and r.get("kind") != kind:
                        continue
                    if since is not None and r["t"] < since:
                        continue
                    out.append(r)
        except FileNotFoundError:
            pass
        return out

    def garps(self, vip: Optional[str] = None, since: Optional[float] = None) -> list:
        """Gratuitous ARPs: sender IP == target IP (== `vip` if given)."""
        want = str(_addr(vip)) if vip else None
        return [r for r in self.records("arp", since)
                if r["spa"] == r["tpa"] and (want is None or r["spa"] == want)]

    def unsolicited_nas(self, vip: Optional[str] = None, since: Optional[float] = None) -> list:
        want = str(_addr(vip)) if vip else None
        return [r for r in self.records("na", since)
                if not r["solicited"] and (want is None or _addr(r["target"]) == _addr(want))]

    def adverts(self, since: Optional[float] = None) -> list:
        return self.records("vrrp", since)

    def stop(self) -> None:
        self.proc.kill(signal.SIGKILL)


# ---------------------------------------------------------------------------
# The lab
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Subnet:
    name: str
    net4: ipaddress.IPv4Network
    net6: ipaddress.IPv6Network
    bridge: str


@dataclasses.dataclass
class Host:
    name: str          # short name: n1, obs, rt
    ns: str            # namespace name (run prefix + name)
    subnet: str        # subnet of eth0
    index: int         # host part of its addresses
    ip4: str           # without prefix length
    ip6: Optional[str]
    mac: str
    tmp: str           # per-host temp dir (run_dir, configs, logs)
    prefixlen4: int = 24
    prefixlen6: int = 64


def _v6_host(net: ipaddress.IPv6Network, index: int) -> str:
    # 2001:db8::11 for index 11: the decimal digits read as hex, as people write them.
    return str(net.network_address + int(str(index), 16))


class Lab:
    """A switch namespace with one bridge per subnet, node namespaces on it,
    optional observer and router.  Use as a context manager:

        with Lab(nodes=3, ipv6=True, observer=True) as lab:
            n1, n2, n3 = lab.nodes
            ...
    """

    def __init__(self, nodes=0, ipv6: bool = False, observer: bool = False,
                 name: str = "lab"):
        require()
        reap_dead_runs()
        # Unique per Lab in this run: a counter, not a random byte (with
        # dozens of labs in one run, 256 random values collided).
        self.id = f"{_RUN_PREFIX}{next(_lab_serial):02x}"
        self.ipv6 = ipv6
        self.tmp = _mkdtemp(f"netlab-{name}-")
        self.subnets: dict = {}
        self.nodes: list = []
        self.hosts: dict = {}
        self.observer: Optional[Host] = None
        self.router: Optional[Host] = None
        self.daemons: list = []
        self._captures: list = []
        self._namespaces: list = []
        self._next_index = 11
        self._closed = False
        try:
            self.switch = self._add_ns("sw")
            self._sysctl(self.switch, {"net.ipv6.conf.all.disable_ipv6": 1,
                                       "net.ipv6.conf.default.disable_ipv6": 1})
            self.add_subnet("a")
            specs = nodes if isinstance(nodes, (list, tuple)) else [None] * int(nodes)
            for spec in specs:
                if spec is None:
                    self.add_node()
                else:
                    nm, sn = spec
                    if sn not in self.subnets:
                        self.add_subnet(sn)
                    self.add_node(nm, subnet=sn)
            if observer:
                self.add_observer()
        except BaseException:
            self.close()
            raise

    # -- namespaces and plumbing --------------------------------------------
    def _add_ns(self, short: str) -> str:
        ns = f"{self.id}-{short}"
        _namespaces.append(ns)          # registered before it exists
        self._namespaces.append(ns)
        _run([IP, "netns", "add", ns])
        _run([IP, "-n", ns, "link", "set", "lo", "up"])
        return ns

    def _owns(self, ns: str) -> None:
        if ns not in self._namespaces:
            raise AssertionError(f"{ns!r} is not a namespace of this lab")

    def ip(self, ns: str, *args, check: bool = True) -> subprocess.CompletedProcess:
        """`ip -n NS args...` in one of this lab's namespaces (never the host's)."""
        self._owns(ns)
        return _run([IP, "-n", ns] + [str(a) for a in args], check=check)

    def ip_batch(self, ns: str, commands: list) -> None:
        self._owns(ns)
        _run([IP, "-n", ns, "-batch", "-"], input="\n".join(commands) + "\n")

    def exec(self, ns: str, argv: list, check: bool = True,
             timeout: float = 20.0) -> subprocess.CompletedProcess:
        """Run a short command in `ns` and return its CompletedProcess."""
        self._owns(ns)
        return _run([IP, "netns", "exec", ns] + [str(a) for a in argv], check=check,
                    timeout=timeout)

    def _sysctl(self, ns: str, values: dict) -> None:
        self.exec(ns, [SYSCTL, "-q", "-w"] + [f"{k}={v}" for k, v in values.items()])

    def add_subnet(self, name: str, net4: Optional[str] = None,
                   net6: Optional[str] = None) -> Subnet:
        d4, d6 = SUBNETS.get(name, (None, None))
        net4, net6 = net4 or d4, net6 or d6
        if net4 is None:
            raise ValueError(f"subnet {name!r}: give its IPv4 network")
        br = f"br-{name}"
        self.ip_batch(self.switch, [
            f"link add {br} type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
            f"link set {br} up"])
        sn = Subnet(name, ipaddress.ip_network(net4), ipaddress.ip_network(net6), br)
        self.subnets[name] = sn
        return sn

    def _attach(self, host_ns: str, short: str, subnet: str, ifname: str,
                index: int, mac: str, prefix6: bool) -> tuple:
        sn = self.subnets[subnet]
        port = f"p-{short}-{ifname}"[:15]
        ip4 = str(sn.net4.network_address + index)
        ip6 = _v6_host(sn.net6, index) if prefix6 else None
        self.ip(self.switch, "link", "add", port, "type", "veth", "peer", "name", ifname,
                "netns", host_ns)
        self.ip_batch(self.switch, [f"link set {port} master {sn.bridge}",
                                    f"link set {port} up"])
        self._sysctl(host_ns, {
            f"net.ipv6.conf.{ifname}.accept_dad": 0,
            f"net.ipv6.conf.{ifname}.disable_ipv6": 0 if self.ipv6 else 1,
            f"net.ipv4.conf.{ifname}.rp_filter": 0,
        })
        cmds = [f"link set {ifname} address {mac}",
                f"addr add {ip4}/{sn.net4.prefixlen} dev {ifname}"]
        if ip6:
            cmds.append(f"addr add {ip6}/{sn.net6.prefixlen} dev {ifname} nodad")
        cmds.append(f"link set {ifname} up")
        self.ip_batch(host_ns, cmds)
        return ip4, ip6

    def _new_host(self, short: str, subnet: str, index: Optional[int]) -> Host:
        if short in self.hosts:
            raise ValueError(f"host {short!r} exists")
        if subnet not in self.subnets:
            self.add_subnet(subnet)
        ns = self._add_ns(short)
        self._sysctl(ns, {"net.ipv4.conf.all.rp_filter": 0,
                          "net.ipv4.conf.default.rp_filter": 0,
                          "net.ipv6.conf.all.accept_dad": 0,
                          "net.ipv6.conf.default.accept_dad": 0,
                          "net.ipv6.conf.all.disable_ipv6": 0 if self.ipv6 else 1,
                          "net.ipv6.conf.default.disable_ipv6": 0 if self.ipv6 else 1})
        if index is None:
            index = self._next_index
            self._next_index += 1
        subnet_no = sorted(self.subnets).index(subnet) + 1
        mac = f"02:00:00:00:{subnet_no:02x}:{index & 0xff:02x}"
        ip4, ip6 = self._attach(ns, short, subnet, "eth0", index, mac, self.ipv6)
        tmp = os.path.join(self.tmp, short)
        os.makedirs(tmp, exist_ok=True)
        h = Host(short, ns, subnet, index, ip4, ip6, mac, tmp,
                 self.subnets[subnet].net4.prefixlen, self.subnets[subnet].net6.prefixlen)
        self.hosts[short] = h
        if self.router is not None:
            self._default_route(h)
        return h

    def add_node(self, name: Optional[str] = None, subnet: str = "a",
                 index: Optional[int] = None) -> Host:
        """A VRRP node: namespace NAME with eth0 on `subnet`'s bridge."""
        name = name or f"n{len(self.nodes) + 1}"
        h = self._new_host(name, subnet, index)
        self.nodes.append(h)
        return h

    def add_observer(self, subnet: str = "a", name: str = "obs") -> Host:
        """A client/observer host (.250) on `subnet`; capture() records there."""
        h = self._new_host(name, subnet, 250)
        if self.observer is None:
            self.observer = h
        return h

    def add_router(self, name: str = "rt") -> Host:
        """A router namespace with one leg (.1) on every subnet, ip_forward=1;
        every host gets a default route through it."""
        if self.router is not None:
            return self.router
        ns = self._add_ns(name)
        self._sysctl(ns, {"net.ipv4.ip_forward": 1,
                          "net.ipv4.conf.all.rp_filter": 0,
                          "net.ipv4.conf.default.rp_filter": 0,
                          "net.ipv6.conf.all.forwarding": 1 if self.ipv6 else 0,
                          "net.ipv6.conf.all.accept_dad": 0,
                          "net.ipv6.conf.default.accept_dad": 0,
                          "net.ipv6.conf.all.disable_ipv6": 0 if self.ipv6 else 1,
                          "net.ipv6.conf.default.disable_ipv6": 0 if self.ipv6 else 1})
        first = None
        for i, sn in enumerate(sorted(self.subnets)):
            ip4, ip6 = self._attach(ns, name, sn, f"eth{i}", 1,
                                    f"02:00:00:00:{i + 1:02x}:01", self.ipv6)
            first = first or (sn, ip4, ip6)
        h = Host(name, ns, first[0], 1, first[1], first[2], "", os.path.join(self.tmp, name))
        self.router = h
        self.hosts[name] = h
        for other in self.hosts.values():
            if other is not h:
                self._default_route(other)
        return h

    def _default_route(self, h: Host) -> None:
        sn = self.subnets[h.subnet]
        cmds = [f"route replace default via {sn.net4.network_address + 1}"]
        if self.ipv6:
            cmds.append(f"route replace default via {_v6_host(sn.net6, 1)}")
        self.ip_batch(h.ns, cmds)

    def node(self, name: str) -> Host:
        return self.hosts[name]

    # -- observation ---------------------------------------------------------
    def addresses(self, host: Host) -> list:
        """Every address on the host's interfaces, as text without prefix."""
        p = self.ip(host.ns, "-o", "addr", "show", check=False)
        out = []
        for line in p.stdout.splitlines():
            parts = line.split()
            for i, tok in enumerate(parts[:-1]):
                if tok in ("inet", "inet6"):
                    out.append(parts[i + 1])
        return out

    def vip_holders(self, ip: str, hosts: Optional[list] = None) -> list:
        """Names of the nodes (default: all VRRP nodes) that have address
        `ip` (prefix length ignored), in node order."""
        want = _addr(ip)
        res = []
        for h in (hosts if hosts is not None else self.nodes):
            if any(_addr(a) == want for a in self.addresses(h)):
                res.append(h.name)
        return res

    def reachable(self, host: Host, ip: str, port: int = 9, timeout: float = 1.0) -> bool:
        """True when a TCP connect from `host` to ip:port gets an answer
        (accepted or refused: something owns the address), False on timeout
        or unreachable."""
        code = ("import socket,sys\n"
                "fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n"
                "s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(float(sys.argv[3]))\n"
                "try:\n    s.connect((sys.argv[1], int(sys.argv[2])))\n"
                "except ConnectionRefusedError:\n    pass\n"
                "except OSError:\n    sys.exit(1)\n")
        p = self.exec(host.ns, [sys.executable, "-c", code, ip, port, timeout], check=False,
                      timeout=timeout + 10)
        return p.returncode == 0

    def capture(self, host: Optional[Host] = None, ifname: str = "eth0") -> Capture:
        """Start recording ARP/NA/VRRP on `host` (default: the observer)."""
        host = host or self.observer
        if host is None:
            raise ValueError("no observer in this lab")
        c = Capture(self, host.ns, ifname, name=f"capture-{host.name}-{len(self._captures)}")
        self._captures.append(c)
        return c

    # -- processes -------------------------------------------------------------
    def spawn(self, host: Host, argv: list, name: Optional[str] = None,
              env: Optional[dict] = None) -> NsProcess:
        """Start `argv` in host's namespace (own process group, output to
        files in the host's temp dir)."""
        self._owns(host.ns)
        os.makedirs(host.tmp, exist_ok=True)
        return NsProcess(host.ns, argv, host.tmp, name or os.path.basename(argv[0]), env=env)

    def start_daemon(self, impl: str, host: Host, cfg: "VrrpConfig") -> "Daemon":
        d = Daemon(self, impl, host, cfg)
        self.daemons.append(d)
        return d

    def start_vrrpd(self, host: Host, cfg: "VrrpConfig") -> "Daemon":
        return self.start_daemon("vrrpd", host, cfg)

    def start_keepalived(self, host: Host, cfg: "VrrpConfig") -> "Daemon":
        return self.start_daemon("keepalived", host, cfg)

    def diagnostics(self, tail: int = 60) -> str:
        """The last lines of every daemon's output and each node's addresses."""
        out = []
        for d in self.daemons:
            text = d.output().splitlines()
            rc = d.proc.proc.poll() if d.proc else None
            out.append(f"--- {d.impl} on {d.host.name} (pid {d.proc.pid if d.proc else '-'}, "
                       f"{'running' if rc is None else f'exit code {rc}'}); last {tail} lines:")
            out.extend(text[-tail:])
        for h in self.nodes:
            out.append(f"--- addresses of {h.name}: {' '.join(self.addresses(h))}")
        return "\n".join(out)

    def check_daemons(self) -> None:
        """Raise AssertionError (with its output) when a daemon that should
        be running has exited."""
        for d in self.daemons:
            if d.expect_alive and d.proc is not None and not d.proc.alive():
                raise AssertionError(
                    f"{d.impl} on {d.host.name} exited unexpectedly with code "
                    f"{d.proc.proc.returncode}:\n{d.output()[-4000:]}")

    # -- teardown ----------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for d in reversed(self.daemons):
            try:
                d.stop()
            except Exception:  # noqa: BLE001
                pass
        for c in self._captures:
            try:
                c.stop()
            except Exception:  # noqa: BLE001
                pass
        for ns in reversed(self._namespaces):
            try:
                _delete_ns(ns)
            finally:
                if ns in _namespaces:
                    _namespaces.remove(ns)
        left = [ns for ns in _list_netns() if ns.startswith(self.id)]
        for ns in left:
            _delete_ns(ns)

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---------------------------------------------------------------------------
# VRRP configuration and renderers
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Instance:
    name: str = "VI_1"
    interface: str = "eth0"
    virtual_router_id: int = 51
    priority: int = 100
    advert_int: float = 1
    state: str = "BACKUP"
    nopreempt: bool = True
    version: Optional[int] = 2          # None: not written (daemon default)
    mcast_src_ip: Optional[str] = None
    unicast_src_ip: Optional[str] = None
    unicast_peers: list = dataclasses.field(default_factory=list)
    auth_type: Optional[str] = "PASS"   # None: no authentication
    auth_pass: str = "K8SHA_KA_AUTH"
    virtual_ipaddresses: list = dataclasses.field(default_factory=list)
    extra: list = dataclasses.field(default_factory=list)   # (key, value): vrrpd INI only
    keepalived_extra: list = dataclasses.field(default_factory=list)  # raw lines


@dataclasses.dataclass
class VrrpConfig:
    router_id: str
    instances: list
    global_extra: list = dataclasses.field(default_factory=list)      # (key, value)
    keepalived_global: list = dataclasses.field(default_factory=list)  # raw lines


def _fmt_num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def seed_config(host: Host, priority: int, vips: Optional[list] = None,
                **instance_kw) -> VrrpConfig:
    """The seed's instance (every node BACKUP, nopreempt, VRRPv2, PASS
    K8SHA_KA_AUTH, VRID 51) with advert_int 1, multicast from the node's
    address, VIPs 192.0.2.100/24 and 203.0.113.100/24 by default."""
    kw = dict(priority=priority, mcast_src_ip=host.ip4,
              virtual_ipaddresses=list(vips or ["192.0.2.100/24", "203.0.113.100/24"]))
    kw.update(instance_kw)
    if kw.get("unicast_peers"):
        kw["mcast_src_ip"] = None
        kw.setdefault("unicast_src_ip", host.ip4)
    return VrrpConfig(router_id=host.name, instances=[Instance(**kw)])


def render_vrrpd_ini(cfg: VrrpConfig, run_dir: str) -> str:
    s = ["; generated by tests/lib/netlab.py\n", "[global]\n",
         f"router_id = {cfg.router_id}\n", f"run_dir = {run_dir}\n"]
    for k, v in cfg.global_extra:
        s.append(f"{k} = {v}\n")
    for inst in cfg.instances:
        s.append(f"\n[vrrp_instance {inst.name}]\n")
        s.append(f"state = {inst.state}\n")
        s.append(f"interface = {inst.interface}\n")
        s.append(f"virtual_router_id = {inst.virtual_router_id}\n")
        s.append(f"priority = {inst.priority}\n")
        s.append(f"advert_int = {_fmt_num(inst.advert_int)}\n")
        s.append(f"nopreempt = {'yes' if inst.nopreempt else 'no'}\n")
        if inst.version is not None:
            s.append(f"version = {inst.version}\n")
        if inst.mcast_src_ip:
            s.append(f"mcast_src_ip = {inst.mcast_src_ip}\n")
        if inst.unicast_src_ip:
            s.append(f"unicast_src_ip = {inst.unicast_src_ip}\n")
        for p in inst.unicast_peers:
            s.append(f"unicast_peer = {p}\n")
        if inst.auth_type:
            s.append(f"auth_type = {inst.auth_type}\n")
            s.append(f"auth_pass = {inst.auth_pass}\n")
        for v in inst.virtual_ipaddresses:
            s.append(f"virtual_ipaddress = {v}\n")
        for k, v in inst.extra:
            s.append(f"{k} = {v}\n")
    return "".join(s)


def vrrp_script_ini(name: str, script: str, **settings) -> str:
    """A [vrrp_script NAME] section of vrrpd.ini: `script = SCRIPT`, then each
    setting as `key = value` in the order given (True/False as yes/no)."""
    s = [f"\n[vrrp_script {name}]\n", f"script = {script}\n"]
    for key, value in settings.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        s.append(f"{key} = {value}\n")
    return "".join(s)


def render_keepalived_conf(cfg: VrrpConfig) -> str:
    s = ["# generated by tests/lib/netlab.py\n", "global_defs {\n",
         f"    router_id {cfg.router_id}\n"]
    for line in cfg.keepalived_global:
        s.append(f"    {line}\n")
    s.append("}\n")
    for inst in cfg.instances:
        s.append(f"vrrp_instance {inst.name} {{\n")
        s.append(f"    state {inst.state}\n")
        s.append(f"    interface {inst.interface}\n")
        s.append(f"    virtual_router_id {inst.virtual_router_id}\n")
        s.append(f"    priority {inst.priority}\n")
        s.append(f"    advert_int {_fmt_num(inst.advert_int)}\n")
        if inst.nopreempt:
            s.append("    nopreempt\n")
        if inst.version is not None:
            s.append(f"    version {inst.version}\n")
        if inst.mcast_src_ip:
            s.append(f"    mcast_src_ip {inst.mcast_src_ip}\n")
        if inst.unicast_src_ip:
            s.append(f"    unicast_src_ip {inst.unicast_src_ip}\n")
        if inst.unicast_peers:
            s.append("    unicast_peer {\n")
            for p in inst.unicast_peers:
                s.append(f"        {p}\n")
            s.append("    }\n")
        if inst.auth_type:
            s.append("    authentication {\n")
            s.append(f"        auth_type {inst.auth_type}\n")
            s.append(f"        auth_pass {inst.auth_pass}\n")
            s.append("    }\n")
        s.append("    virtual_ipaddress {\n")
        for v in inst.virtual_ipaddresses:
            s.append(f"        {v}\n")
        s.append("    }\n")
        for line in inst.keepalived_extra:
            s.append(f"    {line}\n")
        s.append("}\n")
    return "".join(s)


# ---------------------------------------------------------------------------
# A VRRP daemon (vrrpd or keepalived) on a lab host
# ---------------------------------------------------------------------------


class Daemon:
    """vrrpd (`vrrpd -f CONF -l -D -p PIDFILE`) or keepalived (`keepalived
    -n -l -D -G -P -f CONF -p PID -r VRRPPID`), started in the foreground in
    the host's namespace with a per-node run dir, config and pid files.
    restart() starts the same configuration again (the old log is kept)."""

    def __init__(self, lab: Lab, impl: str, host: Host, cfg: VrrpConfig, start: bool = True):
        if impl not in ("vrrpd", "keepalived"):
            raise ValueError(impl)
        self.lab, self.impl, self.host, self.cfg = lab, impl, host, cfg
        self.dir = os.path.join(host.tmp, impl)
        self.run_dir = os.path.join(self.dir, "run")
        os.makedirs(self.run_dir, exist_ok=True)
        os.chmod(self.run_dir, 0o755)  # vrrpd refuses a group/other-writable run_dir (umask 002)
        self.proc: Optional[NsProcess] = None
        self.expect_alive = False   # Lab.check_daemons() complains when it died
        self.starts = 0
        if start:
            self.start()

    @property
    def conf_path(self) -> str:
        return os.path.join(self.dir, "vrrpd.ini" if self.impl == "vrrpd" else "keepalived.conf")

    @property
    def pid_path(self) -> str:
        return os.path.join(self.run_dir, f"{self.impl}.pid")

    def extra_ini(self) -> str:
        """Sections a subclass adds to vrrpd.ini ([vrrp_script ...],
        [vrrp_sync_group ...]), written after the instances."""
        return ""

    def write_config(self, cfg: Optional[VrrpConfig] = None) -> None:
        if cfg is not None:
            self.cfg = cfg
        text = (render_vrrpd_ini(self.cfg, self.run_dir) + self.extra_ini()
                if self.impl == "vrrpd" else render_keepalived_conf(self.cfg))
        with open(self.conf_path, "w") as f:
            f.write(text)

    def argv(self) -> list:
        if self.impl == "vrrpd":
            return [vrrpd_binary(), "-f", self.conf_path, "-l", "-D", "-p", self.pid_path]
        return [KEEPALIVED_BIN, "-n", "-l", "-D", "-G", "-P", "-f", self.conf_path,
                "-p", self.pid_path, "-r", os.path.join(self.run_dir, "vrrp.pid")]

    def start(self, cfg: Optional[VrrpConfig] = None) -> "Daemon":
        if self.proc is not None and self.proc.alive():
            raise RuntimeError(f"{self.impl} on {self.host.name} already running")
        self.write_config(cfg)
        self.starts += 1
        self.proc = self.lab.spawn(self.host, self.argv(), name=self.impl)
        self.expect_alive = True
        return self

    restart = start

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive()

    def kill9(self) -> None:
        """kill -9 of the daemon's process group (keepalived: parent and VRRP
        child together, as a crash of the node would)."""
        self.expect_alive = False
        if self.proc:
            self.proc.kill9()

    def term(self, timeout: float = 5.0) -> Optional[int]:
        self.expect_alive = False
        return self.proc.term(timeout) if self.proc else None

    def send_signal(self, sig: int) -> None:
        if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
            self.expect_alive = False
        if self.proc:
            self.proc.send(sig, group=False)

    def stop(self) -> Optional[int]:
        self.expect_alive = False
        if self.proc is None or not self.proc.alive():
            return self.proc.returncode if self.proc else None
        return self.proc.term(5.0)

    def status(self) -> subprocess.CompletedProcess:
        """`vrrpd --status -f CONF` in the host's namespace."""
        if self.impl != "vrrpd":
            raise NotImplementedError("--status is vrrpd's")
        return self.lab.exec(self.host.ns, [vrrpd_binary(), "--status", "-f", self.conf_path],
                             check=False)

    def output(self) -> str:
        return self.proc.output() if self.proc else ""


# ---------------------------------------------------------------------------
# The base test case
# ---------------------------------------------------------------------------


class LabCase(testenv.DaemonCase):
    """Base of the lab test cases.  make_lab() builds one lab for the class
    (its steps share it: STEPS = True), new_lab() one for the test; either
    is removed at the matching cleanup, and a failed step prints the lab's
    diagnostics while it still exists.  run_daemon() starts a Daemon built
    with start=False (a subclass's configuration) and stops it at cleanup."""

    TAG = "vrrpd"
    lab: Optional[Lab] = None

    @classmethod
    def make_lab(cls, **kw) -> Lab:
        lab = Lab(**dict({"name": cls.__name__}, **kw))
        cls.addClassCleanup(lab.close)
        cls.lab = lab
        return lab

    def new_lab(self, **kw) -> Lab:
        self.lab = Lab(**dict({"name": type(self).__name__}, **kw))
        self.addCleanup(self.lab.close)
        return self.lab

    def run_daemon(self, d: "Daemon") -> "Daemon":
        d.start()
        self.lab.daemons.append(d)
        return self.own(d)

    def assert_exit_clean(self, d: "Daemon", rc) -> None:
        """The daemon's exit on TERM: code 0, no sanitizer report."""
        self.assertIsNotNone(rc, f"{d.impl} on {d.host.name} did not exit on TERM")
        problem = testenv.exit_problem(f"{d.impl} on {d.host.name}", rc, d.output())
        if problem:
            self.fail(problem)

    def diagnostics(self) -> Optional[str]:
        return self.lab.diagnostics() if self.lab is not None else None


# ---------------------------------------------------------------------------
# Entry point for the test files
# ---------------------------------------------------------------------------


def main() -> None:
    """unittest.main(verbosity=2) with ctest-friendly exit codes
    (testenv.main): 1 on any failure or error, or under CI on a skip not on
    tests/lib/allowed_skips.txt; 77 (SKIP_RETURN_CODE) when nothing failed
    but something was skipped, else 0.  Checks that no namespace of this run
    is left."""

    def no_namespace_left() -> int:
        cleanup_all()
        left = [ns for ns in _list_netns() if ns.startswith(_RUN_PREFIX)]
        if left:
            print(f"netlab: namespaces left behind: {left}", file=sys.stderr)
            return 1
        return 0

    testenv.main(after=no_namespace_left)
