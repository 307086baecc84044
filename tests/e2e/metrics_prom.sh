#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# metrics_prom.sh OBSCURA_GEN OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# GET /metrics for real: obscura-cp serves on a loopback port, Debian's prometheus
# scrapes it every second (a temporary config and TSDB), obscura-dp --replay feeds a
# generated capture with malformed frames of every drop reason through 2 workers, and
# every series read back through Prometheus' HTTP API equals `obscuractl --json stats`
# (metrics_compare.py), with clients stalled mid-request on the listener all along.  `promtool check metrics` on a scrape is clean, every family
# has # HELP and # TYPE, another path is 404, another method 405.  Bad input: a listener
# address that does not parse stops -n and the start naming the key; one already bound
# stops the start with the reason; neither leaves a daemon behind.  The Grafana
# dashboard (deploy/grafana/obscura.json) names only families of the real scrape and
# each of its queries runs in this Prometheus (grafana_check.py).  Loss stamps: the clean
# replay is complete in `stats`, `integrity`, every `scan list` block and `resip daily`
# day; a second boot marks the periods, every block and every day incomplete.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"   # $py, $src, e2e_setup, fail, gen_traffic, start_cp, stop_cp ...
e2e_setup metrics gen dp cp ctl -- "$@"
command -v prometheus >/dev/null && command -v promtool >/dev/null \
	|| fail "prometheus and promtool not installed (deploy/setup installs them)"
prom_pid=
trap '[ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null; e2e_cleanup' EXIT

# two free loopback ports (the kernel's choice; released just before use)
read -r mport pport < <("$py" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
murl=http://127.0.0.1:$mport/metrics

# three days of packet time, daily periods: the scan analysis has closed periods
gen_traffic --packets 20000 --seed 15 --malformed-share 0.02 --vlan-share 0.05 \
	--backwards-share 0.002 --sensor east=198.18.0.0/27 --sensor west=198.18.16.0/27 \
	--start 2024-01-01T00:00:00Z --span 3d --resip-table "$tmp/resip.csv"

d=$tmp/run
mkdir -p "$d/state"
cat >"$d/obscura.yaml" <<EOF
$(conf_dataplane 2 "$prefix")
telescope:
  sensors:
    - {name: east, prefixes: [198.18.0.0/27]}
    - {name: west, prefixes: [198.18.16.0/27]}
exchange:
  path: $d/exchange
  epoch_ms: 1000
  src_capacity: 65536
  drain_wait_s: 5
$(conf_control "$d" '""' "127.0.0.1:$mport")
analysis:
  period: day
resip:
  table: $tmp/resip.csv
rules:
  files: [$src/conf/rules/obscura.rules]
EOF

# bad input first: nothing may be left running
sed "s|metrics_listen: .*|metrics_listen: localhost:$mport|" "$d/obscura.yaml" >"$tmp/bad.yaml"
out=$("$cp" -n -c "$tmp/bad.yaml" 2>&1) && fail "-n accepted a host name as metrics_listen"
grep -q "control.metrics_listen: value 'localhost:$mport' not a numeric IPv4" <<<"$out" \
	|| fail "-n message: $out"
echo "ok: -n refuses metrics_listen localhost:PORT naming the key"
"$py" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(8)' "$mport" &
holder=$!
sleep 0.5
timeout 20 "$cp" -c "$d/obscura.yaml" >"$tmp/busy.log" 2>&1
rc=$?
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
[ "$rc" = 1 ] || fail "start on a bound port: exit $rc, want 1 ($(cat "$tmp/busy.log"))"
grep -q "control.metrics_listen '127.0.0.1:$mport': cannot listen: Address already in use" \
	"$tmp/busy.log" || fail "bound port message: $(cat "$tmp/busy.log")"
echo "ok: a port already bound stops the start: exit 1, reason logged"
rm -rf "$d/state"; mkdir -p "$d/state"

start_cp "$d"
grep -q "metrics: serving $murl" "$d/cp.log" || fail "no 'metrics: serving' line"

cat >"$tmp/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: obscura
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
promtool check config "$tmp/prom.yml" >"$tmp/promtool-config.log" 2>&1 \
	|| fail "promtool check config: $(cat "$tmp/promtool-config.log")"
prometheus --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!
for _ in $(seq 300); do
	kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited: $(tail -5 "$tmp/prometheus.log")"
	"$py" -c 'import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)' \
		"http://127.0.0.1:$pport/-/ready" 2>/dev/null && break
	sleep 0.1
done

# clients that send half a request and stall, through the whole replay: the drain and
# Prometheus' scrapes go on (the HTTP thread only copies the published text)
"$py" -c '
import socket, sys, time
c = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(8)]
for s in c: s.sendall(b"GET /metr")
time.sleep(30)' "$mport" &
stall=$!
timeout 300 "$dp" -c "$d/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	>"$d/dp.log" 2>&1 || fail "obscura-dp --replay exit $?"
"$ctl" -c "$d/obscura.yaml" --json stats >"$tmp/stats.json" || fail "obscuractl stats"
"$py" -c 'import json, sys; t = json.load(open(sys.argv[1]))["total"]
assert t["rule_matches"] > 0 and t["resip_packets"] > 0 and t["lost_updates"] == 0, t' \
	"$tmp/stats.json" || fail "the replay should match rules and RESIP rows and lose nothing"
kill -0 "$stall" 2>/dev/null || fail "the stalled clients were gone before the replay ended"
echo "ok: the replay drained with 8 stalled /metrics clients connected"

# the scrape itself: promtool clean, HELP and TYPE on every family, the content type
"$py" - "$murl" "$tmp/scrape.txt" <<'PY' || fail "scrape"
import sys, urllib.request, urllib.error
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    ct = r.headers["Content-Type"]
    body = r.read()
open(sys.argv[2], "wb").write(body)
assert ct == "text/plain; version=0.0.4; charset=utf-8", ct
for path, method, code in (("/other", "GET", 404), ("/", "GET", 404),
                           ("/metrics", "POST", 405)):
    try:
        urllib.request.urlopen(urllib.request.Request(sys.argv[1].replace("/metrics", path),
                               method=method, data=b"" if method == "POST" else None), timeout=10)
        raise SystemExit("%s %s answered 200" % (method, path))
    except urllib.error.HTTPError as e:
        assert e.code == code, "%s %s: %d, want %d" % (method, path, e.code, code)
print("ok: content type 0.0.4; GET /other and / -> 404, POST /metrics -> 405")
PY
promtool check metrics <"$tmp/scrape.txt" >"$tmp/promtool.log" 2>&1 \
	|| fail "promtool check metrics: $(cat "$tmp/promtool.log")"
[ -s "$tmp/promtool.log" ] && fail "promtool check metrics warns: $(cat "$tmp/promtool.log")"
echo "ok: promtool check metrics is clean"
"$py" - "$tmp/scrape.txt" <<'PY' || fail "HELP/TYPE"
import sys
help, typ, samples = set(), set(), set()
for l in open(sys.argv[1]):
    if l.startswith("# HELP "):
        help.add(l.split()[2])
    elif l.startswith("# TYPE "):
        typ.add(l.split()[2])
    elif l.strip():
        samples.add(l.split("{")[0].split(" ")[0])
assert samples <= help and samples <= typ, samples - (help & typ)
assert all(n.startswith("obscura_") for n in help), help
assert len(samples) >= 30, len(samples)
print("ok: %d families with samples, each with # HELP and # TYPE" % len(samples))
PY

"$py" "$here/metrics_compare.py" "http://127.0.0.1:$pport" "$murl" "$tmp/stats.json" \
	|| fail "prometheus' series differ from obscuractl stats"
kill "$stall" 2>/dev/null; wait "$stall" 2>/dev/null
"$ctl" -c "$d/obscura.yaml" --json status >"$tmp/status.json" || fail "status"
"$py" - "$tmp/status.json" "127.0.0.1:$mport" <<'PY' || fail "status: metrics"
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
assert m["listen"] == sys.argv[2] and m["scrapes"] >= 5 and m["renders"] >= 1, m
print("ok: status shows the listener, %d scrapes, %d renders" % (m["scrapes"], m["renders"]))
PY
# obscura_table_loaded: 1 for the tables this config gives files (resip, rules), 0 for the others
"$ctl" -c "$d/obscura.yaml" --json tables status >"$tmp/tables.json" || fail "tables status"
"$py" - "$tmp/scrape.txt" "$tmp/tables.json" <<'PY' || fail "obscura_table_loaded"
import json, re, sys
got = {m.group(1): float(m.group(2)) for m in
       re.finditer(r'^obscura_table_loaded\{table="([a-z]+)"\} (\S+)$', open(sys.argv[1]).read(), re.M)}
want = {t["table"]: 1.0 if t["files"] else 0.0 for t in json.load(open(sys.argv[2]))}
assert want["resip"] == 1.0 and want["rules"] == 1.0 and want["scanner"] == 0.0, want
assert got == want, (got, want)
print("ok: obscura_table_loaded %s" % sorted(got.items()))
PY
# obscura_table_version: the dataplane's count, equal to tables status; this run's
# dataplane loaded the tables with files at its start and nothing was reloaded: those 1,
# the others 0
"$py" - "$tmp/scrape.txt" "$tmp/tables.json" <<'PY' || fail "obscura_table_version"
import json, re, sys
got = {m.group(1): float(m.group(2)) for m in
       re.finditer(r'^obscura_table_version\{table="([a-z]+)"\} (\S+)$', open(sys.argv[1]).read(), re.M)}
tabs = json.load(open(sys.argv[2]))
st = {t["table"]: t["version"] for t in tabs}
assert st == {t["table"]: 1 if t["files"] else 0 for t in tabs}, st
assert st["resip"] == 1 and st["rules"] == 1 and st["scanner"] == 0, st
assert got == {k: float(v) for k, v in st.items()}, (got, st)
print("ok: obscura_table_version %s, as tables status" % sorted(got.items()))
PY
# README's Metrics section lists exactly the families a scrape declares
"$py" - "$src/README.md" "$tmp/scrape.txt" <<'PY' || fail "README: Metrics"
import re, sys
text = open(sys.argv[1]).read()
sec = text[text.index("## Metrics"):]
sec = sec[:sec.index("\n## ", 1)]
doc = set(re.findall(r"obscura_[a-z_]+[a-z]", sec))
fam = {l.split()[2] for l in open(sys.argv[2]) if l.startswith("# TYPE ")}
assert not fam - doc, "exported, not in README: %s" % sorted(fam - doc)
assert not doc - fam, "in README, not exported: %s" % sorted(doc - fam)
print("ok: README's Metrics section names the %d families exported, no other" % len(fam))
PY
# the Grafana dashboard: every query names only families of this scrape, and is PromQL
"$py" "$here/grafana_check.py" "$src/deploy/grafana/obscura.json" "$murl" \
	"http://127.0.0.1:$pport" obscura "127.0.0.1:$mport" || fail "deploy/grafana/obscura.json"

# loss stamps on the real chain: the clean replay is complete, every scan block too;
# a second boot (the same capture again) makes the period and every block incomplete
"$ctl" -c "$d/obscura.yaml" --json integrity day >"$tmp/integ1.json" || fail "integrity"
"$ctl" -c "$d/obscura.yaml" --json scan list --all --n 1 --alpha 0.05 >"$tmp/scan1.json" || fail "scan list"
"$ctl" -c "$d/obscura.yaml" --json resip daily >"$tmp/resip1.json" || fail "resip daily"
blk=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["blocks"][0]["block"])' \
	"$tmp/scan1.json") || fail "no scan block"
others() {   # others N: the other period and range answers, into $tmp/{summary,show,ports}-N.json
	"$ctl" -c "$d/obscura.yaml" --json resip summary >"$tmp/summary-$1.json" &&
	"$ctl" -c "$d/obscura.yaml" --json scan show "$blk" --n 1 --alpha 0.05 >"$tmp/show-$1.json" &&
	"$ctl" -c "$d/obscura.yaml" --json scan ports --n 1 --alpha 0.05 >"$tmp/ports-$1.json" \
		|| fail "resip summary, scan show, scan ports"
}
others 1
timeout 300 "$dp" -c "$d/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	>"$d/dp2.log" 2>&1 || fail "second obscura-dp --replay exit $?"
"$ctl" -c "$d/obscura.yaml" --json scan list --all --n 1 --alpha 0.05 >"$tmp/scan2.json" || fail "scan list"
"$ctl" -c "$d/obscura.yaml" --json stats >"$tmp/stats2.json" || fail "stats"
"$ctl" -c "$d/obscura.yaml" --json resip daily >"$tmp/resip2.json" || fail "resip daily"
others 2
"$py" - "$tmp/stats.json" "$tmp/integ1.json" "$tmp/scan1.json" "$tmp/scan2.json" \
	"$tmp/stats2.json" "$tmp/resip1.json" "$tmp/resip2.json" "$tmp" <<'PY' || fail "loss stamps"
import json, sys
st, integ, s1, s2, st2, r1, r2 = (json.load(open(f)) for f in sys.argv[1:8])
for n, want in ((1, True), (2, False)):
    summ, show, ports = (json.load(open("%s/%s-%d.json" % (sys.argv[8], w, n)))
                         for w in ("summary", "show", "ports"))
    assert summ["integrity"]["complete"] is want, summ["integrity"]
    assert show["periods"] and all(p["complete"] is want for p in show["periods"]), show
    assert ports["integrity"]["complete"] is want, ports["integrity"]
assert r1 and all(d["complete"] is True and d["integrity"]["period"] == d["day"] for d in r1), r1
assert r2 and all(d["complete"] is False and d["integrity"]["dp_restarts"] == 1 for d in r2), r2
tot = integ["total"]
assert st["integrity"] == tot, (st["integrity"], tot)
assert tot["complete"] is True, tot
assert tot["packets"] == st["total"]["rx_packets"] and tot["epochs"] == st["epochs"], (tot, st["epochs"], st["total"]["rx_packets"], st["boots"])
assert sum(p["packets"] for p in integ["periods"]) == tot["packets"], integ["periods"]
assert s1["integrity"]["complete"] is True and s1["blocks"], (s1["cells"], s1["integrity"])
assert all(b["complete"] is True for b in s1["blocks"]), "a clean block marked incomplete"
assert st2["integrity"]["dp_restarts"] == 1 and st2["integrity"]["complete"] is False
assert s2["integrity"]["complete"] is False and s2["integrity"]["dp_restarts"] == 1
assert all(b["complete"] is False for b in s2["blocks"]), "a block across a restart unmarked"
print("ok: loss stamps: the clean replay complete (%d blocks, %d RESIP days, resip summary, "
      "scan show, scan ports); after a second boot the periods, all %d blocks, all RESIP "
      "days and those answers are marked incomplete"
      % (len(s1["blocks"]), len(r1), len(s2["blocks"])))
PY

stop_cp
echo "metrics_prom: ok"
