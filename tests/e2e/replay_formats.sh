#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# replay_formats.sh OBSCURA_GEN OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# One capture, every input format and worker count, the same analysis results.
# obscura-gen writes its default mix (RESIP table, payload packets for the shipped rules);
# it is replayed through the whole appliance as .pcap with 1 worker (the reference), and
# again as .pcap with 2 workers, .pcapng, .pcap.gz in 3 gzip members with 2 workers,
# .pcapng.zst in 2 zstd frames with 3 workers, gzip data named .pcap (the format is
# told by magic), and a .pcapng with two more frames at impossible times (dropped and
# counted).  Every analysis command's JSON (stats totals, sources, scan, resip,
# life) must equal the reference's exactly, once the fields that describe the run
# rather than the traffic (per-worker split, epochs, timings) are set aside.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"   # $py, $src, e2e_setup, fail, gen_traffic, start_cp, stop_cp ...
e2e_setup formats gen dp cp ctl -- "$@"
command -v zstd >/dev/null || fail "no zstd command (deploy/setup installs it)"

gen_traffic --packets 60000 --seed 515 --backwards-share 0 --resip-table "$tmp/resip.csv" --quiet
fmt() { "$py" "$here/capture_formats.py" "$@" || fail "capture_formats.py $*"; }
fmt pcapng "$tmp/traffic.pcap" "$tmp/traffic.pcapng"
fmt badtime "$tmp/traffic.pcap" "$tmp/badtime.pcapng"
fmt gzip "$tmp/traffic.pcap" "$tmp/traffic.pcap.gz" 3
fmt gzip "$tmp/traffic.pcap" "$tmp/really-gzip.pcap"
# two zstd frames one after the other (RFC 8878 3.1: a stream is a sequence of frames)
head -c 1000000 "$tmp/traffic.pcapng" | zstd -q -c >"$tmp/traffic.pcapng.zst" || fail zstd
tail -c +1000001 "$tmp/traffic.pcapng" | zstd -q -c >>"$tmp/traffic.pcapng.zst" || fail zstd

scenario() {   # scenario NAME WORKERS FILE
	local name=$1 d=$tmp/$1 c
	mkdir -p "$d/state"
	cat >"$d/obscura.yaml" <<EOF
$(conf_dataplane "$2" "$prefix-$name")
telescope:
  sensors:
    - name: east
      prefixes: [198.18.0.0/20]
    - name: west
      prefixes: [198.18.16.0/20]
exchange:
  path: $d/exchange
  drain_wait_s: 5
resip:
  table: $tmp/resip.csv
rules:
  files: [$src/conf/rules/obscura.rules]
$(conf_control "$d")
EOF
	start_cp "$d"
	timeout 300 "$dp" -c "$d/obscura.yaml" --replay "$3" --drain-timeout 120 \
		>"$d/dp.log" 2>&1 || fail "$name: obscura-dp --replay exit $?"
	grep -q "end to end" "$d/dp.log" || fail "$name: no end-to-end line"
	c=("$ctl" -t 60 -c "$d/obscura.yaml" --json)
	while read -r out cmd; do
		# shellcheck disable=SC2086
		"${c[@]}" $cmd >"$d/$out.json" 2>>"$d/ctl.log" || fail "$name: obscuractl $cmd"
	done <<'EOC'
stats stats
sources sources top 100000
scan_list scan list --all
scan_cells scan cells
scan_ports scan ports 0
resip_summary resip summary
resip_daily resip daily
resip_top resip top 0
resip_ports resip ports 0
life_summary life summary
life_days life cdf --unit days
life_events life cdf --unit events
life_sensors life sensors
life_categories life categories
EOC
	stop_cp
}

scenario ref 1 "$tmp/traffic.pcap"
"$py" - "$tmp/ref" "$tmp/truth.json" <<'EOF' || fail "the reference run does not see the whole capture"
import json, sys
s, t = json.load(open(sys.argv[1] + "/stats.json")), json.load(open(sys.argv[2]))
tot = s.get("total", s)
assert tot["rx_packets"] == t["totals"]["rx_packets"], (tot["rx_packets"], t["totals"])
assert tot["lost_updates"] == 0
EOF
for s in "w2 2 traffic.pcap" "ng 1 traffic.pcapng" "gz 2 traffic.pcap.gz" \
	"zst 3 traffic.pcapng.zst" "magic 1 really-gzip.pcap" "badtime 1 badtime.pcapng"; do
	set -- $s
	echo "# $1: $2 worker(s), $3"
	scenario "$1" "$2" "$tmp/$3"
	grep -q "replay: reading .*$3 (pcap" "$tmp/$1/dp.log" || fail "$1: format not logged"
	"$py" "$here/replay_same.py" "$tmp/ref" "$tmp/$1" || fail "$1: analysis results differ from the 1-worker .pcap run"
done
grep -q "really-gzip.pcap (pcap.gz)" "$tmp/magic/dp.log" || fail "magic: gzip named .pcap not read as gzip"
# two extra frames at impossible times: dropped and counted, the results as without them
grep -q "replay: 2 frame(s) dropped: a capture time before 1970 or after" "$tmp/badtime/dp.log" ||
	fail "badtime: the two impossible times are not counted: $(grep -i 'time' "$tmp/badtime/dp.log")"
echo "replay_formats: ok"
