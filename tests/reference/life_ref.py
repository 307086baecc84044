#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""life_ref.py — independent reference for SPEC.md part C on small inputs (stdlib only).

Input: events as JSON lines {"t": ns, "src": "a.b.c.d", "sensor": i, "type": n, "cat": c}
("cat" defaults to 0 = Scan; a packet-class type that is backscatter — docs/dos.md:
tcp-synack, tcp-rst, icmp-unreach, icmp-timex, icmp/TYPE of a reply type — with cat 0 is
category 6, Backscatter).  Output (stdout): one JSON object with sorted keys:
  n_sources, buckets[4], sensors[4][5], one_sensor, cats[4][7], grid[7][21], eligible,
  cdf{days,minutes,seconds,events: [[x, n_le], ...]}, pop{...}, sources{addr: {first,
  last, events, groups: [[first, last, events, [sensors], [types]], ...]}}
It works from the single events, directly as SPEC C states it: sort a source's events by
time, split wherever the next event comes >= gap later, Dice with exact fractions.  The
C implementation works from per-hour aggregates in any order; both must agree exactly.

  life_ref.py [--gap-s S] EVENTS.jsonl
  life_ref.py --gen N --seed K > EVENTS.jsonl     (random sources plus boundary cases)
"""
import argparse
import json
import random
import sys
from fractions import Fraction

NS = 10**9
DAY = 86400 * NS
T0 = 1700000000 * NS
GRID_L = [Fraction(x, 10) for x in (0, 1, 3, 5, 7, 9, 10)]
GRID_E = [Fraction(5 * k, 100) for k in range(21)]


def bucket(p):
    if p < 60 * NS:
        return 0
    if p < DAY:
        return 1
    if p < 30 * DAY:
        return 2
    return 3


def dice(a, b):
    if not a and not b:
        return Fraction(1)
    return Fraction(2 * len(a & b), len(a) + len(b))


BS_ICMP = {0, 4, 5, 12, 14, 16, 18}     # icmp/TYPE replies (3 and 11 have classes)


def category(e):
    c, t = e.get("cat", 0), e["type"]
    if c == 0 and t & 0x80000000:
        cls, arg = (t >> 16) & 0x7fff, t & 0xffff
        # tcp-synack 2, tcp-rst 3, icmp-unreach 7, icmp-timex 8; icmp 9 with a reply type
        if cls in (2, 3, 7, 8) or (cls == 9 and arg in BS_ICMP):
            return 6
    return c


def analyse(events, gap_ns):
    by_src = {}
    for e in events:
        by_src.setdefault(e["src"], []).append(e)
    out = {"n_sources": len(by_src), "buckets": [0] * 4, "sensors": [[0] * 5 for _ in range(4)],
           "one_sensor": 0, "cats": [[0] * 7 for _ in range(4)], "sources": {},
           "grid": [[0] * 21 for _ in range(7)], "eligible": 0}
    periods, evcount = [], {}
    for src, evs in by_src.items():
        evs.sort(key=lambda e: e["t"])
        groups = []
        for e in evs:
            if not groups or e["t"] - groups[-1]["last"] >= gap_ns:
                groups.append({"first": e["t"], "last": e["t"], "events": 0,
                               "sensors": set(), "types": set()})
            g = groups[-1]
            g["last"] = e["t"]
            g["events"] += 1
            g["sensors"].add(e["sensor"])
            g["types"].add(e["type"])
        first, last = evs[0]["t"], evs[-1]["t"]
        p = last - first
        b = bucket(p)
        out["buckets"][b] += 1
        sensors = set(e["sensor"] for e in evs)
        out["sensors"][b][min(len(sensors), 5) - 1] += 1
        if len(sensors) == 1:
            out["one_sensor"] += 1
        for c in sorted(set(category(e) for e in evs)):
            out["cats"][b][c] += 1
        periods.append(p)
        evcount[src] = len(evs)
        out["sources"][src] = {
            "first": first, "last": last, "events": len(evs),
            "groups": [[g["first"], g["last"], g["events"], sorted(g["sensors"]),
                        sorted(g["types"])] for g in groups]}
        if p > DAY and len(groups) >= 2:
            out["eligible"] += 1
            pairs = list(zip(groups, groups[1:]))
            for i, tl in enumerate(GRID_L):
                for j, te in enumerate(GRID_E):
                    if all(dice(x["sensors"], y["sensors"]) >= tl and
                           dice(x["types"], y["types"]) >= te for x, y in pairs):
                        out["grid"][i][j] += 1
    # CDFs: n_le = sources with value <= x
    def cdf(vals, xs):
        return [[x, sum(1 for v in vals if v <= x * unit)] for x in xs]
    out["cdf"], out["pop"] = {}, {}
    unit = DAY
    mx = -(-max(periods) // DAY) if periods else 0
    out["cdf"]["days"] = cdf(periods, range(mx + 1))
    out["pop"]["days"] = len(periods)
    unit = 60 * NS
    short = [p for p in periods if p < DAY]
    out["cdf"]["minutes"] = cdf(short, range(1441))
    out["pop"]["minutes"] = len(short)
    unit = NS
    tiny = [p for p in periods if p < 60 * NS]
    out["cdf"]["seconds"] = cdf(tiny, range(61))
    out["pop"]["seconds"] = len(tiny)
    ev = sorted(evcount[s] for s in by_src if bucket(out["sources"][s]["last"] -
                                                   out["sources"][s]["first"]) == 0)
    out["cdf"]["events"] = [[v, sum(1 for w in ev if w <= v)] for v in sorted(set(ev))]
    out["pop"]["events"] = len(ev)
    return out


def gen(n, seed):
    rnd = random.Random(seed)
    evs = []

    def ev(src, t, sensor, typ, cat=0):
        evs.append({"t": t, "src": src, "sensor": sensor, "type": typ, "cat": cat})
    # boundary cases by construction
    ev("10.0.0.1", T0, 0, 1)                                  # period 0
    ev("10.0.0.2", T0, 0, 1); ev("10.0.0.2", T0 + 60 * NS - 1, 0, 1)  # just < 1 min
    ev("10.0.0.3", T0, 0, 1); ev("10.0.0.3", T0 + 60 * NS, 1, 1)      # exactly 60 s
    ev("10.0.0.4", T0, 0, 1); ev("10.0.0.4", T0 + DAY, 0, 2)          # exactly 24 h: 2 groups
    ev("10.0.0.5", T0, 0, 1); ev("10.0.0.5", T0 + DAY - 1, 0, 2)      # 24 h - 1 ns: 1 group
    for k in range(0, 31):                                             # exactly 30 d, daily
        ev("10.0.0.6", T0 + k * DAY, k % 3, 100 + k % 2)
    for k in range(0, 60):                                             # 30 d - 1 ns
        ev("10.0.0.7", T0 + k * 12 * 3600 * NS, 0, 5)
    ev("10.0.0.7", T0 + 30 * DAY - 1, 0, 5)
    for s in range(n):
        src = "192.0.%d.%d" % (s // 250, s % 250 + 1)
        t = T0 + rnd.randrange(0, 40 * DAY)
        kind = rnd.random()
        m = rnd.randrange(1, 12)
        for _ in range(m):
            if kind < 0.3:
                t += rnd.randrange(0, 30 * NS)
            elif kind < 0.6:
                t += rnd.randrange(0, 6 * 3600 * NS)
            else:
                t += rnd.choice([rnd.randrange(0, 3 * DAY), DAY, DAY - 1, 2 * DAY])
            ev(src, t, rnd.randrange(0, 6), rnd.randrange(0, 6), rnd.randrange(0, 6))
    rnd.shuffle(evs)
    for e in evs:
        print(json.dumps(e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events", nargs="?")
    ap.add_argument("--gap-s", type=int, default=86400)
    ap.add_argument("--gen", type=int)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.gen is not None:
        gen(a.gen, a.seed)
        return 0
    if not a.events:
        ap.error("EVENTS.jsonl required")
    with open(a.events) as f:
        events = [json.loads(line) for line in f if line.strip()]
    json.dump(analyse(events, a.gap_s * NS), sys.stdout, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
