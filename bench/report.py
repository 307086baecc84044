#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/report.py — the table of bench/run (stdlib only).

Reads what bench/run measured (environment variables and the files they name), prints
ONE table — each figure beside its target and its ratio to the I/O ceiling — and appends
the same table, with the date, commit and machine, to bench/results.md.  Nothing here is
measured or assumed: a figure that did not come out of this run is printed as "n/a".
"""
import json
import os
import sys

E = os.environ


def num(name, default=0.0):
    try:
        return float(E.get(name, default))
    except ValueError:
        return default


def bb():
    out = {}
    try:
        with open(E["BB_OUT"]) as f:
            for line in f:
                p = line.split()
                if len(p) == 3 and p[0] == "bb":
                    out[p[1]] = p[2]
    except OSError:
        pass
    return out


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def find(obj, key, prefer=()):
    """First numeric value of key, depth first, looking inside `prefer` keys first."""
    if isinstance(obj, dict):
        if key in obj and isinstance(obj[key], (int, float)):
            return obj[key]
        keys = [k for k in prefer if k in obj] + [k for k in obj if k not in prefer]
        for k in keys:
            v = find(obj[k], key, prefer)
            if v is not None:
                return v
    elif isinstance(obj, list):
        for v in obj:
            r = find(v, key, prefer)
            if r is not None:
                return r
    return None


def f(v, fmt):
    return "n/a" if v is None else fmt.format(v)


def main():
    m = bb()
    ghz = num("GHZ", 0) or None
    ncpu = int(num("NCPU", 1))
    target_cyc = ghz * 1e3 / 14.88 if ghz else None    # cycles a packet at 14.88 Mpps

    # I/O ceiling: rxdrop packets over trafgen's send window
    tg1_sec, rd_pkts = num("TG1_SEC"), num("RD_PKTS")
    ceil = rd_pkts / tg1_sec / 1e6 if tg1_sec > 0 and rd_pkts > 0 else None
    tg1_full = num("TG1_FULL") / max(num("TG1_SENT") + num("TG1_FULL"), 1)

    # full pipeline: obscura-dp's own count (drained by obscura-cp) over trafgen's window
    stats, status = load(E["STATS"]), load(E["STATUS"])
    dp_rx = find(stats, "rx_packets", ("totals", "total")) if stats else None
    lost = find(status, "lost_updates") if status else None
    if lost is None and stats:
        lost = find(stats, "lost_updates")
    n_src = find(status, "sources", ("store", "cp")) if status else None
    tg2_sec = num("TG2_SEC")
    dp = dp_rx / tg2_sec / 1e6 if dp_rx and tg2_sec > 0 else None
    # per worker CPU-second: the worker shares its CPU with obscura-cp here, so its rate
    # on the link understates what the core does; its own CPU time says what it cost
    cpu_wk, window = num("CPU_WK"), num("CPU_WINDOW")
    dp_core = dp * window / cpu_wk if dp and cpu_wk > 0 and window > 0 else None
    dp_cyc = ghz * 1e9 / (dp_core * 1e6) if dp_core and ghz else None
    tg2_full = num("TG2_FULL") / max(num("TG2_SENT") + num("TG2_FULL"), 1)

    def ratio(v):
        return f(v / ceil * 100 if v and ceil else None, "{:.0f} %")

    mb = lambda k: float(m[k]) if k in m and m[k] != "n/a" else None
    tot, mini = mb("total"), mb("minimal")
    micro_mpps = ghz * 1e3 / tot if tot and ghz else None
    mini_mpps = ghz * 1e3 / mini if mini and ghz else None

    rss_growth = (num("CP_RSS1") - num("CP_RSS0")) * 1024
    cp_mib_per_m = rss_growth / n_src * 1e6 / 2**20 if n_src and rss_growth > 0 else None
    xb = mb("mem.xchg_bytes_per_src")
    xchg_mib_per_m = xb * 1e6 / 2**20 if xb else None
    xb_max = mb("mem.xchg_bytes_per_src_at_max_load")

    rows = []   # (figure, target, measured, ratio to I/O ceiling)
    rows.append(("I/O ceiling: rxdrop on net_memif (Mpps)", "-",
                 f(ceil, "{:.2f}") + (" (trafgen-bound: {:.0f} % refused)".format(tg1_full * 100)
                                      if ceil else ""), f(100.0 if ceil else None, "{:.0f} %")))
    rows.append(("full pipeline, live: obscura-dp Mpps per worker core",
                 ">= 14.88 (stretch 20)", f(dp, "{:.2f}") + (
                     " (link {:.0f} % refused)".format(tg2_full * 100) if dp else ""), ratio(dp)))
    rows.append(("full pipeline, live: Mpps per worker CPU-second (its own CPU time)",
                 ">= 14.88 (stretch 20)", f(dp_core, "{:.2f}"), ratio(dp_core)))
    rows.append(("full pipeline, live: cycles/packet (worker CPU time x TSC / packets)",
                 f(target_cyc, "<= {:.0f}"), f(dp_cyc, "{:.0f}"), "-"))
    rows.append(("minimal pipeline, live (dp as built: parse, tel map, counters, src record)",
                 ">= 90 % of ceiling", f(dp, "{:.2f}"), ratio(dp)))
    rows.append(("lost_updates during the live run (cp draining)", "0",
                 f(lost, "{:.0f}"), "-"))
    rows.append(("micro: obs_worker_burst() cycles/packet (no I/O)", f(target_cyc, "<= {:.0f}"),
                 f(tot, "{:.1f}"), "-"))
    rows.append(("micro: Mpps per core at TSC rate", ">= 14.88 (stretch 20)",
                 f(micro_mpps, "{:.2f}"), ratio(micro_mpps)))
    for st in ("parse", "tel_map", "time_counters", "exclude_lpm", "scanner_lpm", "resip_lookup",
               "coverage", "src_record", "payload", "free"):
        v = m.get("stage." + st)
        rows.append(("micro stage: " + st + " (cycles/packet)", "-",
                     "n/a (not built yet)" if v in (None, "n/a") else v, "-"))
    rows.append(("micro: minimal pipeline (parse, tel map, counters, free) Mpps/core",
                 ">= 90 % of ceiling", f(mini_mpps, "{:.2f}") + (
                     " ({:.1f} cycles)".format(mini) if mini else ""), ratio(mini_mpps)))
    rows.append(("memory: cp store per M tracked sources (RSS growth, MiB)", "<= 32",
                 f(cp_mib_per_m, "{:.1f}") + (" ({:.0f} sources)".format(n_src) if n_src else ""),
                 "-"))
    rows.append(("memory: exchange per M sources/epoch/worker (2 slots, MiB)", "<= 32",
                 f(xchg_mib_per_m, "{:.1f}") + (
                     " ({:.0f} B/src at 75 % load)".format(xb_max) if xb_max else ""), "-"))
    rows.append(("memory: coverage cells per M", "-", "n/a (not built yet)", "-"))
    rows.append(("memory: RESIP table ({} rows)".format(E.get("RESIP_ROWS", "?")), "-",
                 "n/a (not built yet)", "-"))

    w = [max(len(r[i]) for r in rows + [("figure", "target", "measured", "vs ceiling")])
         for i in range(4)]
    line = lambda r: "| " + " | ".join(r[i].ljust(w[i]) for i in range(4)) + " |"
    table = [line(("figure", "target", "measured", "vs ceiling")),
             "|" + "|".join("-" * (w[i] + 2) for i in range(4)) + "|"]
    table += [line(r) for r in rows]

    head = "### {} · {} · {} · {} cores · TSC {} GHz · kernel {} · mode {}".format(
        E.get("DATE_UTC", "?"), E.get("COMMIT", "?"), E.get("CPU_MODEL", "?"), ncpu,
        f(ghz, "{:.3f}"), E.get("KERNEL", "?"), E.get("MODE", "?"))
    notes = ["- cycle targets: 14.88 Mpps at this TSC ({} GHz) = {} cycles/packet "
             "(175 at 2.6 GHz)".format(f(ghz, "{:.3f}"), f(target_cyc, "{:.0f}")),
             "- live runs: {} s of trafgen, {} sources, 64-byte frames over net_memif "
             "(copy mode, --no-huge)".format(E.get("DURATION"), E.get("SOURCES"))]
    if num("CPU_WINDOW") > 0:
        notes.append("- CPU use during the live pipeline run ({:.1f} s): trafgen {:.2f} s, "
                     "obscura-dp worker {:.2f} s, obscura-cp {:.2f} s".format(
                         num("CPU_WINDOW"), num("CPU_TG"), num("CPU_WK"), num("CPU_CP")))
    if ncpu < 4:
        notes.append("- OVERSUBSCRIBED: {} CPUs for trafgen (CPU 0), obscura-dp's main lcore "
                     "(CPU 0), its worker (CPU {}), and obscura-cp (anywhere): the live "
                     "figures are bounded by the generator and by sharing; the micro figures "
                     "are the honest per-core numbers".format(ncpu, ncpu - 1))
    text = "\n".join([head, ""] + table + [""] + notes) + "\n"
    print(text, end="")
    if E.get("RESULTS"):
        new = not os.path.exists(E["RESULTS"]) or os.path.getsize(E["RESULTS"]) == 0
        with open(E["RESULTS"], "a") as out:
            if new:
                out.write("# bench/results.md — every run of bench/run, appended by it "
                          "(never edited by hand)\n\n")
            out.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
