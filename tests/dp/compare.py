#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare xchg_dump output with an expectation (stdlib only).

  compare.py exact  GOT.json EXPECTED.json [--times N] [--no-backwards] [--workers W]
                    [--no-bytes] [--port-packets N]
      counters and source records must match exactly (EXPECTED scaled by N for a file
      replayed N times: counts multiplied, first/last unchanged); every epoch well formed;
      W workers each published exactly one FINAL epoch.  --no-bytes: a live port
      gives caplen, not the wire length; --port-packets: port 0's ipackets.
  compare.py same-sources GOT_A.json GOT_B.json
      per-source packets and sensor masks and every drop reason equal (live vs replay:
      packet times differ, so first/last are not compared).
  compare.py counted GOT.json N
      N frames in, every one counted (accepted or by drop reason), epochs well formed.
  compare.py conserved GOT.json N
      N frames in, all accepted: sum(source packets) + lost_updates == N, and forced
      swaps counted once per forced epoch.
"""
import json
import sys


def load(p):
    with open(p) as f:
        return json.load(f)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def well_formed(g, workers=None):
    for k in ("seq_errors", "n_src_mismatch", "bad_worker"):
        if g[k] != 0:
            fail(f"{k} = {g[k]}")
    if workers is not None and g["final_epochs"] != workers:
        fail(f"final_epochs {g['final_epochs']} != workers {workers}")
    c = g["counters"]
    if c["rx_packets"] != c["tel_packets"] + sum(c["drops"].values()):
        fail("rx_packets != tel_packets + drops")
    if c["tel_packets"] != sum(c["proto"].values()):
        fail("tel_packets != sum(proto)")


def exact(args):
    g, e = load(args[0]), load(args[1])
    times, backwards, workers, nobytes, port_pkts = 1, True, None, False, None
    i = 2
    while i < len(args):
        if args[i] == "--times":
            times = int(args[i + 1]); i += 2
        elif args[i] == "--no-backwards":
            backwards = False; i += 1
        elif args[i] == "--no-bytes":
            nobytes = True; i += 1
        elif args[i] == "--port-packets":
            port_pkts = int(args[i + 1]); i += 2
        elif args[i] == "--workers":
            workers = int(args[i + 1]); i += 2
        else:
            fail("bad arg " + args[i])
    well_formed(g, workers)
    gc, ec = g["counters"], e["counters"]
    for k, v in ec.items():
        if k == "time_backwards" and (not backwards or times > 1):
            continue
        if k in ("rx_bytes", "tel_bytes") and nobytes:
            continue
        if isinstance(v, dict):
            for kk, vv in v.items():
                if gc[k][kk] != vv * times:
                    fail(f"{k}.{kk}: got {gc[k][kk]}, expected {vv * times}")
        elif k in ("lost_updates", "forced_swaps"):
            if gc[k] != v:
                fail(f"{k}: got {gc[k]}, expected {v}")
        elif gc[k] != v * times:
            fail(f"{k}: got {gc[k]}, expected {v * times}")
    gs = {r["src"]: r for r in g["sources"]}
    es = {r["src"]: r for r in e["sources"]}
    if set(gs) != set(es):
        fail(f"sources differ: extra {sorted(set(gs) - set(es))} missing {sorted(set(es) - set(gs))}")
    for s, r in es.items():
        x = gs[s]
        want = dict(r, packets=r["packets"] * times)
        for k in ("first_ns", "last_ns", "packets", "sensor_mask"):
            if x[k] != want[k]:
                fail(f"source {s} {k}: got {x[k]}, expected {want[k]}")
    if port_pkts is not None and g["ports"][0]["ipackets"] != port_pkts:
        fail(f"port 0 ipackets {g['ports'][0]['ipackets']} != {port_pkts}")
    print(f"ok: {gc['rx_packets']} frames, {len(gs)} sources, {g['epochs']} epochs")


def same_sources(args):
    a, b = load(args[0]), load(args[1])
    well_formed(a)
    well_formed(b)
    sa = {r["src"]: (r["packets"], r["sensor_mask"]) for r in a["sources"]}
    sb = {r["src"]: (r["packets"], r["sensor_mask"]) for r in b["sources"]}
    if sa != sb:
        fail(f"sources differ:\n  A {sorted(sa.items())}\n  B {sorted(sb.items())}")
    for k in ("drops", "proto"):
        if a["counters"][k] != b["counters"][k]:
            fail(f"{k} differ:\n  A {a['counters'][k]}\n  B {b['counters'][k]}")
    for k in ("rx_packets", "tel_packets"):
        if a["counters"][k] != b["counters"][k]:
            fail(f"{k}: {a['counters'][k]} != {b['counters'][k]}")
    print(f"ok: same {len(sa)} sources, same drop reasons")


def counted(args):
    g, n = load(args[0]), int(args[1])
    well_formed(g)
    c = g["counters"]
    if c["rx_packets"] != n:
        fail(f"rx_packets {c['rx_packets']} != {n}")
    recs = sum(r["packets"] for r in g["sources"])
    if recs + c["lost_updates"] != c["tel_packets"]:
        fail(f"records {recs} + lost {c['lost_updates']} != tel_packets {c['tel_packets']}")
    print(f"ok: {n} frames counted: {c['tel_packets']} accepted, drops {c['drops']}")


def conserved(args):
    g, n = load(args[0]), int(args[1])
    well_formed(g)
    c = g["counters"]
    if c["rx_packets"] != n or c["tel_packets"] != n:
        fail(f"rx {c['rx_packets']} tel {c['tel_packets']} != {n}")
    recs = sum(r["packets"] for r in g["sources"])
    if recs + c["lost_updates"] != n:
        fail(f"records {recs} + lost {c['lost_updates']} != {n}")
    if c["forced_swaps"] != g["forced_epochs"]:
        fail(f"forced_swaps {c['forced_swaps']} != forced epochs {g['forced_epochs']}")
    print(f"ok: {recs} in records + {c['lost_updates']} lost = {n}; "
          f"{g['forced_epochs']} forced epochs of {g['epochs']}")


if __name__ == "__main__":
    {"exact": exact, "same-sources": same_sources, "conserved": conserved,
     "counted": counted}[sys.argv[1]](sys.argv[2:])
