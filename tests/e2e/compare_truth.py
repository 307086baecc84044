#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
compare_truth.py STATS.json SOURCES.json TRUTH.json

Compare what the appliance reports (`obscuractl --json stats`, `obscuractl --json sources
top N`) with obscura-gen's ground truth, exactly: totals, every protocol, every drop
reason, time_backwards, no lost updates, and every source's packets, first/last time and
sensors, in the same order (packets descending, then address ascending).
stdlib only; run with /usr/bin/python3.  Exit 0 on a match, 1 listing the differences.
"""
import ipaddress
import json
import sys


def main():
    with open(sys.argv[1]) as f:
        stats = json.load(f)
    with open(sys.argv[2]) as f:
        sources = json.load(f)
    with open(sys.argv[3]) as f:
        truth = json.load(f)
    errs = []
    tt = truth["totals"]
    tot = stats.get("total", stats)   # cp: stats.total holds the counters

    def want(name, got, exp):
        if got != exp:
            errs.append("%s: appliance %r, truth %r" % (name, got, exp))

    for k in ("rx_packets", "rx_bytes", "tel_packets", "tel_bytes", "time_backwards"):
        want("stats." + k, tot.get(k), tt[k])
    protos = tot.get("protocols", tot.get("proto"))
    if not isinstance(protos, dict):
        errs.append("stats: no protocols object")
    else:
        for k, v in tt["proto"].items():
            want("stats.protocols." + k, protos.get(k), v)
    drops = tot.get("drops")
    if not isinstance(drops, dict):
        errs.append("stats: no drops object")
    else:
        for k, v in tt["drops"].items():
            want("stats.drops." + k, drops.get(k), v)
        extra = set(drops) - set(tt["drops"])
        if extra:
            errs.append("stats.drops: reasons the truth does not know: %s" % sorted(extra))
        if "dropped" in tot:
            want("stats.dropped", tot["dropped"], sum(tt["drops"].values()))
    if "lost_updates" in tot:
        want("stats.lost_updates", tot["lost_updates"], 0)
    if "sources" in stats:
        want("stats.sources", stats["sources"], truth["sources_total"])

    if not isinstance(sources, list):
        errs.append("sources: not a list")
        sources = []
    exp = truth["sources"]
    if len(exp) != truth["sources_total"]:
        errs.append("truth was capped (--truth-sources-max): cannot compare every source")
    want("number of sources", len(sources), len(exp))
    by_addr = {}
    for i, s in enumerate(sources):
        a = s.get("addr", s.get("src"))
        if a in by_addr:
            errs.append("source %s listed twice" % a)
        by_addr[a] = (i, s)
    n_bad = 0
    for i, e in enumerate(exp):
        got = by_addr.get(e["addr"])
        if got is None:
            errs.append("source %s (%s, %d packets) missing" % (e["addr"], e["kind"], e["packets"]))
            n_bad += 1
            continue
        j, s = got
        for k in ("packets", "first_ns", "last_ns", "sensors"):
            if s.get(k) != e[k]:
                errs.append("source %s (%s) %s: appliance %r, truth %r" % (e["addr"], e["kind"], k, s.get(k), e[k]))
                n_bad += 1
        if j != i:
            errs.append("source %s at position %d, truth %d" % (e["addr"], j, i))
    known = {e["addr"] for e in exp}
    for a in by_addr:
        if a not in known:
            errs.append("source %s reported, not in the truth" % a)
    # the order the cp promises: packets descending, ties by address ascending
    for i in range(1, len(sources)):
        p, q = sources[i - 1], sources[i]
        kp = (-p["packets"], int(ipaddress.ip_address(p.get("addr", p.get("src")))))
        kq = (-q["packets"], int(ipaddress.ip_address(q.get("addr", q.get("src")))))
        if kp > kq:
            errs.append("sources out of order at %d: %s before %s" % (i, p.get("addr"), q.get("addr")))
            break

    for e in errs[:60]:
        print("compare_truth: " + e)
    if len(errs) > 60:
        print("compare_truth: ... %d more" % (len(errs) - 60))
    if errs:
        print("compare_truth: %d differences" % len(errs))
        return 1
    print("compare_truth: exact match: %d frames, %d telescope packets, %d sources, %d drop reasons, "
          "%d time_backwards" % (tt["rx_packets"], tt["tel_packets"], len(exp), len(tt["drops"]),
                                 tt["time_backwards"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
