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


def kv_file(path, tag):
    """The "TAG KEY VALUE" lines of a tool's output."""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) == 3 and p[0] == tag:
                    out[p[1]] = p[2]
    except OSError:
        pass
    return out


def bb():
    return kv_file(E.get("BB_OUT", ""), "bb")


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


def envfile(path):
    d = {}
    try:
        with open(path) as fh:
            for line in fh:
                k, _, v = line.strip().partition("=")
                if k:
                    d[k] = v
    except OSError:
        pass
    return d


def fl(d, k):
    try:
        return float(d.get(k, ""))
    except ValueError:
        return None


def live(path, ghz):
    """The figures of one alternating pair of live runs (ceiling, pipeline)."""
    d, r = envfile(path), {}
    # what the link took in trafgen's measured window (after its warm-up): with the
    # receiver the bottleneck that is its steady-state rate, and the receiver gets
    # whatever the sender manages otherwise (1024 descriptors of slack either way)
    sec, pk = fl(d, "TG1_SEC"), fl(d, "TG1_SENT")
    r["ceil"] = pk / sec / 1e6 if sec and pk else None
    sent, full = fl(d, "TG1_SENT") or 0, fl(d, "TG1_FULL") or 0
    r["tg1_full"] = full / (sent + full) if sent + full > 0 else None
    r["rd_busy"] = fl(d, "RD_BUSY") or None
    stats, status = load(d.get("STATS", "")), load(d.get("STATUS", ""))
    dp_rx = find(stats, "rx_packets", ("totals", "total")) if stats else None
    r["lost"] = find(status, "lost_updates") if status else None
    if r["lost"] is None and stats:
        r["lost"] = find(stats, "lost_updates")
    r["n_src"] = find(status, "sources", ("store", "cp")) if status else None
    sec2, sent2 = fl(d, "TG2_SEC"), fl(d, "TG2_SENT")
    r["dp"] = sent2 / sec2 / 1e6 if sent2 and sec2 and dp_rx else None
    sent, full = fl(d, "TG2_SENT") or 0, fl(d, "TG2_FULL") or 0
    r["tg2_full"] = full / (sent + full) if sent + full > 0 else None
    # per worker CPU-second: the worker shares its CPU with obscura-cp here, so its rate
    # on the link understates what the core does; its own CPU time says what it cost
    for k in ("window", "tg", "wk", "cp"):
        r["cpu_" + k] = fl(d, "CPU_" + k.upper())
    w, c = r["cpu_window"], r["cpu_wk"]
    r["dp_core"] = r["dp"] * w / c if r["dp"] and w and c else None
    r["dp_cyc"] = ghz * 1e3 / r["dp_core"] if r["dp_core"] and ghz else None
    growth = ((fl(d, "CP_RSS1") or 0) - (fl(d, "CP_RSS0") or 0)) * 1024
    r["cp_mib_per_m"] = growth / r["n_src"] * 1e6 / 2**20 if r["n_src"] and growth > 0 else None
    # the parts of it the control plane can name (bytes, per million sources)
    parts = {"sources table": find(status, "sources_table_bytes") if status else None,
             "lifetime": find(load(d.get("MEM_LIFE", "")), "memory_bytes"),
             "resip": find(load(d.get("MEM_RESIP", "")), "memory_bytes"),
             "coverage cells": find(load(d.get("MEM_SCAN", "")), "bytes")}
    r["cp_parts"] = {k: v / r["n_src"] * 1e6 / 2**20 for k, v in parts.items()
                     if v is not None and r["n_src"]}
    return r


def covmem():
    """covstore_mem outputs: [(slots/cell, cells, |S|, computed MB/M, measured MB/M)]."""
    import re
    out = []
    pat = re.compile(r"cells (\d+) \(dense \d+\), (\d+) slots/cell, \|S\| (\d+): computed "
                     r"[\d.]+ bytes/cell \(([\d.]+) MB per million\), measured RSS [\d.]+ "
                     r"bytes/cell \(([\d.]+) MB per million\)")
    for path in E.get("COVMEM_FILES", "").split():
        try:
            with open(path) as fh:
                mt = pat.search(fh.read())
        except OSError:
            continue
        if mt:
            out.append((int(mt.group(2)), int(mt.group(1)), int(mt.group(3)),
                        float(mt.group(4)), float(mt.group(5))))
    return out


def f(v, fmt):
    return "n/a" if v is None else fmt.format(v)


def resp_rows(ghz, rd_busy, ceil):
    """The responder's rows: per pair, (on - off) cycles a packet x packets / SYN-ACKs
    sent = cycles an answered SYN adds to the receive path; medians over the pairs."""
    offs = [kv_file(p, "bb") for p in E.get("BB_RESP_OFF", "").split() if p]
    ons = [kv_file(p, "bb") for p in E.get("BB_RESP_ON", "").split() if p]
    per_syn, on_tot, share, capped = [], [], [], 0
    for a, b in zip(offs, ons):
        try:
            t0, t1 = float(a["total"]), float(b["total"])
            sa, rx = float(b["resp.synacks"]), float(b["resp.rx_packets"])
        except (KeyError, ValueError):
            continue
        if sa <= 0 or rx <= 0:
            continue
        per_syn.append((t1 - t0) * rx / sa)
        on_tot.append(t1)
        share.append(sa / rx)
        capped += int(float(b.get("resp.capped", 0)) + float(b.get("resp.tx_refused", 0)))
    md = lambda v: sorted(v)[len(v) // 2] if v else None
    c, t, sh = md(per_syn), md(on_tot), md(share)
    mpps = ghz * 1e3 / t if t and ghz else None
    core = ghz * 1e3 / (rd_busy + t) if ghz and rd_busy and t else None
    note = " ({} pairs{}; {:.0f} % of packets answered{})".format(
        len(per_syn), ", spread {:.0f}-{:.0f}".format(min(per_syn), max(per_syn))
        if len(per_syn) > 1 else "", sh * 100 if sh else 0,
        ", {} replies capped/refused".format(capped) if capped else "") if per_syn else ""
    return [
        ("responder: SYN -> SYN-ACK cycles per answered SYN on top of receive (burst_bench, net_null TX)",
         "<= 100", f(c, "{:.1f}") + note, "-"),
        ("responder: obs_worker_burst() with it, cycles/packet -> Mpps per core (no I/O)",
         ">= 14.88", f(t, "{:.1f}") + (" -> " + f(mpps, "{:.2f}") if mpps else ""), "-"),
        ("responder: rxdrop busy + burst with it, Mpps per core (beside the ceiling/core)",
         "-", f(core, "{:.2f}"), "-"),
    ]


def main():
    m = bb()
    ghz = num("GHZ", 0) or None
    ncpu = int(num("NCPU", 1))
    target_cyc = ghz * 1e3 / 14.88 if ghz else None    # cycles a packet at 14.88 Mpps

    reps = [live(p, ghz) for p in E.get("LIVE_FILES", "").split() if p]

    def med(key):
        v = sorted(r[key] for r in reps if r.get(key) is not None)
        return v[len(v) // 2] if v else None

    def spread(key, fmt):
        v = sorted(r[key] for r in reps if r.get(key) is not None)
        if len(v) < 2:
            return ""
        return " [" + fmt.format(v[0]) + "-" + fmt.format(v[-1]) + "]"

    def refused(key):
        v = med(key)
        if v is None:
            return ""
        who = "receiver-bound" if v > 0.10 else "sender-bound"
        return " ({}: {:.0f} % refused)".format(who, v * 100)

    ceil, dp, dp_core, dp_cyc = med("ceil"), med("dp"), med("dp_core"), med("dp_cyc")
    rd_busy = med("rd_busy")
    lost = max((r["lost"] for r in reps if r.get("lost") is not None), default=None)
    n_src, cp_mib_per_m = med("n_src"), med("cp_mib_per_m")

    def ratio(v):
        return f(v / ceil * 100 if v and ceil else None, "{:.0f} %")

    mb = lambda k: float(m[k]) if k in m and m[k] != "n/a" else None
    tot, mini = mb("total"), mb("minimal")
    micro_mpps = ghz * 1e3 / tot if tot and ghz else None
    # per core: receive-and-drop costs rd_busy cycles a packet (its busy polls); the
    # minimal pipeline costs that plus the minimal stages; both at this TSC
    ceil_core = ghz * 1e3 / rd_busy if rd_busy and ghz else None
    mini_core = ghz * 1e3 / (rd_busy + mini) if rd_busy and mini and ghz else None

    xb = mb("mem.xchg_bytes_per_src")
    xchg_mib_per_m = xb * 1e6 / 2**20 if xb else None
    xb_max = mb("mem.xchg_bytes_per_src_at_max_load")

    rows = []   # (figure, target, measured, ratio to I/O ceiling)
    rows.append(("I/O ceiling: rxdrop on net_memif (Mpps)", "-",
                 f(ceil, "{:.2f}") + spread("ceil", "{:.1f}") + refused("tg1_full"),
                 f(100.0 if ceil else None, "{:.0f} %")))
    rows.append(("full pipeline, live: obscura-dp Mpps per worker core",
                 ">= 14.88 (stretch 20)", f(dp, "{:.2f}") + spread("dp", "{:.1f}") +
                 refused("tg2_full"), ratio(dp)))
    rows.append(("full pipeline, live: Mpps per worker CPU-second (its own CPU time)",
                 ">= 14.88 (stretch 20)", f(dp_core, "{:.2f}") + spread("dp_core", "{:.1f}"),
                 ratio(dp_core)))
    rows.append(("full pipeline, live: cycles/packet (worker CPU time x TSC / packets)",
                 f(target_cyc, "<= {:.0f}"), f(dp_cyc, "{:.0f}") + spread("dp_cyc", "{:.0f}"), "-"))
    rows.append(("lost_updates during the live run (cp draining)", "0",
                 f(lost, "{:.0f}"), "-"))
    ml = kv_file(E.get("MEMLAT_OUT", ""), "ml")
    rows.append(("machine: a random 64 B line in 1 GiB, dependent / overlapped (ns)", "-",
                 "{} / {} ({} pages, {} at a time)".format(
                     ml.get("latency_ns", "n/a"), ml.get("throughput_ns", "n/a"),
                     ml.get("pages", "?"), ml.get("throughput_k", "?")) if ml else "n/a", "-"))
    rows.append(("machine: random lines a packet can afford at 14.88 Mpps (overlapped, nothing else)",
                 "-", ml.get("lines_per_packet_at_14.88", "n/a"), "-"))
    rows.append(("micro: obs_worker_burst() cycles/packet (no I/O)", f(target_cyc, "<= {:.0f}"),
                 f(tot, "{:.1f}"), "-"))
    rows.append(("micro: Mpps per core at TSC rate (no I/O)", ">= 14.88 (stretch 20)",
                 f(micro_mpps, "{:.2f}"), "-"))
    hot = kv_file(E.get("BB_HOT_OUT", ""), "bb")
    hot_tot = float(hot["total"]) if hot.get("total") not in (None, "n/a") else None
    rep = hot.get("repeat_64k_share")
    uni = m.get("repeat_64k_share")
    rows.append(("micro, realistic repeats (heavy hitters): obs_worker_burst() cycles/packet",
                 f(target_cyc, "<= {:.0f}"), f(hot_tot, "{:.1f}") + (
                     " ({:.0f} % of packets repeat a source of the last 64 k; uniform row: {:.0f} %)"
                     .format(float(rep) * 100, float(uni) * 100) if rep and uni else ""), "-"))
    for st in ("parse", "tel_map", "time_counters", "exclude_lpm", "scanner_lpm", "fingerprint",
               "resip_lookup",
               "src_record", "coverage", "resip_port", "events", "free"):
        v = m.get("stage." + st)
        rows.append(("micro stage: " + st + " (cycles/packet)", "-",
                     "n/a (not built yet)" if v in (None, "n/a") else v, "-"))
    # payload: timed apart on payload packets (the 64-byte mix has none), not in the sum
    v = m.get("stage.payload")
    kinds = [k for k in ("http_sqli", "sip_options", "random256") if "payload." + k in m]
    rows.append(("micro stage: payload (cycles per payload packet, shipped rules; not in the sum)",
                 "-", "n/a (no rules file)" if v in (None, "n/a") else
                 v + " (" + ", ".join("{} {}".format(k, m["payload." + k]) for k in kinds) + ")",
                 "-"))
    rows.append(("micro: sum of the stages (cycles/packet, 64-byte mix, payload excluded)", "-",
                 m.get("stage_sum", "n/a"), "-"))
    # responder (issue 13): burst_bench with and without it, interleaved pairs (bench/run)
    rows.extend(resp_rows(ghz, rd_busy, ceil))
    rows.append(("I/O ceiling per core: rxdrop busy cycles/packet -> Mpps", "-",
                 f(ceil_core, "{:.2f}") + (" ({:.1f} cycles)".format(rd_busy) if rd_busy else "") +
                 spread("rd_busy", "{:.0f}"),
                 "-"))
    rows.append(("minimal pipeline per core: rxdrop busy + micro (parse, tel, counters) Mpps",
                 ">= 90 % of ceiling/core", f(mini_core, "{:.2f}") + (
                     " ({:.1f} + {:.1f} cycles)".format(rd_busy, mini) if rd_busy and mini else ""),
                 f(mini_core / ceil_core * 100 if mini_core and ceil_core else None,
                   "{:.0f} % of /core")))
    rows.append(("memory: cp store per M tracked sources (RSS growth, MiB)", "<= 32",
                 f(cp_mib_per_m, "{:.1f}") + (" ({:.0f} sources)".format(n_src) if n_src else ""),
                 "-"))
    parts = next((r["cp_parts"] for r in reversed(reps) if r.get("cp_parts")), {})
    if parts:
        named = sum(parts.values())
        rows.append(("memory: cp per M sources, by part (MiB; the rest: copy buffers, heap)",
                     "-", ", ".join("{} {:.1f}".format(k, v) for k, v in parts.items()) +
                     (", rest {:.1f}".format(cp_mib_per_m - named) if cp_mib_per_m else ""), "-"))
    rows.append(("memory: exchange per M sources/epoch/worker (2 slots, MiB)", "<= 32",
                 f(xchg_mib_per_m, "{:.1f}") + (
                     " ({:.0f} B/src at 75 % load)".format(xb_max) if xb_max else ""), "-"))
    cm = {c[0]: c for c in covmem()}
    for per in (1, 8):
        c = cm.get(per)
        rows.append(("memory: coverage cells per M, cp store, {} slot{}/cell, sample 4096 (MB)".format(
            per, "" if per == 1 else "s"), "-",
            "n/a" if c is None else "{:.1f} computed, {:.1f} measured RSS ({} cells, sample {})".format(
                c[3], c[4], c[1], c[2]), "-"))
    rb = mb("mem.resip_load_bytes")
    rows.append(("memory: RESIP table ({} rows), loaded rows (MiB)".format(E.get("RESIP_ROWS", "?")),
                 "-", f(rb / 2**20 if rb else None, "{:.1f}") +
                 ("; the dataplane's bucket table {:.1f}".format(mb("mem.resip_tab_bytes") / 2**20)
                  if rb and mb("mem.resip_tab_bytes") else "" if rb else " (not built yet)"), "-"))

    # the scanner table's build: "scanner_load N prefixes S s" lines, two sizes
    sl = []
    try:
        for line in open(E.get("SCANLOAD_OUT", "")):
            w = line.split()
            if len(w) == 5 and w[0] == "scanner_load":
                sl.append((int(w[1]), float(w[3])))
    except (OSError, ValueError):
        pass
    growth = None
    if len(sl) >= 2 and sl[0][1] > 0:
        growth = (sl[-1][1] / sl[0][1]) / (sl[-1][0] / sl[0][0])
    rows.append(("tables: scanner table build (s, random prefixes, 90 % /32)",
                 "linear (time ratio / size ratio ~ 1); 300 k <= 10 s",
                 ", ".join("{} k: {:.2f}".format(n // 1000, t) for n, t in sl) or "n/a",
                 f(growth, "growth {:.2f} x linear")))

    # export: the ClickHouse sender's rate and the storage it costs (bench/export_bench.py);
    # targets from docs/export.md's /8 arithmetic: the mean insert rate of a /8 with 1 s
    # epochs (~10 k rows/s) and 24 B a row on disk (x e = 10 rows a source-hour)
    ex = envfile(E.get("EXPORT_ENV", ""))
    why = ex.get("EXP_WHY")
    ers, ebsh, ebr = fl(ex, "EXP_ROWS_S"), fl(ex, "EXP_B_PER_SH"), fl(ex, "EXP_B_PER_ROW")
    rows.append(("export: rows/s sent, spool -> ClickHouse (one appliance's sender)",
                 ">= 10 000 (a /8's mean, 1 s epochs)",
                 f(ers, "{:.0f}") + (" ({} rows timed in {} s, all tables; {} B of TSV a row)".format(
                     ex.get("EXP_TIMED_ROWS", "?"), ex.get("EXP_SEC", "?"),
                     ex.get("EXP_SPOOL_B_ROW", "?")) if ers else " ({})".format(why or "no figure")),
                 f(ers / 10000 if ers else None, "{:.0f} x target")))
    rows.append(("export: ClickHouse bytes on disk per million source-hours (MB)",
                 "<= 240 (24 B/row x 10 rows a source-hour)",
                 f(ebsh, "{:.1f}") + (" ({:.1f} B per obscura_sources row; {} rows, {} source-hours)".format(
                     ebr, ex.get("EXP_SRC_ROWS", "?"), ex.get("EXP_SRC_HOURS", "?"))
                     if ebsh and ebr else " ({})".format(why or "no figure")),
                 f(ebsh / 240 * 100 if ebsh else None, "{:.0f} % of target")))

    # replay: the appliance end to end and a bare libpcap loop on one generated file
    rp = envfile(E.get("REPLAY_ENV", ""))
    loop, frames, e2e_s = fl(rp, "LOOP_MPPS"), fl(rp, "E2E_FRAMES"), fl(rp, "E2E_SEC")
    e2e = frames / e2e_s / 1e6 if frames and e2e_s else None
    n_rp = find(load(rp.get("STATS", "")), "sources") if rp.get("STATS") else None
    rows.append(("replay: end to end, generated mix (Mpps)",
                 ">= 5 (stretch 50 % of the loop)",
                 f(e2e, "{:.2f}") + (" ({:.0f} frames, {} sources, {:.1f} s; 1 worker; the "
                                     "worker waited {} s for the cp)".format(
                                         frames, f(n_rp, "{:.0f}"), e2e_s,
                                         rp.get("WK_WAIT_S", "?")) if e2e else ""),
                 f(e2e / loop * 100 if e2e and loop else None, "{:.0f} % of the loop")))
    # the same replay with a selective capture of ~1 % of the frames (capture.h)
    cf, cs = fl(rp, "CAP_FRAMES"), fl(rp, "CAP_SEC")
    cap = cf / cs / 1e6 if cf and cs else None
    cm = fl(rp, "CAP_MATCHED")
    rows.append(("replay: end to end with a capture of ~1 % running (Mpps)",
                 "within 5 % of the run without",
                 f(cap, "{:.2f}") + (" ('{}': {:.0f} matched = {:.2f} %, {} written, {} dropped; "
                                     "dp CPU {} s vs {} s)".format(
                                         rp.get("CAP_FILTER", "?"), cm, cm / cf * 100,
                                         rp.get("CAP_WRITTEN", "?"), rp.get("CAP_DROPPED", "?"),
                                         rp.get("CAP_DP_CPU", "?"), rp.get("DP_CPU", "?"))
                                     if cap and cm is not None else ""),
                 f(cap / e2e * 100 if cap and e2e else None, "{:.0f} % of the run without")))
    # no capture running: the real burst (pointer read, NULL) vs a build without the check
    co = kv_file(E.get("CAPOFF_OUT", ""), "capoff")
    pairs = []
    for k in co:
        if k.startswith("burst_bench."):
            b = co.get("burst_bench_nocap." + k.split(".", 1)[1])
            try:
                pairs.append((float(co[k]), float(b)))
            except (TypeError, ValueError):
                pass
    if pairs:
        rs = sorted(a / b for a, b in pairs)
        ca = sorted(a for a, _ in pairs)[len(pairs) // 2]
        cb = sorted(b for _, b in pairs)[len(pairs) // 2]
        txt = ("{:.1f} vs {:.1f} cycles/pkt (medians of {} interleaved pairs; pair ratio "
               "median {:.3f}, {:.3f}-{:.3f})".format(ca, cb, len(pairs), rs[len(rs) // 2],
                                                     rs[0], rs[-1]))
        rat = "{:.3f}".format(rs[len(rs) // 2])
    else:
        txt, rat = "n/a", "n/a"
    try:
        ia, ib = float(co["ir.burst_bench"]), float(co["ir.burst_bench_nocap"])
        fa = float(co["ir_frames.burst_bench"])
        txt += "; instructions/frame {:.2f} vs {:.2f} ({:+.2f} a frame, {:+.1f} a 32-frame "\
               "burst, {:+.3f} %)".format(ia / fa, ib / fa, (ia - ib) / fa, (ia - ib) / fa * 32,
                                          (ia - ib) / ib * 100)
    except (KeyError, ValueError, ZeroDivisionError):
        txt += "; instructions n/a (no valgrind)"
    rows.append(("no capture: burst with the capture check (NULL) vs built without it",
                 "no capture: within noise of none", txt, rat + " (with/without)"))
    rows.append(("replay: libpcap read loop (Mpps)", "-",
                 f(loop, "{:.2f}") + (" (pcap_next_ex + a count per source, median of 3, {} "
                                      "sources)".format(rp.get("LOOP_SOURCES", "?"))
                                      if loop else ""),
                 f(100.0 if loop else None, "{:.0f} %")))
    st_s = fl(rp, "STARTUP_S")
    rows.append(("replay: start-up, exec to the first frame (s)", "well under 0.45",
                 f(st_s, "{:.3f}") + (" (ms: {})".format(rp["STARTUP_PARTS"])
                                      if st_s is not None and rp.get("STARTUP_PARTS") else ""),
                 "-"))
    # a day of a /8 telescope, ~50 G packets: CPU-hours at what this run cost per packet
    # (the dataplane's CPU during the replay plus the control plane's), and at the loop's
    cpu = (fl(rp, "DP_CPU") or 0) + (fl(rp, "CP_CPU") or 0)
    day = 50e9
    rows.append(("replay: a /8 telescope's day (50 G packets), per core (core-hours)", "-",
                 "end to end {} ({:.2f} M packets per CPU-second: dp {} + cp {} CPU-s), "
                 "libpcap loop {}, wall at the end-to-end rate here {}".format(
                     f(day / (frames / cpu) / 3600 if frames and cpu else None, "{:.1f}"),
                     frames / cpu / 1e6 if frames and cpu else 0, rp.get("DP_CPU", "?"),
                     rp.get("CP_CPU", "?"),
                     f(day / (loop * 1e6) / 3600 if loop else None, "{:.2f}"),
                     f(day / (e2e * 1e6) / 3600 if e2e else None, "{:.1f} h")), "-"))

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
             "(copy mode, --no-huge)".format(E.get("DURATION"), E.get("SOURCES")),
             "- micro (burst_bench): " + E.get("BB_PAGES", "4 KiB pages (--no-huge)")]
    if m.get("stages.total", "n/a") != "n/a":
        notes.append("- micro stages (burst_bench_stages): the real obs_worker_burst() run with its "
                     "first 0, 1, ... 11 stages on, medians over 1024-packet chunks of each variant "
                     "(interleaved); a stage = what it adds to the variant before it, so the stages "
                     "sum to that build's full burst ({} cycles/packet); parse includes the burst "
                     "with no stage on ({})".format(m.get("stages.total", "?"),
                                                    m.get("stages.no_stage", "?")))
    if m.get("stage.payload", "n/a") != "n/a":
        notes.append("- payload stage: what obs_rules_scan() with the worker's scratch and match "
                     "callback (one event record per matched rule, instead of the packet-class "
                     "event) adds to a payload packet's burst, conf/rules/obscura.rules ({} rules), "
                     "medians over 1024-packet chunks of {} payload packets in turn: HTTP GET with "
                     "SQLi (tcp/80, {} B frame, {} matches), SIP OPTIONS friendly-scanner "
                     "(udp/5060, {} B, {} matches), 256 random bytes (udp/40000, {} B, {} matches); "
                     "the 64-byte mix has {} payload packets, so the stage is not in its sum".format(
                         m.get("rules.accepted", "?"), m.get("payload.packets", "?"),
                         m.get("payload.http_sqli.frame_bytes", "?"),
                         m.get("payload.http_sqli.matches_per_pkt", "?"),
                         m.get("payload.sip_options.frame_bytes", "?"),
                         m.get("payload.sip_options.matches_per_pkt", "?"),
                         m.get("payload.random256.frame_bytes", "?"),
                         m.get("payload.random256.matches_per_pkt", "?"),
                         m.get("payload_in_mix", "?")))
    if rp:
        notes.append("- replay: obscura-gen default mix, {} packets, seed 17, cached beside the "
                     "build; bench/pcap_loop (pcap_next_ex, source IPv4 counted in an open-"
                     "addressing table) and obscura-dp --replay (1 worker, scanner table, "
                     "exclusion list, shipped rules, the bench RESIP table plus the generator's "
                     "RESIP rows, shipped exchange capacities) with obscura-cp draining, in the "
                     "same run after a warm-up read; end to end = first frame read to the last "
                     "epoch drained (dp log); CPU: the dataplane's getrusage over the replay, the "
                     "control plane's /proc time".format(E.get("REPLAY_PKTS", "?")))
    notes.append("- memory: coverage cells: control-plane coverage store (bench/covstore_mem, "
                 "tests/unit/covstore_mem.c), MB = 10^6 bytes per million distinct cells; "
                 "computed = table + slot sets (cov_store_bytes), measured = RSS growth")
    for i, r in enumerate(reps):
        if r.get("cpu_window"):
            notes.append("- run {}: CPU use during the live pipeline ({:.1f} s): trafgen {:.2f} s, "
                         "obscura-dp worker {:.2f} s, obscura-cp {:.2f} s".format(
                             i + 1, r["cpu_window"], r["cpu_tg"], r["cpu_wk"], r["cpu_cp"]))
    if len(reps) > 1:
        notes.append("- live figures: median of {} alternating runs, [min-max]".format(len(reps)))
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
