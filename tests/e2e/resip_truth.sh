#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# resip_truth.sh OBSCURA_GEN OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# SPEC.md B end to end: obscura-gen writes telescope traffic and a RESIP table for its
# residential sources (windows around, before and inside their traffic, multi-provider
# addresses with a gap, duplicates, listed addresses that never send) with the exact
# SPEC B1 answers; obscura-dp --replay feeds it through the exchange to obscura-cp, and
# `obscuractl --json resip summary/daily/top 0/ports 0` must equal the truth:
#   1. window check on;  2. window check off (resip.window_check: false);
#   3. the pcap replayed 10 times while `tables reload resip` runs in a loop and bad
#      tables are offered (malformed line, missing file, corrupt MMDB, empty file): each
#      refused with a clear error, the old table kept, totals still exact (x10);
#   4. the report's RESIP files exist and Table 7 / Table 8 agree with the commands.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"   # $py, $src, e2e_setup, fail, gen_traffic, start_cp, reload_wait ...
e2e_setup resip gen dp cp ctl -- "$@"

gen_traffic --packets 200000 --seed 11 --start 2024-03-01T00:00:00Z --span 45d \
	--sensor east=198.18.0.0/24 --sensor west=198.18.16.0/24 \
	--mix background=0.3,backscatter=0.1,mirai=0.1,scanner=0.2,resip=0.25,payload=0.05 \
	--backwards-share 0.001 --resip-table "$tmp/resip.csv" --quiet
"$py" - "$tmp/truth.json" <<'PY' || fail "the truth lacks the cases this test is about"
import json, sys
t = json.load(open(sys.argv[1]))["resip"]
w, n = t["window_check"], t["no_window_check"]
assert w["packets"] > 1000 and n["packets"] > w["packets"], "window check must matter"
assert any(len(s["providers"]) > 1 for s in w["sources"]), "multi-provider addresses"
assert len(w["daily"]) > 10
print("truth: %d RESIP packets with the window check, %d without; %d rows"
      % (w["packets"], n["packets"], t["rows"]))
PY

conf() {   # conf DIR WINDOW_CHECK TABLE
	mkdir -p "$1/state"
	cat >"$1/obscura.yaml" <<EOC
$(conf_dataplane 2 "$prefix")
telescope:
  sensors:
    - name: east
      prefixes: [198.18.0.0/24]
    - name: west
      prefixes: [198.18.16.0/24]
exchange:
  path: $1/exchange
  epoch_ms: 1000
  drain_wait_s: 5
$(conf_control "$1")
resip:
  table: $3
  window_check: $2
EOC
}
compare() {   # compare DIR MODE K
	local c=("$ctl" -t 60 -c "$1/obscura.yaml" --json)
	"${c[@]}" resip summary >"$1/summary.json" 2>>"$1/ctl.log" || fail "$2: resip summary"
	"${c[@]}" resip daily >"$1/daily.json" 2>>"$1/ctl.log" || fail "$2: resip daily"
	"${c[@]}" resip top 0 >"$1/top.json" 2>>"$1/ctl.log" || fail "$2: resip top 0"
	"${c[@]}" resip ports 0 >"$1/ports.json" 2>>"$1/ctl.log" || fail "$2: resip ports 0"
	"$py" "$here/resip_compare.py" "$1/summary.json" "$1/daily.json" "$1/top.json" \
		"$1/ports.json" "$tmp/truth.json" "$2" "$3" || fail "$2: the appliance differs from the truth"
}

# 1, 2: one replay each, window check on and off
for mode in window_check no_window_check; do
	d=$tmp/$mode
	wc=true; [ $mode = no_window_check ] && wc=false
	conf "$d" $wc "$tmp/resip.csv"
	start_cp "$d"
	timeout 600 "$dp" -c "$d/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
		>"$d/dp.log" 2>&1 || fail "$mode: obscura-dp --replay exit $?"
	compare "$d" $mode 1
	# a chosen time range (SPEC B2): days 10..29 of the traffic
	from=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["resip"]["window_check"]["daily"][10]["day"])' "$tmp/truth.json")
	to=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["resip"]["window_check"]["daily"][29]["day"])' "$tmp/truth.json")
	rc_=("$ctl" -t 60 -c "$d/obscura.yaml" --json)
	"${rc_[@]}" resip summary --from "$from" --to "$to" >"$d/r-summary.json" || fail "range summary"
	"${rc_[@]}" resip daily --from "$from" --to "$to" >"$d/r-daily.json" || fail "range daily"
	"${rc_[@]}" resip top 0 --from "$from" --to "$to" >"$d/r-top.json" || fail "range top"
	"${rc_[@]}" resip ports 0 --from "$from" --to "$to" >"$d/r-ports.json" || fail "range ports"
	"$py" - "$d" "$tmp/truth.json" $mode "$from" "$to" <<'PY' || fail "$mode: the range answers differ from the truth"
import json, sys
d, t, mode, f, to = sys.argv[1], json.load(open(sys.argv[2]))["resip"][sys.argv[3]], *sys.argv[3:]
j = lambda n: json.load(open(d + "/r-" + n + ".json"))
days = [x for x in t["daily"] if f <= x["day"] <= to]
pk, hd = sum(x["packets"] for x in days), sum(x["hosts"] for x in days)
s, dl, top, ports = j("summary"), j("daily"), j("top"), j("ports")
assert [(x["day"], x["hosts"], x["packets"]) for x in dl] == \
       [(x["day"], x["hosts"], x["packets"]) for x in days], "daily"
assert s["packets"] == pk and s["port_packets"] == pk and s["host_days"] == hd, (s, pk, hd)
assert s["days"] == len(days) and s["hosts"] == len(top), s
assert sum(x["packets"] for x in top) == pk and sum(x["days"] for x in top) == hd, "top"
assert sum(x["packets"] for x in ports) == pk, "ports"
assert s["range"] == {"from": f, "to": to}, s["range"]
print("range %s..%s: %d packets, %d hosts, %d host-days: consistent with the truth" % (f, to, pk, s["hosts"], hd))
PY
	# the state survives a control plane restart (snapshot section "resip")
	stop_cp
	start_cp "$d"
	compare "$d" $mode 1
	# 4. the report (window check on only)
	if [ $mode = window_check ]; then
		"$ctl" -t 60 -c "$d/obscura.yaml" --json report.write "$d/report" >"$d/report.json" \
			2>>"$d/ctl.log" || fail "report.write"
		for f in resip_table3_regions.csv resip_tableA1_regions.md resip_table4_domains.csv \
			resip_table5_orgs.csv resip_table6_sld.md resip_table7_top_sources.csv \
			resip_table7_top_sources.md resip_table8_ports.csv resip_table8_ports.md \
			resip_fig4_daily_hosts.svg resip_fig5_top_timeline.svg resip_fig6_port_day.svg; do
			[ -s "$d/report/$f" ] || fail "report: $f missing or empty"
		done
		"$py" - "$d/report" "$d/top.json" "$d/ports.json" <<'PY' || fail "report tables differ from the commands"
import csv, json, sys, xml.dom.minidom
d = sys.argv[1]
top, ports = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
t7 = list(csv.DictReader(ln for ln in open(d + "/resip_table7_top_sources.csv") if not ln.startswith("#")))
assert [(r["address"], int(r["packets"]), int(r["days"])) for r in t7] == \
       [(s["addr"], s["packets"], s["days"]) for s in top[:20]], "Table 7"
t8 = list(csv.DictReader(ln for ln in open(d + "/resip_table8_ports.csv") if not ln.startswith("#")))
assert [(r["proto"], int(r["port"]), int(r["packets"])) for r in t8] == \
       [(p["proto"], p["port"], p["packets"]) for p in ports[:20]], "Table 8"
for f in ("resip_fig4_daily_hosts.svg", "resip_fig5_top_timeline.svg", "resip_fig6_port_day.svg"):
    xml.dom.minidom.parse(d + "/" + f)      # well-formed
print("report: Tables 7 and 8 equal the commands; figures are well-formed SVG")
PY
	fi
	stop_cp
done

# 3. reloads during a replay (the pcap n_reps times), and bad tables refused.  The four
# bad tables are offered while the replay runs, so it must outlast them: 25 passes (10
# were once too few when the replay got faster)
n_reps=25
d=$tmp/reload
mkdir -p "$d"
cp "$tmp/resip.csv" "$d/resip.csv"
conf "$d" true "$d/resip.csv"
start_cp "$d"
reps=()
for _ in $(seq $n_reps); do reps+=("$tmp/traffic.pcap"); done
"$dp" -c "$d/obscura.yaml" --replay "${reps[@]}" --drain-timeout 120 >"$d/dp.log" 2>&1 &
dp_pid=$!
c=("$ctl" -t 30 -c "$d/obscura.yaml")
for _ in $(seq 100); do
	reload_wait "${c[@]}" -- tables reload resip >/dev/null 2>&1 && break
	kill -0 "$dp_pid" 2>/dev/null || break
	sleep 0.05
done
ok=0 bad=0
badcase() {   # badcase NAME: the configured file is bad now; the reload must be refused
	local out
	if out=$(reload_wait "${c[@]}" -- tables reload resip 2>&1); then
		fail "reload with $1 accepted: $out"
	fi
	echo "  $1: $out" | head -c 300; echo
	echo "$out" | grep -q "old table kept" || fail "reload with $1: no clear error: $out"
	bad=$((bad + 1))
}
i=0
while kill -0 "$dp_pid" 2>/dev/null && [ $i -lt 400 ]; do
	i=$((i + 1))
	if reload_wait "${c[@]}" -- tables reload resip >>"$d/reload.log" 2>&1; then
		ok=$((ok + 1))
	else
		kill -0 "$dp_pid" 2>/dev/null && ! grep -q "no running dataplane" "$d/reload.log" && \
			fail "good reload refused: $(tail -1 "$d/reload.log")"
		break
	fi
	if [ $bad = 0 ]; then
		mv "$d/resip.csv" "$d/good.csv"
		{ head -3 "$d/good.csv"; echo "1.2.3.999,ProxyAlpha,2024-01-01,2024-02-01"; } >"$d/resip.csv"
		badcase "a malformed line"
		rm -f "$d/resip.csv"
		badcase "a missing file"
		printf 'garbage\x00\x01\x02\xab\xcd\xefMaxMind.com\x01\x02' >"$d/resip.csv"
		badcase "a corrupt MMDB"
		: >"$d/resip.csv"
		badcase "an empty file"
		mv "$d/good.csv" "$d/resip.csv"
	fi
done
wait "$dp_pid"; rc=$?; dp_pid=
[ $rc = 0 ] || fail "reload: obscura-dp --replay exit $rc"
echo "reload: $ok good reloads during the replay, $bad bad tables refused"
[ $ok -ge 1 ] || fail "no reload happened during the replay (replay too short?)"
[ $bad = 4 ] || fail "the bad tables were not all offered during the replay"
grep -q "old table kept" "$d/dp.log" || fail "the dataplane log does not say the old table was kept"
compare "$d" window_check $n_reps
# the control plane's copy refused the bad files too and still has the table
"${c[@]}" --json tables status >"$d/tables.json" || fail "tables status"
"$py" - "$d/tables.json" <<'PY' || fail "tables status"
import json, sys
rows = {r["table"]: r for r in json.load(open(sys.argv[1]))}
r = rows["resip"]
assert r["loaded"] and r["addresses"] > 0 and r["error"] == "", r
print("tables status: resip %d addresses, %d providers" % (r["addresses"], r["providers"]))
PY
stop_cp

# the geography of the table (SPEC B3) through the commands and the report: the MMDB
# fixtures of tests/cp/test_resip_geo.c (MaxMind's writer), the same table and PTR file,
# the answers that test knows by construction
g=$tmp/geo
mkdir -p "$g/mmdb"
perl "$here/../fixtures/mkmmdb.pl" "$g/mmdb" >"$g/mkmmdb.log" 2>&1 || fail "mkmmdb.pl"
cat >"$g/t.csv" <<'EOT'
ip,provider,first_seen,last_seen
60.32.1.1,alpha,2024-01-01,2024-02-01
60.32.1.1,beta,2024-01-01,2024-02-01
60.32.1.2,beta,2024-01-01,2024-02-01
61.200.5.1,beta,2024-01-01,2024-02-01
61.200.5.2,gamma,2024-01-01,2024-02-01
118.0.0.7,gamma,2024-01-01,2024-02-01
126.100.1.1,alpha,2024-01-01,2024-02-01
95.100.3.4,alpha,2024-01-01,2024-02-01
9.9.9.9,alpha,2024-01-01,2024-02-01
EOT
cat >"$g/ptr.txt" <<'EOT'
60.32.1.1 p1-ipngn.tokyo.ocn.ne.jp
60.32.1.2 p2-ipngn.tokyo.ocn.ne.jp
61.200.5.1 kd111.ppp.dion.ne.jp
61.200.5.2 host.example.co.jp
118.0.0.7 softbank118.bbtec.ru
95.100.3.4 host.example.jp
EOT
conf "$g" true "$g/t.csv"
cat >>"$g/obscura.yaml" <<EOC
enrich:
  city_mmdb: $g/mmdb/city.mmdb
  asn_mmdb: $g/mmdb/asn.mmdb
  ptr_file: $g/ptr.txt
EOC
start_cp "$g"
gc=("$ctl" -t 60 -c "$g/obscura.yaml" --json)
"${gc[@]}" resip geo >"$g/region.json" || fail "resip geo"
"${gc[@]}" resip geo --by org >"$g/org.json" || fail "resip geo --by org"
"${gc[@]}" resip geo --by domain >"$g/domain.json" || fail "resip geo --by domain"
"${gc[@]}" resip geo --by sld >"$g/sld.json" || fail "resip geo --by sld"
"${gc[@]}" resip geo --country ru >"$g/ru.json" || fail "resip geo --country ru"
"${gc[@]}" resip mismatch >"$g/mismatch.json" || fail "resip mismatch"
"${gc[@]}" report.write "$g/report" >/dev/null || fail "report.write (geo)"
"$py" - "$g" <<'PY' || fail "resip geo answers differ from the fixtures'"
import csv, json, sys
g = sys.argv[1]
def rows(f):
    j = json.load(open(g + "/" + f))
    return j, {r["key"]: (r["addresses"], r["providers"]) for r in j["rows"]}
j, r = rows("region.json")
assert j["country"] == "JP" and j["addresses"] == 6 and j["no_geo"] == 1, j
assert r == {"Osaka": (2, {"beta": 1, "gamma": 1}), "Tokyo": (2, {"alpha": 1, "beta": 2}),
             "Hokkaido": (1, r["Hokkaido"][1]), "not found": (1, {"gamma": 1})}, r
assert [x["key"] for x in j["rows"]][:2] == ["Osaka", "Tokyo"]
j, r = rows("org.json")
assert {k: v[0] for k, v in r.items()} == {"NTT Communications Corporation": 2,
                                           "KDDI CORPORATION": 2, "SoftBank Corp.": 2}, r
j, r = rows("domain.json")
assert r["ocn.ne.jp"][0] == 2 and r["dion.ne.jp"][0] == 1, r
j, r = rows("sld.json")
assert r["ne"][0] == 3 and r["co"][0] == 1, r
j, r = rows("ru.json")
assert j["country"] == "RU" and {k: v[0] for k, v in r.items()} == {"Moscow": 1}, r
m = {x["addr"]: (x["geo_country"], x["ptr_tld"]) for x in json.load(open(g + "/mismatch.json"))}
assert m == {"118.0.0.7": ("JP", "RU"), "95.100.3.4": ("RU", "JP")}, m
t3 = {x["subdivision"] if "subdivision" in x else x[next(iter(x))]: int(x["addresses"])
      for x in csv.DictReader(ln for ln in open(g + "/report/resip_table3_regions.csv") if not ln.startswith("#"))}
assert t3 == {"Osaka": 2, "Tokyo": 2, "Hokkaido": 1, "not found": 1}, t3
t5 = list(csv.DictReader(ln for ln in open(g + "/report/resip_table5_orgs.csv") if not ln.startswith("#")))
assert len(t5) == 3 and sum(int(x["addresses"]) for x in t5) == 6, t5
print("geo: regions, organisations, domains, second-level labels, RU, mismatch and "
      "Tables 3/5 as built into the fixtures")
PY
stop_cp

# the table as a MaxMind residential-proxy MMDB (the fixture), in both planes: the
# dataplane loads it and the replay finds none of its addresses; the cp's copy says mmdb
m=$tmp/mmdb
conf "$m" true "$g/mmdb/resip.mmdb"
start_cp "$m"
timeout 600 "$dp" -c "$m/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	>"$m/dp.log" 2>&1 || fail "mmdb: obscura-dp --replay exit $?"
grep -q "resip table .*resip.mmdb: [1-9][0-9]* addresses" "$m/dp.log" || fail "mmdb: the dataplane did not load it"
"$ctl" -c "$m/obscura.yaml" --json resip summary >"$m/summary.json" || fail "mmdb: resip summary"
"$py" - "$m/summary.json" <<'PY' || fail "mmdb: resip summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["table"]["format"] == "mmdb" and s["table"]["loaded"] and s["table"]["addresses"] > 0, s
assert s["packets"] == 0 and s["counter_resip_packets"] == 0 and s["tel_packets"] > 0, s
print("mmdb: %d addresses from the MMDB in both planes, no RESIP traffic in this pcap"
      % s["table"]["addresses"])
PY
stop_cp

# bad CLI arguments: clear errors
conf "$tmp/cli" true "$tmp/resip.csv"
start_cp "$tmp/cli"
out=$("$ctl" -c "$tmp/cli/obscura.yaml" resip geo --by nonsense 2>&1) && fail "resip geo --by nonsense accepted"
echo "$out" | grep -q "region|domain|org|sld" || fail "resip geo --by nonsense: $out"
out=$("$ctl" -c "$tmp/cli/obscura.yaml" resip geo --country JPN 2>&1) && fail "--country JPN accepted"
echo "$out" | grep -q "two letters" || fail "resip geo --country JPN: $out"
out=$("$ctl" -c "$tmp/cli/obscura.yaml" resip top x 2>&1) && fail "resip top x accepted"
echo "$out" | grep -q "unknown word 'x'" || fail "resip top x: $out"
out=$("$ctl" -c "$tmp/cli/obscura.yaml" resip daily --from 2024-13-01 2>&1) && fail "--from 2024-13-01 accepted"
echo "$out" | grep -q "not a date" || fail "resip daily --from 2024-13-01: $out"
out=$("$ctl" -c "$tmp/cli/obscura.yaml" resip summary --from 2024-05-02 --to 2024-05-01 2>&1) && fail "from > to accepted"
echo "$out" | grep -q "after" || fail "from > to: $out"
stop_cp
echo "PASS"
