#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
scan_compare.py LIST.json CELLS.json PORTS.json REF.json [TRUTH.json]

Compare the appliance's SPEC A answer (`obscuractl --json scan list --all`, `scan cells`,
`scan ports 0`) with tests/reference/scan_ref.py's, cell by cell and block by block, and
(when given) every scanner block of the generator's truth with its expected class.
Exit 0 when everything matches, 1 with the differences.
"""
import json
import sys


def load(p):
    with open(p) as fh:
        return json.load(fh)


def main():
    lst, cells, ports, ref = (load(p) for p in sys.argv[1:5])
    truth = load(sys.argv[5]) if len(sys.argv) > 5 else None
    errs = []

    # cells: (period, block, dport) -> (hits, syns, mirai)
    got = {(c["period"], c["block"], c["dport"]): (c["hits"], c["syns"], c["mirai"])
           for c in cells if c["proto"] == 6}
    want = {(c["period"], c["block"], c["dport"]): (c["hits"], c["syns"], c["mirai"])
            for c in ref["cells"]}
    for k in sorted(set(got) | set(want)):
        if got.get(k) != want.get(k):
            errs.append("cell %s: appliance %s reference %s" % (k, got.get(k), want.get(k)))

    # blocks with a wide-area period
    gb = {b["block"]: b for b in lst["blocks"]}
    rb = {b["block"]: b for b in ref["blocks"]}
    for k in sorted(set(gb) | set(rb)):
        g, r = gb.get(k), rb.get(k)
        if g is None or r is None:
            errs.append("block %s: appliance %s reference %s" % (
                k, g and g["class"], r and r["class"]))
            continue
        for f in ("class", "n_wide", "first", "last", "pmax", "pmin", "n_pairs", "syns",
                  "mirai", "busiest24", "scanner", "country"):
            if g[f] != r[f]:
                errs.append("block %s %s: appliance %r reference %r" % (k, f, g[f], r[f]))
        for f in ("j", "s", "mirai_share"):
            if (g[f] is None) != (r[f] is None) or (g[f] is not None and abs(g[f] - r[f]) > 1e-9):
                errs.append("block %s %s: appliance %r reference %r" % (k, f, g[f], r[f]))
        gp = [(p["period"], p["ports"]) for p in g["periods"]]
        rp = [(p["period"], p["ports"]) for p in r["periods"]]
        if gp != rp:
            errs.append("block %s: port sets differ" % k)

    # Table 2
    gports = [(p["port"], p["sets"]) for p in ports["ports"]][:len(ref["ports"])]
    rports = [(p["port"], p["sets"]) for p in ref["ports"]]
    if gports != rports:
        errs.append("port popularity: appliance %s reference %s" % (gports[:10], rports[:10]))
    if ports["port_sets"] != ref["port_sets"]:
        errs.append("port sets: appliance %d reference %d" % (ports["port_sets"], ref["port_sets"]))

    # the generator's answers, known by construction
    n_truth = 0
    if truth is not None:
        for b in truth["scanner_blocks"]:
            if not b.get("block"):
                continue
            n_truth += 1
            g = gb.get(b["block"])
            cls = g["class"] if g else "none"
            if cls != b["expected_class"]:
                errs.append("truth block %s (%s/%s): expected %s, appliance %s" % (
                    b["block"], b["kind"], b["variant"], b["expected_class"], cls))

    for e in errs[:60]:
        print("scan_compare: " + e)
    if errs:
        print("scan_compare: %d differences" % len(errs))
        return 1
    print("scan_compare: %d cells, %d blocks (%d continuous), %d truth blocks: all match" % (
        len(want), len(rb), sum(1 for b in rb.values() if b["class"] != "none"), n_truth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
