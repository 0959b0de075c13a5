"""The seed's three-master topology in the namespace lab (tests/lib/netlab.py).

seed/nginx-keepalived-ha.txt, with proxyd in place of nginx stream and vrrpd
in place of keepalived:

    master1 192.0.2.11   apiserver :6443 (TLS)  proxyd :10443 + status :10088
    master2 192.0.2.12   vrrpd: v2, PASS, state BACKUP, nopreempt, VRID 51,
    master3 192.0.2.13          priorities 100/80/60, advert_int 1,
                                VIPs 192.0.2.100/24 + 203.0.113.100/24,
                                [vrrp_script check_proxyd] weight 0
    client  192.0.2.50   (+ .51-.57 as extra source addresses) a bounded
                         load loop of TLS sessions to VIP:10443

The stand-in kube-apiserver is a small Python TLS server (a self-signed
certificate made once per lab with openssl) that answers the first line a
client sends with "apiserver masterN\\n", so the client knows who served it.

proxyd's configuration is the seed's stream block (README "The seed's nginx
stream.conf as proxyd.ini"): all three apiservers, `hash = $remote_addr
consistent`, max_fails=3 fail_timeout=30s, proxy_connect_timeout 1s, the
seed's log_format and access log.  vrrpd runs checks/check_proxyd.sh every
second as `vrrpd_script` (created with `useradd --system` when missing and
`create_script_user` is set; otherwise as root).

Everything lives in one netlab.Lab, so every namespace, veth and process is
removed on every exit path (netlab's atexit hook and signal handlers); with
`keep=True` (the demo's --keep) the processes are started without the
parent-death signal and the lab is left running under the prefix
KEEP_PREFIX, which `teardown_kept()` removes.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import glob
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import netlab  # noqa: E402
import testenv  # noqa: E402

REPO = netlab.REPO
CHECK_SCRIPT = os.path.join(REPO, "checks", "check_proxyd.sh")

VIP = "192.0.2.100/24"
VIP_PUB = "203.0.113.100/24"
VIP_ADDR = "192.0.2.100"
SEED_VIPS = [VIP, VIP_PUB]
API_PORT = 6443
PROXY_PORT = 10443
STATUS_PORT = 10088
PRIORITIES = {"master1": 100, "master2": 80, "master3": 60}
CLIENT_INDEX = 50
CLIENT_EXTRA_SOURCES = 7           # 192.0.2.51 .. .57
SCRIPT_USER = "vrrpd_script"
KEEP_PREFIX = "vlabdemo-"           # namespaces of a kept demo (not reaped by other labs)
KEEP_TMP_GLOB = "/tmp/netlab-seeddemo-keep-*"

# The seed's stream log_format, on INI continuation lines (inih: <200 chars a line).
LOG_FORMAT = (
    "format = [$time_local] $protocol status:$status, bytes client:$bytes_sent/$bytes_received"
    " $session_time,\n"
    "    client: $remote_addr, upstream:\"$upstream_addr\",\n"
    "    bytes upstream:$upstream_bytes_sent $upstream_bytes_received $upstream_connect_time\n")

# ---------------------------------------------------------------------------
# Programs run inside the namespaces (written to the lab's temp dir)
# ---------------------------------------------------------------------------

APISERVER_PY = r'''
"""Stand-in kube-apiserver: TLS on :6443, answers the first line of each
session with "apiserver NAME\n" and closes."""
import socket, ssl, sys, threading
name, addr, port, cert, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(256)
print(f"apiserver {name} listening on {addr}:{port}", flush=True)
def serve(c):
    try:
        c.settimeout(5)
        with ctx.wrap_socket(c, server_side=True) as t:
            buf = b""
            while b"\n" not in buf and len(buf) < 4096:
                d = t.recv(4096)
                if not d:
                    return
                buf += d
            t.sendall(f"apiserver {name}\n".encode())
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            c.close()
        except OSError:
            pass
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'''

CLIENT_PY = r'''
"""Bounded load: opens a TLS session to HOST:PORT every INTERVAL s (each with
a TIMEOUT s limit, sources rotating over SRC...), sends "GET /version\n",
reads the answer line; one JSON line per session to OUT.  Stops by itself
after DURATION s or COUNT sessions, or when STOPFILE exists.
With --once: one session, printed, exit 0 on success."""
import argparse, json, os, socket, ssl, sys, threading, time
ap = argparse.ArgumentParser()
ap.add_argument("--host", required=True)
ap.add_argument("--port", type=int, default=10443)
ap.add_argument("--ca", required=True)
ap.add_argument("--src", action="append", default=[])
ap.add_argument("--interval", type=float, default=0.05)
ap.add_argument("--timeout", type=float, default=1.0)
ap.add_argument("--duration", type=float, default=60.0)
ap.add_argument("--count", type=int, default=100000)
ap.add_argument("--max-inflight", type=int, default=40)
ap.add_argument("--out")
ap.add_argument("--stopfile")
ap.add_argument("--once", action="store_true")
a = ap.parse_args()
ctx = ssl.create_default_context(cafile=a.ca)
ctx.check_hostname = False
def session(seq, src):
    t0 = time.monotonic()
    rec = {"seq": seq, "src": src, "t0": t0}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(a.timeout)
        if src:
            s.bind((src, 0))
        s.connect((a.host, a.port))
        left = a.timeout - (time.monotonic() - t0)
        if left <= 0:
            raise socket.timeout("timed out")
        s.settimeout(left)
        with ctx.wrap_socket(s, server_hostname="apiserver") as t:
            t.sendall(b"GET /version\n")
            buf = b""
            while b"\n" not in buf:
                left = a.timeout - (time.monotonic() - t0)
                if left <= 0:
                    raise socket.timeout("timed out")
                t.settimeout(left)
                d = t.recv(4096)
                if not d:
                    break
                buf += d
        line = buf.decode(errors="replace").strip()
        if line.startswith("apiserver "):
            rec.update(ok=True, server=line.split()[1])
        else:
            rec.update(ok=False, err=f"bad answer {line!r}")
    except Exception as e:  # noqa: BLE001
        rec.update(ok=False, err=f"{type(e).__name__}: {e}"[:120])
    finally:
        try:
            s.close()
        except OSError:
            pass
    rec["t1"] = time.monotonic()
    return rec
srcs = a.src or [""]
if a.once:
    r = session(0, srcs[0])
    print(("served by " + r["server"]) if r["ok"] else ("FAILED: " + r["err"]))
    sys.exit(0 if r["ok"] else 1)
out = open(a.out, "a", buffering=1)
lock = threading.Lock()
inflight = threading.BoundedSemaphore(a.max_inflight)
def run(seq, src):
    try:
        r = session(seq, src)
        with lock:
            out.write(json.dumps(r) + "\n")
    finally:
        inflight.release()
start = time.monotonic()
with lock:
    out.write(json.dumps({"kind": "start", "t": start}) + "\n")
seq = 0
while seq < a.count and time.monotonic() - start < a.duration:
    if a.stopfile and os.path.exists(a.stopfile):
        break
    if inflight.acquire(blocking=False):
        threading.Thread(target=run, args=(seq, srcs[seq % len(srcs)]), daemon=True).start()
    else:
        with lock:
            out.write(json.dumps({"kind": "skipped", "seq": seq, "t": time.monotonic()}) + "\n")
    seq += 1
    nxt = start + seq * a.interval
    time.sleep(max(0.0, nxt - time.monotonic()))
deadline = time.monotonic() + a.timeout + 1
for th in threading.enumerate():
    if th is not threading.current_thread():
        th.join(max(0.0, deadline - time.monotonic()))
with lock:
    out.write(json.dumps({"kind": "end", "t": time.monotonic(), "sessions": seq}) + "\n")
'''


# ---------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------


def proxyd_binary() -> str:
    return testenv.built_binary("proxyd")


def unavailable_reason() -> Optional[str]:
    r = netlab.unavailable_reason("vrrpd") or testenv.unavailable(
        built=["proxyd"], installed=["openssl", "curl"])
    if r:
        return r
    if not os.access(CHECK_SCRIPT, os.X_OK):
        return f"{CHECK_SCRIPT} missing"
    return None


def require() -> None:
    """Skip when the seed lab cannot run here (under CI the runner makes the
    skip a failure unless tests/lib/allowed_skips.txt lists it)."""
    testenv.require(unavailable_reason())


def ensure_script_user() -> bool:
    """Create the `vrrpd_script` system user when missing (DESIGN.md: users
    the tests need are created by the test set-up; it may stay).  True when
    it exists afterwards."""
    try:
        pwd.getpwnam(SCRIPT_USER)
        return True
    except KeyError:
        pass
    useradd = testenv.system_binary("useradd")
    p = subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        SCRIPT_USER], capture_output=True, text=True, timeout=20)
    try:
        pwd.getpwnam(SCRIPT_USER)
        return True
    except KeyError:
        print(f"seedlab: useradd {SCRIPT_USER} failed ({p.returncode}): {p.stderr.strip()}; "
              "track scripts run as root", file=sys.stderr)
        return False


# ---------------------------------------------------------------------------
# The daemons
# ---------------------------------------------------------------------------


class SeedVrrpd(netlab.Daemon):
    """vrrpd with the seed's instance plus `[vrrp_script check_proxyd]`
    (checks/check_proxyd.sh, interval 1, timeout 1, weight 0)."""

    def __init__(self, lab, host, cfg, fall: int = 1, rise: int = 1):
        self.fall, self.rise = fall, rise
        super().__init__(lab, "vrrpd", host, cfg, start=False)

    def extra_ini(self) -> str:
        return netlab.vrrp_script_ini(
            "check_proxyd", f"{CHECK_SCRIPT} --url http://127.0.0.1:{STATUS_PORT}/ --timeout 0.8",
            interval=1, timeout=1, fall=self.fall, rise=self.rise, weight=0)

    def state(self) -> str:
        """VI_1's state from `vrrpd --status` ("?" when not running)."""
        if not self.alive():
            return "STOPPED"
        out = self.status().stdout
        for line in out.splitlines():
            if line.startswith("VI_1"):
                parts = line.split()
                return parts[4] if len(parts) > 4 else "?"
        return "?"


class Proxyd:
    """proxyd on one master: the seed's stream block as proxyd.ini."""

    def __init__(self, slab: "SeedLab", host: netlab.Host, binary: str):
        self.slab, self.host, self.binary = slab, host, binary
        self.dir = os.path.join(host.tmp, "proxyd")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)  # the pid file's directory: not group/other-writable
        self.conf_path = os.path.join(self.dir, "proxyd.ini")
        self.access_log = os.path.join(self.dir, "10443_access.log")
        self.error_log = os.path.join(self.dir, "10443_error.log")
        self.proc: Optional[netlab.NsProcess] = None
        self.starts = 0
        self.write_config()

    def write_config(self) -> None:
        servers = "".join(f"server = {m.ip4}:{API_PORT} max_fails=3 fail_timeout=30s\n"
                          for m in self.slab.masters)
        text = ("; the seed's nginx stream block as proxyd.ini (generated by tests/lib/seedlab.py)\n"
                "[main]\n"
                "worker_processes = 1\n"
                f"error_log = {os.path.join(self.dir, 'error.log')} notice\n"
                f"pid = {os.path.join(self.dir, 'proxyd.pid')}\n\n"
                "[status]\n"
                f"listen = {STATUS_PORT}\n\n"
                "[log_format proxy]\n" + LOG_FORMAT + "\n"
                "[upstream k8sapiserver]\n"
                "hash = $remote_addr consistent\n" + servers + "\n"
                "[server k8s]\n"
                f"listen = {PROXY_PORT}\n"
                "proxy_pass = k8sapiserver\n"
                "proxy_connect_timeout = 1s\n"
                f"access_log = {self.access_log} proxy\n"
                f"error_log = {self.error_log}\n")
        with open(self.conf_path, "w") as f:
            f.write(text)

    def start(self) -> "Proxyd":
        if self.alive():
            raise RuntimeError(f"proxyd on {self.host.name} already running")
        self.starts += 1
        self.proc = self.slab.lab.spawn(self.host, [self.binary, "-c", self.conf_path],
                                        name="proxyd")
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None:
            self.proc.kill(sig)

    def status_ok(self) -> bool:
        """HTTP 200 from the node's own status page (as check_proxyd.sh sees it)."""
        p = self.slab.lab.exec(self.host.ns, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                              "--max-time", "1", "--noproxy", "*",
                                              f"http://127.0.0.1:{STATUS_PORT}/"],
                               check=False, timeout=5)
        return p.stdout.strip() == "200"

    def log_lines(self) -> list:
        try:
            with open(self.access_log, errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def output(self) -> str:
        return self.proc.output() if self.proc else ""


_UPSTREAM_RE = re.compile(r'upstream:"([^"]*)"')


def retries_in(lines: list) -> int:
    """Tries beyond the first, summed over access-log lines (nginx lists every
    try in $upstream_addr: "A, B" is one retry)."""
    n = 0
    for ln in lines:
        m = _UPSTREAM_RE.search(ln)
        if m and "," in m.group(1):
            n += m.group(1).count(",")
    return n


class Apiserver:
    def __init__(self, slab: "SeedLab", host: netlab.Host):
        self.slab, self.host = slab, host
        self.proc: Optional[netlab.NsProcess] = None

    def start(self) -> "Apiserver":
        if self.alive():
            raise RuntimeError(f"apiserver on {self.host.name} already running")
        s = self.slab
        argv = [sys.executable, "-u", s.apiserver_py, self.host.name, self.host.ip4, API_PORT,
                s.cert, s.key]
        self.proc = s.lab.spawn(self.host, [str(a) for a in argv], name="apiserver")
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill(signal.SIGKILL)

    def accepts(self) -> bool:
        code = ("import socket,sys\ns=socket.socket();s.settimeout(1)\n"
                "try:\n    s.connect((sys.argv[1], int(sys.argv[2])))\nexcept OSError:\n    sys.exit(1)\n")
        p = self.slab.lab.exec(self.host.ns, [sys.executable, "-c", code, self.host.ip4, API_PORT],
                               check=False, timeout=10)
        return p.returncode == 0


class Load:
    """The client's bounded load loop (CLIENT_PY) and its results."""

    def __init__(self, slab: "SeedLab", duration: float, interval: float = 0.05,
                 timeout: float = 1.0, sources: Optional[list] = None):
        self.slab = slab
        n = len(glob.glob(os.path.join(slab.client.tmp, "load-*.jsonl")))
        self.path = os.path.join(slab.client.tmp, f"load-{n}.jsonl")
        self.stopfile = os.path.join(slab.client.tmp, f"load-{n}.stop")
        argv = [sys.executable, "-u", slab.client_py, "--host", VIP_ADDR, "--port", PROXY_PORT,
                "--ca", slab.cert, "--interval", interval, "--timeout", timeout,
                "--duration", duration, "--count", int(duration / interval) + 1,
                "--out", self.path, "--stopfile", self.stopfile]
        for s in (sources if sources is not None else slab.client_sources):
            argv += ["--src", s]
        self.proc = slab.lab.spawn(slab.client, [str(a) for a in argv], name=f"load-{n}")
        self._pos = 0
        self._buf = ""
        self.records: list = []
        ok = testenv.wait_for(
            lambda: self.poll() or any(r.get("kind") == "start" for r in self.records), 10, 0.02)
        if ok is None:
            raise RuntimeError(f"the client load did not start:\n{self.proc.output()}")

    def poll(self) -> list:
        """Read new records; returns the new session records."""
        new = []
        try:
            with open(self.path) as f:
                f.seek(self._pos)
                data = f.read()
                self._pos = f.tell()
        except FileNotFoundError:
            return new
        self._buf += data
        lines = self._buf.split("\n")
        self._buf = lines.pop()
        for ln in lines:
            if not ln.strip():
                continue
            r = json.loads(ln)
            self.records.append(r)
            if "ok" in r:
                new.append(r)
        return new

    def sessions(self, since: Optional[float] = None, until: Optional[float] = None) -> list:
        """Session records (started at or after `since`, before `until`), by start time."""
        self.poll()
        out = [r for r in self.records if "ok" in r
               and (since is None or r["t0"] >= since) and (until is None or r["t0"] < until)]
        return sorted(out, key=lambda r: r["t0"])

    def skipped(self) -> int:
        return sum(1 for r in self.records if r.get("kind") == "skipped")

    def done(self) -> bool:
        self.poll()
        return any(r.get("kind") == "end" for r in self.records)

    def stop(self, wait: float = 3.0) -> None:
        open(self.stopfile, "w").close()
        self.proc.wait(wait)
        if self.proc.alive():
            self.proc.kill(signal.SIGTERM, 2)
        self.poll()

    # -- measurements ----------------------------------------------------------
    def outage(self, since: float, settle: float = 0.0) -> dict:
        """After an event at `since`: the failed sessions started after it,
        and the time from `since` until the client is served again: the end
        of the first successful session after the last failure (or, with no
        failure, of the first success).  `served_again` is None when the
        client has not been served since."""
        ss = self.sessions(since)
        failed = [r for r in ss if not r["ok"]]
        last_fail_t0 = max((r["t0"] for r in failed), default=None)
        ok_after = [r for r in ss if r["ok"] and (last_fail_t0 is None or r["t0"] > last_fail_t0)]
        served = min((r["t1"] for r in ok_after), default=None)
        return {"sessions": len(ss), "failed": len(failed),
                "served_again": None if served is None else served - since,
                "last_failure": None if last_fail_t0 is None else last_fail_t0 - since,
                "errors": sorted({r.get("err", "")[:60] for r in failed})}


# ---------------------------------------------------------------------------
# The seed lab
# ---------------------------------------------------------------------------


def _detach_children() -> None:
    """--keep: children must outlive this process (no PR_SET_PDEATHSIG)."""
    netlab.PDEATHSIG = None


class SeedLab:
    """Three masters (apiserver, proxyd, vrrpd each) and a client.

        with SeedLab() as s:
            s.start()                  # waits for master1 to hold the VIP
            load = s.start_load(30)
            s.kill_proxyd("master1") ...
    """

    def __init__(self, proxyd: Optional[str] = None, vrrpd: Optional[str] = None,
                 name: str = "seed", keep: bool = False, fall: int = 1, rise: int = 1,
                 create_script_user: bool = True):
        self.proxyd_bin = os.path.abspath(proxyd or proxyd_binary())
        self.vrrpd_bin = os.path.abspath(vrrpd or netlab.vrrpd_binary())
        os.environ["VRRPD_BIN"] = self.vrrpd_bin      # netlab.Daemon reads it
        self.keep = keep
        self.script_user = SCRIPT_USER if (create_script_user and ensure_script_user()) else None
        if keep:
            _detach_children()
            # Not reaped by other labs' reap_dead_runs() (no PID in the name);
            # removed by teardown_kept().
            netlab._RUN_PREFIX = f"{KEEP_PREFIX}{secrets.token_hex(2)}-"
            name = "seeddemo-keep"
        self.lab = netlab.Lab(name=name)
        try:
            lab = self.lab
            self.masters = [lab.add_node(n) for n in ("master1", "master2", "master3")]
            self.client = lab._new_host("client", "a", CLIENT_INDEX)
            self.client_sources = [self.client.ip4]
            cmds = []
            for i in range(1, CLIENT_EXTRA_SOURCES + 1):
                a = f"192.0.2.{CLIENT_INDEX + i}"
                cmds.append(f"addr add {a}/24 dev eth0")
                self.client_sources.append(a)
            lab.ip_batch(self.client.ns, cmds)
            self.tmp = lab.tmp
            self._make_cert()
            self.apiserver_py = os.path.join(self.tmp, "apiserver.py")
            self.client_py = os.path.join(self.tmp, "client.py")
            for path, text in ((self.apiserver_py, APISERVER_PY), (self.client_py, CLIENT_PY)):
                with open(path, "w") as f:
                    f.write(text)
            self.apiservers = {m.name: Apiserver(self, m) for m in self.masters}
            self.proxyds = {m.name: Proxyd(self, m, self.proxyd_bin) for m in self.masters}
            self.vrrpds = {}
            for m in self.masters:
                g = [("script_user", self.script_user)] if self.script_user else []
                cfg = netlab.seed_config(m, PRIORITIES[m.name], vips=SEED_VIPS,
                                         extra=[("track_script", "check_proxyd")])
                cfg.global_extra = g
                d = SeedVrrpd(lab, m, cfg, fall=fall, rise=rise)
                lab.daemons.append(d)
                self.vrrpds[m.name] = d
            self.loads: list = []
        except BaseException:
            self.close()
            raise

    def _make_cert(self) -> None:
        self.cert = os.path.join(self.tmp, "apiserver.crt")
        self.key = os.path.join(self.tmp, "apiserver.key")
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-subj", "/CN=apiserver", "-keyout", self.key, "-out", self.cert],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"openssl req failed: {p.stderr}")
        os.chmod(self.key, 0o600)

    # -- bring-up -----------------------------------------------------------------
    def start(self, vip_timeout: float = 15.0) -> float:
        """Start every apiserver and proxyd, wait until each status page
        answers, then every vrrpd; wait until master1 holds the VIPs (the
        first to leave BACKUP: shortest Skew_Time).  Returns the seconds
        from starting vrrpd to master1 holding them."""
        for a in self.apiservers.values():
            a.start()
        for p in self.proxyds.values():
            p.start()
        for name, p in self.proxyds.items():
            if testenv.wait_for(p.status_ok, 10, 0.05) is None:
                raise RuntimeError(f"proxyd on {name} does not answer its status page:\n{p.output()}")
        for name, a in self.apiservers.items():
            if testenv.wait_for(a.accepts, 10, 0.05) is None:
                raise RuntimeError(f"apiserver on {name} does not listen:\n{a.proc.output()}")
        t0 = time.monotonic()
        for d in self.vrrpds.values():
            d.start()
        t = testenv.wait_for(lambda: self.holders() == ["master1"], vip_timeout, 0.05, since=t0)
        if t is None:
            raise RuntimeError(f"master1 did not take the VIPs: holders {self.holders()}\n"
                               f"{self.lab.diagnostics()}")
        return t

    def start_load(self, duration: float, **kw) -> Load:
        load = Load(self, duration, **kw)
        self.loads.append(load)
        return load

    # -- observation --------------------------------------------------------------
    def holders(self, vip: str = VIP) -> list:
        return self.lab.vip_holders(vip, self.masters)

    def holder(self) -> Optional[str]:
        h = self.holders()
        return h[0] if len(h) == 1 else (None if not h else "+".join(h))

    def states(self) -> dict:
        """Every node's VI_1 state from `vrrpd --status`, queried in parallel."""
        with concurrent.futures.ThreadPoolExecutor(len(self.vrrpds)) as ex:
            futs = {n: ex.submit(d.state) for n, d in self.vrrpds.items()}
            return {n: f.result() for n, f in futs.items()}

    def wait_holder(self, name: str, timeout: float, since: Optional[float] = None,
                    interval: float = 0.02) -> Optional[float]:
        """Seconds (from `since`) until `name` alone holds both VIPs."""
        return testenv.wait_for(lambda: self.holders() == [name] and
                                self.holders(VIP_PUB) == [name], timeout, interval, since=since)

    def wait_state(self, name: str, state: str, timeout: float,
                   since: Optional[float] = None) -> Optional[float]:
        return testenv.wait_for(lambda: self.vrrpds[name].state() == state, timeout, 0.05,
                                since=since)

    def access_lines(self) -> dict:
        return {n: p.log_lines() for n, p in self.proxyds.items()}

    # -- actions (each returns the time.monotonic() of the action) ---------------
    @staticmethod
    def _at(action) -> float:
        t = time.monotonic()
        action()
        return t

    def kill_proxyd(self, name: str) -> float:
        return self._at(lambda: self.proxyds[name].kill(signal.SIGKILL))

    def restart_proxyd(self, name: str) -> float:
        return self._at(self.proxyds[name].start)

    def stop_vrrpd(self, name: str) -> float:
        """TERM: the master sends priority 0 and removes its VIPs, then exits."""
        return self._at(lambda: self.vrrpds[name].term(5.0))

    def start_vrrpd(self, name: str) -> float:
        return self._at(self.vrrpds[name].start)

    def kill_apiserver(self, name: str) -> float:
        return self._at(self.apiservers[name].kill)

    def restart_apiserver(self, name: str) -> float:
        return self._at(self.apiservers[name].start)

    def check_alive(self) -> None:
        """AssertionError when a daemon that should run has exited."""
        self.lab.check_daemons()

    def diagnostics(self) -> str:
        out = [self.lab.diagnostics()]
        for n, p in self.proxyds.items():
            out.append(f"--- proxyd on {n}: {p.output()[-1500:]}")
            out.append(f"--- access log on {n}, last 5: " + "\n".join(p.log_lines()[-5:]))
        return "\n".join(out)

    # -- --keep ------------------------------------------------------------------
    def detach(self) -> None:
        """Leave the lab running when this process exits: forget every
        process, namespace and temp dir so netlab's exit hook leaves them."""
        if not self.keep:
            raise RuntimeError("detach() needs SeedLab(keep=True): children would die with us")
        for ld in self.loads:
            try:
                ld.stop()
            except Exception:  # noqa: BLE001
                pass
        netlab._procs.clear()
        netlab._namespaces.clear()
        netlab._tmpdirs.clear()
        self.lab._closed = True
        try:
            atexit.unregister(netlab.cleanup_all)
        except Exception:  # noqa: BLE001
            pass

    def ns(self, name: str) -> str:
        return self.lab.hosts[name].ns

    # -- teardown ------------------------------------------------------------------
    def close(self) -> None:
        for ld in getattr(self, "loads", []):
            try:
                ld.proc.kill(signal.SIGKILL)
            except Exception:  # noqa: BLE001
                pass
        for group in ("proxyds", "apiservers"):
            for x in getattr(self, group, {}).values():
                try:
                    x.kill()
                except Exception:  # noqa: BLE001
                    pass
        self.lab.close()

    def __enter__(self) -> "SeedLab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def teardown_kept(verbose: bool = True) -> int:
    """Remove every kept demo lab: kill what runs in namespaces named
    KEEP_PREFIX*, delete them, remove their temp dirs.  Returns how many
    namespaces were removed."""
    n = 0
    for ns in netlab._list_netns():
        if ns.startswith(KEEP_PREFIX):
            netlab._delete_ns(ns)
            n += 1
            if verbose:
                print(f"removed namespace {ns}")
    for d in glob.glob(KEEP_TMP_GLOB):
        shutil.rmtree(d, ignore_errors=True)
        if verbose:
            print(f"removed {d}")
    return n


def fmt_s(t: Optional[float]) -> str:
    return "never" if t is None else f"{t:.3f} s"
