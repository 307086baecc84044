#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""grafana_check.py DASHBOARD METRICS_URL [PROM_URL JOB INSTANCE]

deploy/grafana/obscura.json against a real scrape: every panel (but rows) has at least
one query, every query and every template variable's query names at least one metric,
and every metric named is a family the appliance exports (# TYPE in a GET of
METRICS_URL).  With PROM_URL, each query (its Grafana variables replaced by JOB,
INSTANCE, a 10 s rate window and a 1 h range) is also run through Prometheus'
/api/v1/query and must be valid PromQL.  The dashboard must import: JSON, the Prometheus data source as an
input, unique panel ids, a title and uid.  Exit 0 when all hold, 1 with every problem.
"""
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

dash_path, metrics_url = sys.argv[1:3]
prom, job, instance = (sys.argv[3:6] + [None] * 3)[:3]
dash = json.load(open(dash_path))
problems = []

# PromQL words that are not metric names: aggregators, functions (always followed by
# "("), keywords and set operators.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
            "or", "unless", "offset", "inf", "nan"}


def metric_names(expr):
    """The metric names an expression selects (label_values(M, l) included)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)     # strings
    e = re.sub(r"\$\{?\w+\}?", "", e)                  # Grafana variables
    e = re.sub(r"\{[^}]*\}", " ", e)                   # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                  # range windows
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    m = re.match(r"\s*label_values\s*\(\s*([A-Za-z_:][\w:]*)?", e)
    if m:
        return {m.group(1)} if m.group(1) else set()
    names = set()
    for tok in re.finditer(r"[A-Za-z_:][\w:]*", e):
        w = tok.group(0)
        rest = e[tok.end():].lstrip()
        if rest.startswith("(") or w.lower() in KEYWORDS:
            continue
        if re.fullmatch(r"\d+[smhdwy]", w):
            continue
        names.add(w)
    return names


with urllib.request.urlopen(metrics_url, timeout=10) as r:
    exported = {l.split()[2] for l in r.read().decode().splitlines() if l.startswith("# TYPE ")}
if not exported:
    problems.append("the scrape declares no family")

inputs = [i for i in dash.get("__inputs", []) if i.get("pluginId") == "prometheus"]
if not inputs:
    problems.append("no Prometheus data source input (__inputs)")
if not dash.get("title") or not dash.get("uid"):
    problems.append("title or uid missing")

queries = []   # (where, expr)
ids = []
for p in dash.get("panels", []):
    ids.append(p.get("id"))
    if p.get("type") == "row":
        continue
    ts = [t for t in p.get("targets", []) if t.get("expr")]
    if not ts:
        problems.append("panel %r has no query" % p.get("title"))
    for t in ts:
        queries.append(("panel %r %s" % (p.get("title"), t.get("refId")), t["expr"]))
for v in dash.get("templating", {}).get("list", []):
    if v.get("type") == "query":
        q = v.get("query")
        queries.append(("variable $%s" % v.get("name"), q["query"] if isinstance(q, dict) else q))
if len(ids) != len(set(ids)):
    problems.append("panel ids are not unique: %s" % ids)

named = set()
for where, expr in queries:
    names = metric_names(expr)
    if not names:
        problems.append("%s names no metric: %s" % (where, expr))
    for n in sorted(names - exported):
        problems.append("%s names %s, which the appliance does not export" % (where, n))
    named |= names
    if prom and not expr.startswith("label_values"):
        q = (expr.replace("$__rate_interval", "10s").replace("$__range", "1h")
             .replace("$job", job).replace("$instance", instance))
        url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                st = json.load(r).get("status")
        except urllib.error.HTTPError as e:
            st = "HTTP %d: %s" % (e.code, e.read().decode()[:200])
        if st != "success":
            problems.append("%s: prometheus refuses %s: %s" % (where, q, st))

for p in problems:
    print("FAIL:", p)
if problems:
    sys.exit(1)
print("ok: %d queries over %d panels name %d metrics, all exported%s"
      % (len(queries), len([p for p in dash["panels"] if p.get("type") != "row"]), len(named),
         "; all valid PromQL for prometheus" if prom else ""))
