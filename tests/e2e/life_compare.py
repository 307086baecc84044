#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""life_compare.py SOCKET EVENTS.jsonl EXPECT.json — what obscura-cp reports for SPEC C
(after obscura-dp replayed life_pcap.py's traffic) against tests/reference/life_ref.py on
the same events, exactly: Table 1 buckets, sensors and categories per bucket, the four
CDFs, the continuity grid, every source's groups (times to the nanosecond, events,
sensors, event types), plus the rule and exclusion counters and `rules.status`."""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "cp"))
sys.path.insert(0, os.path.join(here, "..", "reference"))
from cplib import Conn, fail  # noqa: E402
import life_ref  # noqa: E402

EVC = ["none", "tcp-syn", "tcp-synack", "tcp-rst", "tcp", "udp", "icmp-echo", "icmp-unreach",
       "icmp-timex", "icmp", "ip"]
BUCKETS = ["< 1 min", "< 1 day", "< 30 days", ">= 30 days"]
errors = 0


def ev_name(t):
    if not t & 0x80000000:
        return "sid:%d" % t
    cls, port = (t >> 16) & 0x7fff, t & 0xffff
    if cls in (6, 7, 8):
        return EVC[cls]
    return "%s/%d" % (EVC[cls], port)


def eq(what, got, want):
    global errors
    if got != want:
        errors += 1
        if errors <= 20:
            print("DIFF %s: got %r want %r" % (what, got, want))


def main():
    sock, evpath, exppath = sys.argv[1:4]
    with open(evpath) as f:
        events = [json.loads(line) for line in f if line.strip()]
    with open(exppath) as f:
        exp = json.load(f)
    ref = life_ref.analyse(events, 86400 * 10**9)
    c = Conn(sock, timeout=60)
    c.greet()

    s = c.data("life.summary")
    eq("sources", s["sources"], ref["n_sources"])
    eq("buckets", [b["sources"] for b in s["buckets"]], ref["buckets"])
    eq("one_sensor", s["one_sensor"], ref["one_sensor"])
    eq("evicted", s["evicted"], 0)
    eq("bad_records", s["bad_records"], 0)
    eq("nomem", s["nomem"], 0)
    if s["excluded_records"] < exp["excluded_sources"]:
        eq("excluded_records >= excluded sources", s["excluded_records"], exp["excluded_sources"])
    print("life.summary: %d sources, buckets %s, one-sensor %d" % (
        s["sources"], [b["sources"] for b in s["buckets"]], s["one_sensor"]))

    sens = c.data("life.sensors")
    eq("sensors", [b["counts"] for b in sens["buckets"]], ref["sensors"])
    cats = c.data("life.categories")
    eq("categories", [b["counts"] for b in cats], ref["cats"])

    for unit in ("days", "minutes", "seconds", "events"):
        rows = c.data("life.cdf", argv=["--unit", unit])
        eq("cdf " + unit, [[r["x"], r["n_le"]] for r in rows], ref["cdf"][unit])
        if rows:
            eq("cdf population " + unit, rows[0]["population"], ref["pop"][unit])

    cont = c.data("life.continuity")
    eq("continuity eligible", cont["eligible"], ref["eligible"])
    grid = [[round(row["%.2f" % (j * 0.05)] * cont["eligible"]) for j in range(21)]
            for row in cont["grid"]]
    eq("continuity grid", grid, ref["grid"])
    one = c.data("life.continuity", argv=["--tl", "0.5", "--te", "0.5"])
    eq("continuity 0.5/0.5", one["continuous"], ref["grid"][3][10])

    sensors = ["s%d" % i for i in range(5)]
    for src, r in sorted(ref["sources"].items()):
        d = c.data("life.show", argv=[src])
        eq(src + " events", d["events"], r["events"])
        got = [[g["first_ns"], g["last_ns"], g["events"], g["sensors"],
                sorted(t["type"] for t in g["types"])] for g in d["groups"]]
        want = [[g[0], g[1], g[2], [sensors[i] for i in g[3]], sorted(ev_name(t) for t in g[4])]
                for g in r["groups"]]
        eq(src + " groups", got, want)
    for k in range(1, 6):
        lines = c.call("life.show", argv=["192.0.2.%d" % k])
        eq("excluded 192.0.2.%d absent" % k, lines[-1].get("ok"), False)

    st = c.data("stats")
    tot = st["total"] if "total" in st else st
    for k in ("payload_packets", "rule_matches", "excluded_packets"):
        eq("stats " + k, tot.get(k), exp[k])
    eq("lost_updates", tot.get("lost_updates"), 0)
    rs = c.data("rules.status")
    eq("rules accepted", rs["accepted"], 14)
    eq("rules rejected", rs["rejected"], 0)
    print("stats: payload_packets %s, rule_matches %s, excluded_packets %s; rules %s/%s" % (
        tot.get("payload_packets"), tot.get("rule_matches"), tot.get("excluded_packets"),
        rs["accepted"], rs["rejected"]))
    if errors:
        fail("%d differences" % errors)
    print("life_compare: %d sources identical to the reference" % len(ref["sources"]))


if __name__ == "__main__":
    main()
