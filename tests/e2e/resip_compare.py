#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""resip_compare.py SUMMARY DAILY TOP PORTS TRUTH MODE [K]

Compare `obscuractl --json resip summary`, `resip daily`, `resip top 0` and
`resip ports 0` with obscura-gen's truth block resip.MODE (window_check or
no_window_check), exactly.  K: the pcap was replayed K times (packet counts x K; hosts,
days and providers unchanged).  Exit 0 when equal, 1 with the differences listed."""
import json
import sys


def main():
    summ, daily, top, ports, truth = (json.load(open(p)) for p in sys.argv[1:6])
    mode = sys.argv[6]
    k = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    t = truth["resip"][mode]
    errs = []

    def eq(what, got, want):
        if got != want:
            errs.append("%s: appliance %r, truth %r" % (what, got, want))

    eq("summary.packets", summ["packets"], t["packets"] * k)
    eq("summary.port_packets", summ["port_packets"], t["packets"] * k)
    eq("summary.counter_resip_packets", summ["counter_resip_packets"], t["packets"] * k)
    eq("summary.hosts", summ["hosts"], t["hosts"])
    eq("summary.host_days", summ["host_days"], t["host_days"])
    eq("summary.days", summ["days"], t["days"])
    eq("summary.bad_records", summ["bad_records"], 0)
    eq("summary.nomem", summ["nomem"], 0)
    eq("summary.window_check", summ["window_check"], mode == "window_check")
    want_daily = [(d["day"], d["hosts"], d["packets"] * k) for d in t["daily"]]
    got_daily = [(d["day"], d["hosts"], d["packets"]) for d in daily]
    if got_daily != want_daily:
        gd, wd = dict((x[0], x[1:]) for x in got_daily), dict((x[0], x[1:]) for x in want_daily)
        bad = [d for d in sorted(set(gd) | set(wd)) if gd.get(d) != wd.get(d)]
        errs.append("daily: %d day(s) differ, first %s: appliance %s truth %s"
                    % (len(bad), bad[0], gd.get(bad[0]), wd.get(bad[0])))
    want_src = {s["addr"]: (s["packets"] * k, s["days"], sorted(s["providers"]))
                for s in t["sources"]}
    got_src = {s["addr"]: (s["packets"], s["days"], sorted(s["providers"])) for s in top}
    if got_src != want_src:
        bad = sorted(a for a in set(got_src) | set(want_src) if got_src.get(a) != want_src.get(a))
        errs.append("sources: %d differ (appliance %d, truth %d), first %s: appliance %s truth %s"
                    % (len(bad), len(got_src), len(want_src), bad[0], got_src.get(bad[0]),
                       want_src.get(bad[0])))
    # top is ordered by packets descending, then address
    pk = [s["packets"] for s in top]
    eq("top order", pk, sorted(pk, reverse=True))
    want_ports = {(p["proto"], p["port"]): p["packets"] * k for p in t["ports"]}
    got_ports = {(p["proto"], p["port"]): p["packets"] for p in ports}
    if got_ports != want_ports:
        bad = sorted(x for x in set(got_ports) | set(want_ports)
                     if got_ports.get(x) != want_ports.get(x))
        errs.append("ports: %d differ, first %s: appliance %s truth %s"
                    % (len(bad), bad[0], got_ports.get(bad[0]), want_ports.get(bad[0])))
    tot = sum(p["packets"] for p in ports)
    share = sum(p["share"] for p in ports)
    if ports and abs(share - 1.0) > 1e-6:
        errs.append("ports: shares sum to %f" % share)
    if errs:
        print("resip %s (x%d): %d difference(s)" % (mode, k, len(errs)))
        for e in errs:
            print("  " + e)
        return 1
    print("resip %s (x%d): %d packets, %d hosts, %d days, %d sources, %d ports: equal"
          % (mode, k, summ["packets"], summ["hosts"], summ["days"], len(top), len(ports)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
