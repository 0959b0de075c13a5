#!/usr/bin/env python3
"""`make demo`: the seed's three-master setup (nginx stream + keepalived, here
proxyd + vrrpd) in network namespaces, with a live timeline and a guided
walk through failures.  See examples/demo/README.md.

    examples/demo/seed-demo.py [PROXYD [VRRPD]] [--keep] [--teardown]

Needs root (network namespaces).  Finishes by itself in about one minute
(at most five) with exit 0 (1 when a step did not behave as
explained); removes every namespace, veth and process it made, also on
Ctrl-C, unless --keep.
"""

import argparse
import collections
import os
import shutil
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))

import netlab  # noqa: E402  (installs the cleanup hooks: atexit, TERM/INT/HUP)
import seedlab  # noqa: E402

TICK = 0.5                 # one timeline line / redraw per TICK seconds
LOAD_SECONDS = 280         # the client stops by itself even if we hang
DEADLINE = 290             # the whole walk-through, lab included


# ---------------------------------------------------------------------------
# Output: plain lines (not a TTY) or a refreshing footer (TTY)
# ---------------------------------------------------------------------------


class Screen:
    def __init__(self, tty: bool):
        self.tty = tty
        self.footer_lines = 0
        self.lock = threading.Lock()

    def _erase_footer(self) -> None:
        if self.tty and self.footer_lines:
            sys.stdout.write(f"\x1b[{self.footer_lines}F\x1b[J")
            self.footer_lines = 0

    def say(self, text: str = "") -> None:
        """A line that stays (explanations, results)."""
        with self.lock:
            self._erase_footer()
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def footer(self, lines: list) -> None:
        """TTY: redraw the live block under the log; else: print one line."""
        with self.lock:
            if self.tty:
                self._erase_footer()
                sys.stdout.write("\n".join(lines) + "\n")
                self.footer_lines = len(lines)
            else:
                sys.stdout.write(lines[0] + "\n")
            sys.stdout.flush()

    def close(self) -> None:
        with self.lock:
            self._erase_footer()
            sys.stdout.flush()


# ---------------------------------------------------------------------------
# The demo
# ---------------------------------------------------------------------------


class Demo:
    def __init__(self, s: seedlab.SeedLab, screen: Screen):
        self.s = s
        self.scr = screen
        self.t_start = time.monotonic()
        self.load = None
        self.seen = 0                     # session records already counted
        self.ok = self.failed = 0
        self.tick_ok = self.tick_failed = 0
        self.tick_servers = collections.Counter()
        self.holder_log = []              # (t, holder) at every change, by the sampler
        self._stop = threading.Event()
        self._sampler = None
        self.results = []                 # (step, text, good)
        self.last_draw = 0.0

    # -- sampling ---------------------------------------------------------------
    def _sample_holders(self) -> None:
        last = object()
        while not self._stop.is_set():
            try:
                h = self.s.holder()
            except Exception:  # noqa: BLE001 - the lab is going away
                return
            if h != last:
                self.holder_log.append((time.monotonic(), h))
                last = h
            self._stop.wait(0.02)

    def start_sampling(self) -> None:
        self._sampler = threading.Thread(target=self._sample_holders, daemon=True)
        self._sampler.start()

    def stop(self) -> None:
        self._stop.set()
        if self._sampler:
            self._sampler.join(2)

    def holder_since(self, t: float, want: str) -> float:
        """Seconds from `t` until the sampler first saw `want` holding the VIP."""
        for tt, h in self.holder_log:
            if tt >= t and h == want:
                return tt - t
        return None

    def current_holder(self):
        return self.holder_log[-1][1] if self.holder_log else None

    def _count(self) -> None:
        if self.load is None:
            return
        self.load.poll()
        recs = [r for r in self.load.records if "ok" in r]
        for r in recs[self.seen:]:
            if r["ok"]:
                self.ok += 1
                self.tick_ok += 1
                self.tick_servers[r["server"]] += 1
            else:
                self.failed += 1
                self.tick_failed += 1
        self.seen = len(recs)

    def draw(self) -> None:
        self._count()
        s = self.s
        states = s.states()
        t = time.monotonic() - self.t_start
        holder = self.current_holder() or "-"
        by = " ".join(f"{n}:{c}" for n, c in sorted(self.tick_servers.items())) or "-"
        short = {"MASTER": "MASTER", "BACKUP": "BACKUP", "FAULT": "FAULT", "STOPPED": "stopped"}
        st = " ".join(f"{n[-1]}:{short.get(v, v)}" for n, v in states.items())
        if self.scr.tty:
            rows = ["  " + "-" * 76,
                    f"  {'node':<9}{'address':<13}{'vrrpd':<10}{'proxyd':<9}{'apiserver':<10}VIP",
                    ]
            for m in s.masters:
                rows.append(f"  {m.name:<9}{m.ip4:<13}{short.get(states[m.name], states[m.name]):<10}"
                            f"{'up' if s.proxyds[m.name].alive() else 'DOWN':<9}"
                            f"{'up' if s.apiservers[m.name].alive() else 'DOWN':<10}"
                            f"{'<- 192.0.2.100, 203.0.113.100' if holder == m.name else ''}")
            rows.append(f"  client 192.0.2.50-57 -> 192.0.2.100:10443, last {TICK} s: "
                        f"{self.tick_ok} ok, {self.tick_failed} failed, served by {by}")
            moves = [f"{tt - self.t_start:.1f}s {h or '-'}" for tt, h in self.holder_log[-5:]]
            rows.append(f"  VIP holder changes: {', '.join(moves)}")
            rows.append(f"  total: {self.ok} sessions ok, {self.failed} failed   "
                        f"(t = {t:.1f} s, Ctrl-C removes the lab)")
            width = max(40, shutil.get_terminal_size((120, 40)).columns - 1)
            self.scr.footer([r[:width] for r in rows])
        else:
            self.scr.footer([f"  {t:6.1f}s  VIP {holder:<8} vrrpd {st:<30} client +{self.tick_ok:<3}ok "
                             f"+{self.tick_failed:<3}failed by {by:<30} total {self.ok} ok "
                             f"{self.failed} failed"])
        self.tick_ok = self.tick_failed = 0
        self.tick_servers = collections.Counter()
        self.last_draw = time.monotonic()

    def watch(self, seconds: float, until=None) -> float:
        """Show the timeline for `seconds` (or until `until()` is true);
        returns the seconds waited."""
        t0 = time.monotonic()
        while True:
            now = time.monotonic()
            if now - t0 >= seconds or (until is not None and until()):
                return now - t0
            if now - self.t_start > DEADLINE:
                raise TimeoutError("the demo ran past its deadline")
            if now - self.last_draw >= TICK:
                self.draw()
            time.sleep(0.05)

    # -- steps ------------------------------------------------------------------
    def step(self, title: str, *explain: str) -> None:
        self.scr.say("")
        self.scr.say(f"== {title}")
        for e in explain:
            self.scr.say(f"   {e}")

    def result(self, step: str, text: str, good: bool) -> None:
        self.results.append((step, text, good))
        self.scr.say(f"   {'->' if good else '!! UNEXPECTED:'} {text}")

    def outage_text(self, t: float) -> str:
        o = self.load.outage(t)
        return (f"client served again after {seedlab.fmt_s(o['served_again'])}, "
                f"{o['failed']} of {o['sessions']} sessions failed"), o

    def others_by_priority(self, exclude: str) -> list:
        return sorted((n for n in seedlab.PRIORITIES if n != exclude),
                      key=lambda n: -seedlab.PRIORITIES[n])

    def run(self) -> bool:
        s = self.s
        self.load = s.start_load(LOAD_SECONDS)
        self.start_sampling()
        self.step("Steady state",
                  "Every node starts as BACKUP with nopreempt; master1 (priority 100) took the VIPs.",
                  "The client opens a TLS session to 192.0.2.100:10443 every 50 ms from 8 source",
                  "addresses; proxyd hashes each address onto one apiserver (consistent hash).")
        self.watch(4)

        # 1. vrrpd stopped on the master (the seed's `systemctl stop keepalived`).
        m = self.current_holder()
        nxt = self.others_by_priority(m)[0]
        skew = netlab.skew_time(seedlab.PRIORITIES[nxt])
        self.step(f"1. Stop vrrpd on the master ({m}), as the seed's `systemctl stop keepalived`",
                  f"On TERM vrrpd sends priority 0 and removes the VIPs; {nxt} (priority "
                  f"{seedlab.PRIORITIES[nxt]}) takes over after Skew_Time = (256-"
                  f"{seedlab.PRIORITIES[nxt]})/256 = {skew:.2f} s.")
        t = s.stop_vrrpd(m)
        self.watch(6, until=lambda: self.holder_since(t, nxt) is not None)
        self.watch(2.5)
        mv = self.holder_since(t, nxt)
        txt, _ = self.outage_text(t)
        self.result("stop vrrpd on the master",
                    f"VIP on {nxt} after {seedlab.fmt_s(mv)} (Skew_Time {skew:.2f} s); {txt}",
                    mv is not None and mv < skew + 1.0)

        # 2. vrrpd back: nopreempt.
        self.step(f"2. Start vrrpd on {m} again",
                  f"It comes back as BACKUP; with nopreempt it does not take the VIPs back from "
                  f"{nxt}, although its priority is higher (no second interruption).")
        t = s.start_vrrpd(m)
        self.watch(netlab.master_down_interval(seedlab.PRIORITIES[m]) + 1.0)
        st = s.states()[m]
        held = self.current_holder()
        self.result("vrrpd back (nopreempt)", f"{m} is {st}; the VIP stays on {held}",
                    st == "BACKUP" and held == nxt)

        # 3. proxyd killed on the master: check_proxyd.sh, weight 0 -> FAULT.
        m = self.current_holder()
        nxt = self.others_by_priority(m)[0]
        skew = netlab.skew_time(seedlab.PRIORITIES[nxt])
        self.step(f"3. kill -9 proxyd on the master ({m}) and keep it down",
                  "check_proxyd.sh (run every second as vrrpd_script) gets no HTTP 200 from "
                  ":10088; with weight 0",
                  f"a failing check puts {m} in FAULT: it sends priority 0 and drops the VIPs, "
                  f"and {nxt} takes over",
                  f"after Skew_Time {skew:.2f} s: at most check interval 1 s + {skew:.2f} s "
                  "(the seed's weight -2 could never move the VIP with nopreempt).")
        t = s.kill_proxyd(m)
        self.watch(8, until=lambda: self.holder_since(t, nxt) is not None)
        self.watch(2.5)
        mv = self.holder_since(t, nxt)
        st = s.states()[m]
        txt, _ = self.outage_text(t)
        self.result("kill proxyd on the master",
                    f"{m} is {st}; VIP on {nxt} after {seedlab.fmt_s(mv)} (bound {1 + skew:.2f} s); {txt}",
                    mv is not None and mv < 1 + skew + 1.0 and st == "FAULT")

        # 4. proxyd back.
        self.step(f"4. Start proxyd on {m} again (systemd's Restart=always would)",
                  f"The check passes again: {m} leaves FAULT as BACKUP; nopreempt keeps the VIPs "
                  f"on {nxt}.")
        t = s.restart_proxyd(m)
        bk = None
        t_end = time.monotonic() + 6
        while time.monotonic() < t_end:
            self.watch(0.25)
            if s.vrrpds[m].state() == "BACKUP":
                bk = time.monotonic() - t
                break
        self.watch(3)
        held = self.current_holder()
        self.result("proxyd back", f"{m} BACKUP after {seedlab.fmt_s(bk)}; the VIP stays on {held}",
                    bk is not None and held == nxt)

        # 5. one apiserver killed.
        vip_node = self.current_holder()
        recent = [r for r in self.load.sessions(since=time.monotonic() - 3) if r["ok"]]
        victim = collections.Counter(r["server"] for r in recent).most_common(1)[0][0]
        srcs = sorted({r["src"] for r in recent if r["server"] == victim})
        self.step(f"5. kill -9 the apiserver on {victim} (it serves client addresses {', '.join(srcs)})",
                  f"proxyd on {vip_node} gets a refused connect and retries the next server on the "
                  "ring: the client's data waits",
                  "in the kernel, so a dead apiserver costs a retry, never a session. After "
                  "max_fails=3 it is skipped for fail_timeout=30s.")
        before = len(s.proxyds[vip_node].log_lines())
        t = t_kill = s.kill_apiserver(victim)
        self.watch(5)
        ss = self.load.sessions(since=t)
        failed = [r for r in ss if not r["ok"]]
        served = collections.Counter(r["server"] for r in ss if r["ok"])
        retries = seedlab.retries_in(s.proxyds[vip_node].log_lines()[before:])
        self.result("kill an apiserver",
                    f"{len(failed)} of {len(ss)} sessions failed; served by {dict(served)}; "
                    f"{retries} retries in {vip_node}'s access log",
                    not failed and victim not in served)

        # 6. apiserver back.
        self.step(f"6. Start the apiserver on {victim} again",
                  "proxyd still skips it until fail_timeout (30 s) has passed, then lets one "
                  "probe through; the",
                  "success clears it and its clients (consistent hash) come back to it.")
        t = s.restart_apiserver(victim)
        self.watch(40, until=lambda: any(r["ok"] and r["server"] == victim
                                         for r in self.load.sessions(since=t)))
        back = [r for r in self.load.sessions(since=t) if r["ok"] and r["server"] == victim]
        back_t = back[0]["t1"] - t if back else None
        since_kill = back[0]["t1"] - t_kill if back else None
        failed = [r for r in self.load.sessions(since=t) if not r["ok"]]
        self.result("apiserver back",
                    f"{victim} serves again {seedlab.fmt_s(back_t)} after its restart, "
                    f"{seedlab.fmt_s(since_kill)} after the kill (fail_timeout 30 s); "
                    f"{len(failed)} sessions failed meanwhile",
                    back_t is not None and not failed)
        self.watch(1.5)
        self.stop()
        self.load.stop()
        self._count()
        return all(g for _, _, g in self.results)

    def summary(self) -> None:
        self.scr.say("")
        self.scr.say("== Summary")
        for step, text, good in self.results:
            self.scr.say(f"   {'ok ' if good else 'BAD'} {step:<28} {text}")
        self.scr.say(f"   client sessions: {self.ok} ok, {self.failed} failed "
                     f"(in {time.monotonic() - self.t_start:.0f} s)")


def print_keep_help(s: seedlab.SeedLab, argv0: str) -> None:
    ns = {n: s.ns(n) for n in ("master1", "master2", "master3", "client")}
    m1 = s.masters[0]
    conf = s.vrrpds["master1"].conf_path
    print(f"""
The lab is still running (--keep). Namespaces: {' '.join(ns.values())}
Files (configs, logs, certificate): {s.tmp}

  # who holds the VIPs
  for n in {' '.join(ns[m.name] for m in s.masters)}; do echo $n; ip -n $n -br addr show eth0; done
  # vrrpd's view on master1 (same for master2/3: {s.tmp}/masterN/vrrpd/vrrpd.ini)
  ip netns exec {ns['master1']} {s.vrrpd_bin} --status -f {conf}
  # a status page, as check_proxyd.sh sees it; and through the VIP from the client
  ip netns exec {ns['master1']} curl -s http://127.0.0.1:{seedlab.STATUS_PORT}/
  ip netns exec {ns['client']} curl -s http://{seedlab.VIP_ADDR}:{seedlab.STATUS_PORT}/
  # one TLS session to the apiservers through the VIP (says which one answered)
  ip netns exec {ns['client']} {sys.executable} {s.client_py} --host {seedlab.VIP_ADDR} --ca {s.cert} --src 192.0.2.53 --once
  # the seed's access log on master1
  tail {m1.tmp}/proxyd/10443_access.log
  # break something: processes per namespace
  ip netns pids {ns['master1']} | xargs ps -o pid,args -p

Tear it down (kills what runs there, removes the namespaces and {s.tmp}):
  {argv0} --teardown""")


def main() -> int:
    ap = argparse.ArgumentParser(
        description="The seed's three-master proxyd + vrrpd setup in network namespaces, "
                    "with a live timeline and a walk through failures.")
    ap.add_argument("proxyd", nargs="?", default=seedlab.proxyd_binary(),
                    help="proxyd binary (default $PROXYD_BIN, else build/bin/proxyd)")
    ap.add_argument("vrrpd", nargs="?", default=netlab.vrrpd_binary(),
                    help="vrrpd binary (default $VRRPD_BIN, else build/bin/vrrpd)")
    ap.add_argument("--keep", action="store_true",
                    help="leave the lab running afterwards and print how to use and remove it")
    ap.add_argument("--teardown", action="store_true",
                    help=f"remove every lab left by --keep (namespaces {seedlab.KEEP_PREFIX}*)")
    a = ap.parse_args()
    argv0 = sys.argv[0]

    if a.teardown:
        if os.geteuid() != 0:
            print("seed-demo: --teardown needs root", file=sys.stderr)
            return 2
        n = seedlab.teardown_kept()
        print(f"seed-demo: removed {n} namespace(s)")
        return 0

    # The lab's prerequisites are looked up where testenv looks (PROXYD_BIN...).
    os.environ["PROXYD_BIN"], os.environ["VRRPD_BIN"] = a.proxyd, a.vrrpd
    reason = seedlab.unavailable_reason()
    if reason:
        print(f"seed-demo: cannot run: {reason}", file=sys.stderr)
        return 2

    tty = sys.stdout.isatty() and os.environ.get("TERM", "") not in ("", "dumb")
    scr = Screen(tty)

    def on_signal(signum, frame):
        scr.close()
        print(f"\nseed-demo: interrupted (signal {signum}): removing the lab", flush=True)
        netlab._on_signal(signum, frame)      # cleans up, exits 128+signal

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    scr.say("proxyd + vrrpd in the seed's setup: three masters (192.0.2.11-13), each with a "
            "stand-in kube-apiserver (TLS :6443),")
    scr.say("proxyd (:10443, the seed's upstream block; status page :10088) and vrrpd (v2 PASS, "
            "BACKUP + nopreempt, priorities 100/80/60,")
    scr.say("advert_int 1, VIPs 192.0.2.100 + 203.0.113.100, check_proxyd.sh with weight 0); "
            "a client at 192.0.2.50.")
    scr.say("Building the lab (network namespaces; nothing touches this host's interfaces) ...")
    t0 = time.monotonic()
    s = seedlab.SeedLab(proxyd=a.proxyd, vrrpd=a.vrrpd, name="seeddemo", keep=a.keep)
    good = False
    demo = None
    try:
        t = s.start()
        scr.say(f"Lab up in {time.monotonic() - t0:.1f} s; master1 holds the VIPs {t:.2f} s after "
                f"vrrpd started (Master_Down_Interval(100) = 3 x 1 s + 0.61 s). Track scripts run "
                f"as {s.script_user or 'root'}.")
        if not tty:
            scr.say("Timeline, one line per 0.5 s: VIP holder, each node's vrrpd state (1/2/3 = "
                    "master1/2/3), client sessions in that 0.5 s and who served them, totals.")
        demo = Demo(s, scr)
        good = demo.run()
        demo.summary()
    except Exception as e:  # noqa: BLE001
        scr.close()
        print(f"seed-demo: failed: {type(e).__name__}: {e}", file=sys.stderr)
        try:
            print(s.diagnostics()[-6000:], file=sys.stderr)
        except Exception:  # noqa: BLE001
            pass
        good = False
    finally:
        if demo is not None:
            demo.stop()
        scr.close()
    if a.keep:
        s.detach()
        print_keep_help(s, argv0)
    else:
        s.close()
        netlab.cleanup_all()
        left = [ns for ns in netlab._list_netns() if ns.startswith(netlab.run_prefix())]
        if left:
            print(f"seed-demo: namespaces left behind: {left}", file=sys.stderr)
            return 1
        print(f"\nseed-demo: done in {time.monotonic() - t0:.0f} s; the lab is removed.")
    if not good:
        print("seed-demo: a step did not behave as explained (see !! UNEXPECTED above)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
