#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scan_truth.sh OBSCURA_GEN OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# SPEC.md A end to end: obscura-gen writes months of telescope traffic with routine,
# semi-routine and ad-hoc scanner blocks, near misses (29 ports, 5 months, coverage
# 0.65), Mirai bots, botnet noise and out-of-order timestamps, plus its truth; obscura-dp
# --replay feeds it through the exchange to obscura-cp; then `obscuractl --json scan
# list --all`, `scan cells` and `scan ports 0` must equal tests/reference/scan_ref.py's
# answer cell by cell and class by class, and every truth block must get its expected
# class.  The same comparison runs again with per-query overrides (alpha, n, m, J*, S*,
# values exactly at alpha/n/m taken from the data, m = 1 for single wide-area periods, a
# period range).  Then a report is written and checked, and bad CLI arguments must give
# clear errors.  A second run uses ISO weeks as the period.  A third replays the pcap 12
# times while the scanner table is reloaded again and again (ctl and SIGHUP) and once
# from a bad file (refused, old table kept): scanner_packets and every total must be
# exactly 12 x the reference (nothing lost or counted twice across the swaps).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"   # $py, $src, e2e_setup, fail, gen_traffic, start_cp, reload_wait ...
e2e_setup scan gen dp cp ctl -- "$@"

# two /27s: |D| = 64 = |S|, so 200k frames hold every class (bench/README.md)
gen_traffic --packets 400000 --seed 7 --start 2024-01-01T00:00:00Z --span 400d \
	--sensor east=198.18.0.0/27 --sensor west=198.18.16.0/27 \
	--mix background=0.2,backscatter=0.08,mirai=0.1,scanner=0.5,resip=0.08,payload=0.04 \
	--backwards-share 0.002 --quiet
# the scanner table: the shipped list plus one truth block's /24, so the overlap column
# has a yes and many no
blk=$("$py" -c 'import json,sys; b=[x["block"] for x in json.load(open(sys.argv[1]))["scanner_blocks"] if x["block"]]; print(b[0].split("/")[0])' "$tmp/truth.json")
{ cat "$src/conf/scanner-ips.txt"; echo "${blk%.0.0}.7.0/24 test-research-scanner"; } >"$tmp/scanners.txt"

conf() {   # conf DIR PERIOD SCANNER_FILE [CITY_MMDB]
	mkdir -p "$1/state"
	cat >"$1/obscura.yaml" <<EOF
$(conf_dataplane 2 "$prefix-$(basename "$1")")
telescope:
  sensors:
    - name: east
      prefixes: [198.18.0.0/27]
    - name: west
      prefixes: [198.18.16.0/27]
tables:
  scanner_file: $3
exchange:
  path: $1/exchange
  epoch_ms: 1000
  drain_wait_s: 5
$(conf_control "$1")
analysis:
  period: $2
enrich:
  city_mmdb: "${4:-}"
EOF
}

# countries (SPEC A7 through libmaxminddb): each truth block's /16 gets a country and the
# upper half of every other one another, so the busiest /24 decides; scan_ref.py reads
# the same map as text
"$py" - "$tmp/truth.json" >"$tmp/countries.txt" <<'EOF'
import json, sys
cc = ["JP", "US", "DE", "NL", "CN", "BR", "RU", "FR", "GB", "KR", "IN", "SG"]
blocks = [b["block"] for b in json.load(open(sys.argv[1]))["scanner_blocks"] if b["block"]]
for i, b in enumerate(blocks):
    print("%s %s" % (b, cc[i % len(cc)]))
    if i % 2 == 0:
        a = b.split("/")[0].split(".")
        print("%s.%s.128.0/17 %s" % (a[0], a[1], cc[(i + 5) % len(cc)]))
EOF
perl "$here/mkcountry.pl" "$tmp/countries.txt" "$tmp/countries.mmdb" || fail "mkcountry.pl"

d=$tmp/month
conf "$d" month "$tmp/scanners.txt" "$tmp/countries.mmdb"
start_cp "$d"
timeout 600 "$dp" -c "$d/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	>"$d/dp.log" 2>&1 || fail "obscura-dp --replay exit $?"

ctl() { "$ctl" -t 120 -c "$d/obscura.yaml" "$@"; }
refargs=(--prefix 198.18.0.0/27 --prefix 198.18.16.0/27 --scanner-file "$tmp/scanners.txt"
         --country-map "$tmp/countries.txt")

# time going backwards is counted (and the packets still count at their own time)
ctl --json stats >"$tmp/stats.json" 2>>"$tmp/ctl.log" || fail "obscuractl stats"
"$py" - "$tmp/stats.json" "$tmp/truth.json" <<'EOF' || fail "time_backwards differs from the truth"
import json, sys
s, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
def find(o):
    if isinstance(o, dict):
        if "time_backwards" in o and isinstance(o["time_backwards"], int):
            return o["time_backwards"]
        for v in o.values():
            r = find(v)
            if r is not None:
                return r
got, want = find(s), t["totals"]["time_backwards"]
print("time_backwards: appliance %s truth %s" % (got, want))
sys.exit(0 if got == want and want > 0 else 1)
EOF

ctl --json scan cells >"$tmp/cells.json" 2>>"$tmp/ctl.log" || fail "obscuractl scan cells"
check() {   # check NAME "OVERRIDE WORDS" "REFERENCE ARGS" [TRUTH]
	local name=$1 words=$2 rargs=$3 truth=${4:-}
	# shellcheck disable=SC2086
	ctl --json scan list --all --periods $words >"$tmp/list-$name.json" 2>>"$tmp/ctl.log" || fail "$name: scan list"
	# shellcheck disable=SC2086
	ctl --json scan ports 0 $words >"$tmp/ports-$name.json" 2>>"$tmp/ctl.log" || fail "$name: scan ports"
	# shellcheck disable=SC2086
	"$py" "$src/tests/reference/scan_ref.py" "$tmp/traffic.pcap" "${refargs[@]}" $rargs --top 100000 \
		--out "$tmp/ref-$name.json" || fail "$name: scan_ref.py"
	"$py" "$here/scan_compare.py" "$tmp/list-$name.json" "$tmp/cells.json" "$tmp/ports-$name.json" \
		"$tmp/ref-$name.json" $truth || fail "$name: the appliance differs from the reference"
}
check defaults "" "" "$tmp/truth.json"
check overrides "--alpha 0.5 --n 20 --m 4 --jstar 0.9 --sstar 0.5" "--alpha 0.5 --n 20 --m 4 --jstar 0.9 --sstar 0.5"
check single "--m 1 --n 5" "--m 1 --n 5"

# exact thresholds on real data: alpha = the coverage of a real cell, n = a real |P_t|
read -r a n m < <("$py" - "$tmp/ref-defaults.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
hits = sorted({c["hits"] for c in r["cells"] if c["hits"]})
a = hits[len(hits) // 2] / r["sample_size"]          # a coverage value cells really have
b = [x for x in r["blocks"] if x["class"] != "none"][0]
print("%r %d %d" % (a, b["pmin"], b["n_wide"]))      # exactly |P_t| and |T(A)| of a block
EOF
)
check exact "--alpha $a --n $n --m $m" "--alpha $a --n $n --m $m"

# a period range (the list's from/to) against the reference's first/last on the range
ctl --json scan list --from 2024-03 --to 2024-09 >"$tmp/range.json" 2>>"$tmp/ctl.log" || fail "scan list --from --to"
"$py" - "$tmp/range.json" <<'EOF' || fail "scan list --from/--to: a block outside the range"
import json, sys
d = json.load(open(sys.argv[1]))
bad = [b for b in d["blocks"] if b["first"] < "2024-03" or b["last"] > "2024-09"]
sys.exit(1 if bad else 0)
EOF

# scan show / params / report
first=$("$py" -c 'import json,sys; print([b["block"] for b in json.load(open(sys.argv[1]))["blocks"] if b["class"]!="none"][0])' "$tmp/list-defaults.json")
ctl --json scan show "$first" >"$tmp/show.json" 2>>"$tmp/ctl.log" || fail "scan show"
ctl scan params >"$tmp/params.txt" 2>>"$tmp/ctl.log" || fail "scan params"
ctl scan list >"$tmp/list.txt" 2>>"$tmp/ctl.log" || fail "scan list (text)"
mkdir -p "$tmp/report"
ctl --json scan report "$tmp/report" >"$tmp/report.json" 2>>"$tmp/ctl.log" || fail "scan report"
for f in scan-table3.csv scan-table3.md scan-table2.csv scan-table2.md scan-countries.svg scan-js.svg scan-block.svg; do
	[ -s "$tmp/report/$f" ] || fail "report: $f missing or empty"
done
"$py" -c 'import sys, xml.dom.minidom as m; [m.parse(f) for f in sys.argv[1:]]' "$tmp"/report/*.svg \
	|| fail "report: an SVG is not well-formed XML"

# bad arguments: clear errors, the server stays up
for bad in "scan list --class often" "scan list --alpha 2" "scan list --from 2024-13" \
           "scan list --L 24" "scan show 300.1.2.3" "scan show" "scan ports -3" \
           "scan report relative/dir" "scan list --n"; do
	# shellcheck disable=SC2086
	if ctl $bad >"$tmp/bad.out" 2>&1; then fail "'$bad' succeeded"; fi
	grep -qi "error\|bad\|invalid\|needs\|not\|unknown\|fixed" "$tmp/bad.out" || fail "'$bad': no clear message: $(cat "$tmp/bad.out")"
done
ctl status >/dev/null 2>&1 || fail "obscura-cp down after bad arguments"

stop_cp
# the coverage store survives a control-plane restart (snapshot section): same answer
start_cp "$d"
ctl --json scan list --all --periods >"$tmp/list-restart.json" 2>>"$tmp/ctl.log" || fail "restart: scan list"
"$py" - "$tmp/list-defaults.json" "$tmp/list-restart.json" <<'EOF' || fail "restart: scan list changed across a cp restart"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a["blocks"] == b["blocks"] and a["cells"] == b["cells"] else 1)
EOF
stop_cp

# ---- the control plane SIGKILLed mid-replay and restarted: the journal replays the
# drained epochs, nothing lost, nothing counted twice -- cells still equal the reference
d=$tmp/kill
conf "$d" month "$tmp/scanners.txt" "$tmp/countries.mmdb"
start_cp "$d"
"$dp" -c "$d/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 >"$d/dp.log" 2>&1 &
dp_pid=$!
sleep 0.4
kill -KILL "$cp_pid"; wait "$cp_pid" 2>/dev/null; cp_pid=
kill -0 "$dp_pid" 2>/dev/null || echo "kill: note: the replay had already finished"
start_cp "$d"
wait "$dp_pid" || fail "kill: obscura-dp exit $?"
ctl --json scan cells >"$tmp/cells.json" 2>>"$tmp/ctl.log" || fail "kill: scan cells"
grep -h "journal: replayed" "$d/cp.log" | sed "s/^/kill: /" || echo "kill: note: no journal replay (the snapshot held everything)"
check kill "" "" "$tmp/truth.json"
stop_cp

# ---- ISO weeks as the period: cells and classes against the reference
d=$tmp/week
conf "$d" week "$tmp/scanners.txt" "$tmp/countries.mmdb"
start_cp "$d"
timeout 600 "$dp" -c "$d/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	>"$d/dp.log" 2>&1 || fail "week: obscura-dp --replay exit $?"
ctl --json scan cells >"$tmp/cells.json" 2>>"$tmp/ctl.log" || fail "week: scan cells"
check week "--n 3 --m 2" "--period week --n 3 --m 2"
stop_cp

# ---- scanner table reloads under traffic: the pcap 12 times, reloads all along
d=$tmp/reload
big=${blk%.0.0}
cat >"$tmp/scanA.txt" <<EOF
# two prefixes with traffic, labelled A
$big.0.0/16 big-A
198.51.100.0/24 unused-A
EOF
cat >"$tmp/scanB.txt" <<EOF
# the same coverage, other labels and order, one more unused prefix: B
203.0.113.0/24 unused-B
$big.0.0/17 big-low-B
$big.128.0/17 big-high-B
EOF
# a bad file covering less: had any of it been taken, scanner_packets would come out short
printf '%s\n' "$big.0.0/24 ok" "$big.7.1/24 host-bits" >"$tmp/scanBad.txt"
cp "$tmp/scanA.txt" "$tmp/scan-live.txt"
conf "$d" month "$tmp/scan-live.txt"
start_cp "$d"
"$py" "$src/tests/reference/scan_ref.py" "$tmp/traffic.pcap" --prefix 198.18.0.0/27 \
	--prefix 198.18.16.0/27 --scanner-file "$tmp/scanA.txt" --out "$tmp/ref-reload.json" \
	|| fail "reload: scan_ref.py"
copies=40   # a replay of several seconds: the reload loop below runs against it
files=()
for _ in $(seq $copies); do files+=("$tmp/traffic.pcap"); done
"$dp" -c "$d/obscura.yaml" --drain-timeout 120 --replay "${files[@]}" >"$d/dp.log" 2>&1 &
dp_pid=$!
reloads=0 hups=0 bad_seen=0
# the first reload succeeds once the control plane has attached to the running dataplane
for _ in $(seq 300); do
	kill -0 "$dp_pid" 2>/dev/null || fail "reload: the dataplane ended before the first reload"
	reload_wait "$ctl" -t 120 -c "$d/obscura.yaml" -- tables reload >>"$d/reloads.out" 2>&1 && { reloads=1; break; }
	sleep 0.1
done
[ $reloads = 1 ] || fail "reload: tables reload never succeeded: $(tail -1 "$d/reloads.out")"
# the dataplane's table version (tables status, obscura_table_version): 1 from its start,
# +1 for the reload just accepted; a refused reload keeps it (checked below)
tver() {
	ctl --json tables status | "$py" -c 'import json, sys
print({t["table"]: t["version"] for t in json.load(sys.stdin)}[sys.argv[1]])' "$1"
}
v=$(tver scanner); [ "$v" = 2 ] || fail "reload: scanner version $v after the start and one reload, not 2"
for i in $(seq 1 400); do
	kill -0 "$dp_pid" 2>/dev/null || break
	case $((i % 4)) in
	0) cp "$tmp/scanA.txt" "$tmp/scan-live.tmp" ;;
	*) cp "$tmp/scanB.txt" "$tmp/scan-live.tmp" ;;
	esac
	mv "$tmp/scan-live.tmp" "$tmp/scan-live.txt"
	if [ $((i % 5)) = 0 ]; then
		kill -HUP "$dp_pid" 2>/dev/null && hups=$((hups + 1))
	elif [ $bad_seen = 0 ] && [ "$i" -ge 3 ]; then
		cp "$tmp/scanBad.txt" "$tmp/scan-live.txt"
		vb=$(tver scanner)
		if reload_wait "$ctl" -t 120 -c "$d/obscura.yaml" -- tables reload >"$d/bad-reload.out" 2>&1; then
			kill -0 "$dp_pid" 2>/dev/null && fail "reload of a bad file succeeded"
		else
			# the replay may end while the request waits: it is then answered unanswered
			if grep -q "unanswered: the dataplane finished" "$d/bad-reload.out" &&
			   ! kill -0 "$dp_pid" 2>/dev/null; then
				break
			fi
			grep -q ":2: host bits set" "$d/bad-reload.out" \
				|| fail "bad reload: unclear error: $(cat "$d/bad-reload.out")"
			va=$(tver scanner)
			[ "$va" = "$vb" ] || fail "bad reload: the scanner version moved $vb -> $va"
			bad_seen=1
		fi
		sleep 0.5   # a whole copy of the pcap flows against whatever table is live now
		cp "$tmp/scanA.txt" "$tmp/scan-live.txt"
	else
		reload_wait "$ctl" -t 120 -c "$d/obscura.yaml" -- tables reload >>"$d/reloads.out" 2>&1 && reloads=$((reloads + 1))
	fi
	sleep 0.02
done
wait "$dp_pid" || fail "reload: obscura-dp exit $?"
echo "reload: $reloads ctl reloads, $hups SIGHUPs, bad file refused: $bad_seen"
[ "$reloads" -ge 3 ] || fail "reload: only $reloads reloads happened while the dataplane ran"
[ "$bad_seen" = 1 ] || fail "reload: the bad file was never tried while the dataplane ran"
ctl --json stats >"$d/stats.json" 2>>"$tmp/ctl.log" || fail "reload: stats"
"$py" - "$d/stats.json" "$tmp/ref-reload.json" "$tmp/truth.json" $copies <<'EOF' || fail "reload: totals are not exactly $copies x the reference"
import json, sys
s, r, t = (json.load(open(p)) for p in sys.argv[1:4])
k = int(sys.argv[4])
def find(o, k):
    if isinstance(o, dict):
        if k in o and isinstance(o[k], int):
            return o[k]
        for v in o.values():
            x = find(v, k)
            if x is not None:
                return x
got = {k: find(s, k) for k in ("scanner_packets", "tel_packets", "rx_packets", "lost_updates", "cov_syns")}
want = {"scanner_packets": k * r["scanner_packets"], "tel_packets": k * t["totals"]["tel_packets"],
        "rx_packets": k * t["totals"]["rx_packets"], "lost_updates": 0, "cov_syns": k * r["syn_packets"]}
print("reload totals: appliance %s, expected %s" % (got, want))
sys.exit(0 if got == want and want["scanner_packets"] > 0 else 1)
EOF
stop_cp
echo "scan_truth: ok"

