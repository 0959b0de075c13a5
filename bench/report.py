#!/usr/bin/env python3
"""Turns bench/run.sh's raw samples into the markdown results table.

Usage: report.py RAW.tsv ANOMALIES.txt "META LINE"

RAW.tsv columns: rep, scenario, impl, key, value (rep "strace" = strace runs).
For every (scenario, impl, key) the median over the repetitions is reported;
"±N%" is half the min-max spread relative to the median.  Ratios are the median
of the per-repetition ratios (proxyd / best peer of the same repetition).
"""
import statistics
import sys
from collections import defaultdict

PEERS = ["nginx", "haproxy"]
ORDER = ["direct", "nginx", "haproxy", "proxyd"]

# scenario, key, label, unit, higher_is_better, target ratio (proxyd / best peer)
THROUGHPUT = [
    ("rps", "req_per_s", "requests/s (keep-alive, 50 conns, small response)", "req/s", True, 1.10),
    ("cps", "req_per_s", "connections/s (Connection: close, 50 conns)", "conn/s", True, 1.10),
    ("bulk1m", "mib_per_s", "bulk 1 MiB responses (8 conns)", "MiB/s", True, 1.10),
    ("bulk64m", "mib_per_s", "bulk 64 MiB responses (2 conns)", "MiB/s", True, 1.10),
    ("sni_rps", "req_per_s", "TLS requests/s through ssl_preread + map (keep-alive)", "req/s", True, 1.10),
    ("sni_cps", "req_per_s", "TLS connections/s through ssl_preread + map (a ClientHello each)", "conn/s", True, 1.10),
    ("udp", "req_per_s", "UDP requests/s (DNS-like, a session per query; no HAProxy: Debian's has no UDP)", "req/s", True, 1.10),
    ("idle", "rss_kib_per_session", "memory per idle session (RSS delta)", "KiB", False, 0.50),
    ("idle", "pss_kib_per_session", "memory per idle session (PSS delta)", "KiB", False, 0.50),
]
CPU = [
    ("rps", "cpu_us_per_req", "proxy CPU per request (rps)", "µs/req"),
    ("cps", "cpu_us_per_req", "proxy CPU per connection (cps)", "µs/conn"),
    ("bulk1m", "cpu_us_per_mib", "proxy CPU per MiB (bulk 1 MiB)", "µs/MiB"),
    ("bulk64m", "cpu_us_per_mib", "proxy CPU per MiB (bulk 64 MiB)", "µs/MiB"),
    ("sni_rps", "cpu_us_per_req", "proxy CPU per TLS request (ssl_preread + map)", "µs/req"),
    ("sni_cps", "cpu_us_per_req", "proxy CPU per TLS connection (ssl_preread + map)", "µs/conn"),
    ("udp", "cpu_us_per_req", "proxy CPU per UDP query (a session each)", "µs/req"),
]
UTIL = [("rps", "rps"), ("cps", "cps"), ("bulk1m", "bulk 1 MiB"), ("bulk64m", "bulk 64 MiB"),
        ("sni_rps", "TLS rps"), ("sni_cps", "TLS cps"), ("udp", "UDP queries")]


def fmt(v):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def main() -> int:
    raw, anomalies_file, meta = sys.argv[1], sys.argv[2], sys.argv[3]
    samples = defaultdict(list)
    by_rep = {}
    reps_of = defaultdict(set)
    text = {}
    with open(raw) as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5:
                continue
            rep, sc, impl, key, value = parts
            if rep == "strace":
                text[(sc, impl, key)] = value
                continue
            try:
                v = float(value)
            except ValueError:
                continue
            samples[(sc, impl, key)].append(v)
            by_rep[(rep, sc, impl, key)] = v
            reps_of[(sc, key)].add(rep)
    impls = [i for i in ORDER if any(k[1] == i for k in samples)]
    proxies = [i for i in impls if i != "direct"]
    peers = [i for i in proxies if i in PEERS]

    def med(sc, impl, key):
        v = samples.get((sc, impl, key))
        return statistics.median(v) if v else None

    def cell(sc, impl, key):
        v = samples.get((sc, impl, key))
        if not v:
            return "–"
        m = statistics.median(v)
        s = fmt(m)
        if len(v) > 1 and m:
            s += f" ±{(max(v) - min(v)) / 2 / abs(m) * 100:.0f}%"
        return s

    def ratio(sc, key, higher):
        """Median over repetitions of proxyd / best peer *within the same repetition*.

        The implementations of one repetition run minutes apart at most, so pairing
        them cancels most of the slow drift of a shared machine."""
        per_rep = []
        for rep in sorted(reps_of[(sc, key)]):
            p = by_rep.get((rep, sc, "proxyd", key))
            vals = [by_rep.get((rep, sc, i, key)) for i in peers]
            vals = [v for v in vals if v is not None and v > 0]
            if p is None or not vals:
                continue
            per_rep.append(p / (max(vals) if higher else min(vals)))
        if not per_rep:
            return None, None
        return statistics.median(per_rep), per_rep

    out = []
    out.append("# proxyd benchmark results")
    out.append("")
    out.append(f"_{meta}_")
    out.append("")
    out.append("## Throughput and memory (ratio = proxyd / best of nginx and HAProxy)")
    out.append("")
    out.append("Values: median over repetitions (± half the min–max spread). Ratios: median of the "
               "per-repetition ratios, each against the better peer of that same repetition.")
    out.append("")
    hdr = "| scenario | unit | " + " | ".join(impls) + " | proxyd / best peer | target | met |"
    out.append(hdr)
    out.append("|" + "---|" * (hdr.count("|") - 1))
    for sc, key, label, unit, higher, target in THROUGHPUT:
        if not any((sc, i, key) in samples for i in impls):
            continue
        r, _ = ratio(sc, key, higher)
        cells = [cell(sc, i, key) if not (sc == "idle" and i == "direct") else "–" for i in impls]
        tgt = f"≥ {target:.2f}" if higher else f"≤ {target:.2f}"
        met = "–" if r is None else ("yes" if (r >= target if higher else r <= target) else "no")
        out.append(f"| {label} | {unit} | " + " | ".join(cells) + f" | {'–' if r is None else f'{r:.2f}'} | {tgt} | {met} |")
    out.append("")
    out.append("## Proxy CPU cost (utime+stime of the proxy processes ÷ work done; lower is better)")
    out.append("")
    hdr = ("| scenario | unit | " + " | ".join(proxies)
           + " | proxyd / best peer | CPU-normalised speed (best peer ÷ proxyd) | target | met |")
    out.append(hdr)
    out.append("|" + "---|" * (hdr.count("|") - 1))
    for sc, key, label, unit in CPU:
        if not any((sc, i, key) in samples for i in proxies):
            continue
        r, _ = ratio(sc, key, False)
        speed = None if not r else 1 / r
        met = "–" if speed is None else ("yes" if speed >= 1.10 else "no")
        out.append(f"| {label} | {unit} | " + " | ".join(cell(sc, i, key) for i in proxies)
                   + f" | {'–' if r is None else f'{r:.2f}'} | {'–' if speed is None else f'{speed:.2f}'}"
                   + f" | ≥ 1.10 | {met} |")
    for sc, label in UTIL:
        if any((sc, i, "cpu_pct") in samples for i in proxies):
            out.append(f"| proxy CPU busy during {label} | % of one core | "
                       + " | ".join(cell(sc, i, "cpu_pct") for i in proxies) + " | | | | |")
    out.append("")
    out.append("A proxy that is below ~95 % busy was not the bottleneck in that run (the load side was), "
               "so its throughput ratio understates the difference; the CPU-per-unit rows still compare.")
    out.append("")

    # Whole-core use: is the load side saturated, does something else run on the proxy's core?
    if any(k[2] == "load_cpu_pct" for k in samples):
        out.append("## Whole-core busy % during the runs (all processes and softirq; noise check)")
        out.append("")
        out.append("Load core = wrk + backend (CPU 0): ~100 % means the load side was the limit. "
                   "Proxy core (CPU 1) minus the proxy's own busy % = other work there "
                   "(softirq/ksoftirqd for loopback, other jobs on this shared machine).")
        out.append("")
        hdr = "| scenario | " + " | ".join(f"{i}: load / proxy core" for i in impls) + " |"
        out.append(hdr)
        out.append("|" + "---|" * (hdr.count("|") - 1))
        for sc, label in UTIL:
            row = []
            for i in impls:
                l, x = med(sc, i, "load_cpu_pct"), med(sc, i, "proxy_core_pct")
                row.append("–" if l is None else f"{l:.0f} / {x:.0f}")
            out.append(f"| {label} | " + " | ".join(row) + " |")
        out.append("")

    # Latency and errors.
    out.append("## Latency (wrk, median of runs) and errors")
    out.append("")
    hdr = "| scenario | " + " | ".join(f"{i} p50 / p99 µs" for i in impls) + " | wrk errors (all runs) |"
    out.append(hdr)
    out.append("|" + "---|" * (hdr.count("|") - 1))
    for sc, label in UTIL:
        if not any((sc, i, "p50_us") in samples for i in impls):
            continue
        lat = []
        for i in impls:
            p50, p99 = med(sc, i, "p50_us"), med(sc, i, "p99_us")
            lat.append("–" if p50 is None else f"{p50:.0f} / {p99:.0f}")
        errs = ", ".join(f"{i} {int(sum(samples.get((sc, i, 'errors'), [])))}" for i in impls)
        out.append(f"| {label} | " + " | ".join(lat) + f" | {errs} |")
    out.append("")

    # Idle details.
    if any(k[0] == "idle" for k in samples):
        out.append("## Idle sessions: process memory (KiB, median)")
        out.append("")
        out.append("| impl | sessions | RSS before | RSS with sessions | RSS after closing |")
        out.append("|---|---|---|---|---|")
        for i in proxies:
            if ("idle", i, "sessions") not in samples:
                continue
            out.append(f"| {i} | {fmt(med('idle', i, 'sessions'))} | {fmt(med('idle', i, 'rss_base_kib'))} | "
                       f"{fmt(med('idle', i, 'rss_idle_kib'))} | {fmt(med('idle', i, 'rss_closed_kib'))} |")
        out.append("")

    # strace.
    if any(k[2] == "syscalls_per_req" for k in text):
        out.append("## Syscalls per request (strace -c -f, separate 3 s runs)")
        out.append("")
        hdr = "| scenario | " + " | ".join(proxies) + " | proxyd / best peer |"
        out.append(hdr)
        out.append("|" + "---|" * (hdr.count("|") - 1))
        for sc, label in (("rps", "requests/s (keep-alive)"), ("cps", "connections/s (close)")):
            vals = {i: text.get((sc, i, "syscalls_per_req")) for i in proxies}
            pv = [float(vals[i]) for i in peers if vals.get(i)]
            r = (float(vals["proxyd"]) / min(pv)) if vals.get("proxyd") and pv else None
            out.append(f"| {label} | " + " | ".join(vals[i] or "–" for i in proxies)
                       + f" | {'–' if r is None else f'{r:.2f}'} |")
        out.append("")
        out.append("Most frequent syscalls per request:")
        out.append("")
        for sc in ("rps", "cps"):
            for i in proxies:
                t = text.get((sc, i, "top_syscalls"))
                if t:
                    out.append(f"- {sc} {i}: {t}")
        out.append("")

    with open(anomalies_file) as f:
        anomalies = [l.strip() for l in f if l.strip()]
    out.append("## Anomalies")
    out.append("")
    if anomalies:
        out.extend(f"- {a}" for a in anomalies)
    else:
        out.append("none (no proxy died, no wrk errors, every idle session established)")
    out.append("")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
