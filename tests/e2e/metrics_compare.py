#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""metrics_compare.py PROM_URL METRICS_URL STATS_JSON

The series Prometheus scraped from obscura-cp against `obscuractl --json stats` of the
same quiet appliance: every per-worker counter (protocols, drop reasons, every scalar
counter), every port counter, the totals (sum over workers) and the store's figures
must be equal, read back through Prometheus' HTTP API (/api/v1/query), not from the
text.  Every family of a direct scrape must also be known to Prometheus.  Prometheus
scrapes every second, so the comparison is retried until it holds or 60 s pass (the
last differences are printed).  Exit 0 when equal, 1 otherwise.
"""
import json
import sys
import time
import urllib.parse
import urllib.request

prom, metrics_url, stats_path = sys.argv[1:4]
stats = json.load(open(stats_path))

PROTOS = ["tcp", "udp", "icmp", "other"]
# stats field -> metric (per worker, label worker)
SCALARS = {
    "rx_packets": "obscura_rx_packets_total",
    "rx_bytes": "obscura_rx_bytes_total",
    "tel_packets": "obscura_telescope_packets_total",
    "tel_bytes": "obscura_telescope_bytes_total",
    "lost_updates": "obscura_lost_updates_total",
    "time_backwards": "obscura_time_backwards_total",
    "forced_swaps": "obscura_forced_swaps_total",
    "excluded_packets": "obscura_excluded_packets_total",
    "resip_packets": "obscura_resip_packets_total",
    "scanner_packets": "obscura_scanner_packets_total",
    "cov_syns": "obscura_coverage_syns_total",
    "payload_packets": "obscura_payload_packets_total",
    "rule_matches": "obscura_rule_matches_total",
}
PORTS = {
    "ipackets": "obscura_port_received_packets_total",
    "ibytes": "obscura_port_received_bytes_total",
    "imissed": "obscura_port_imissed_total",
    "ierrors": "obscura_port_ierrors_total",
    "rx_nombuf": "obscura_port_rx_nombuf_total",
}


def query(expr):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        d = json.load(r)
    if d.get("status") != "success":
        raise RuntimeError("query %s: %s" % (expr, d))
    return d["data"]["result"]


def scalar(expr):
    res = query(expr)
    if len(res) != 1:
        return None
    return float(res[0]["value"][1])


def expected():
    """(PromQL expression, value) pairs, from stats alone."""
    want = []
    if not stats["workers"]:
        raise SystemExit("stats has no workers: nothing was drained")
    for w in stats["workers"]:
        wl = 'worker="%d"' % w["worker"]
        for p in PROTOS:
            want.append(('obscura_packets_total{%s,proto="%s"}' % (wl, p), w["protocols"][p]))
        for reason, v in w["drops"].items():
            want.append(('obscura_drops_total{%s,reason="%s"}' % (wl, reason), v))
        for f, m in SCALARS.items():
            want.append(("%s{%s}" % (m, wl), w[f]))
    t = stats["total"]
    for f, m in SCALARS.items():
        want.append(("sum(%s)" % m, t[f]))
    for p in PROTOS:
        want.append(('sum(obscura_packets_total{proto="%s"})' % p, t["protocols"][p]))
    want.append(("sum(obscura_drops_total)", t["dropped"]))
    if t["lost_updates"] == 0:
        # every match is one event of its sid (nothing lost): the sids sum to the counter
        want.append(("sum(obscura_rules_matches_total)", t["rule_matches"]))
    for p in stats["ports"]:
        for f, m in PORTS.items():
            want.append(('%s{port="%s"}' % (m, p["name"]), p[f]))
    want.append(("obscura_epochs_drained_total", stats["epochs"]))
    want.append(("obscura_dataplane_boots", stats["boots"]))
    want.append(("obscura_sources", stats["sources"]))
    want.append(('up{job="obscura"}', 1))
    return want


def scraped_names():
    """Metric names with at least one sample in a direct scrape."""
    with urllib.request.urlopen(metrics_url, timeout=10) as r:
        text = r.read().decode()
    return {l.split("{")[0].split(" ")[0] for l in text.splitlines()
            if l and not l.startswith("#")}


want = expected()
deadline = time.time() + 60
while True:
    bad = []
    for expr, v in want:
        got = scalar(expr)
        if got is None or got != float(v):
            bad.append("%s: prometheus %s, stats %s" % (expr, got, v))
    known = {r["metric"]["__name__"] for r in
             query('group by (__name__) ({__name__=~"obscura_.+"})')}
    missing = sorted(scraped_names() - known)
    if not bad and not missing:
        break
    if time.time() > deadline:
        for b in bad[:40]:
            print("FAIL:", b)
        for m in missing:
            print("FAIL: family %s scraped but unknown to prometheus" % m)
        sys.exit(1)
    time.sleep(1)
print("ok: %d series equal to stats through prometheus' API, %d families known"
      % (len(want), len(known)))
