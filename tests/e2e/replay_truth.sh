#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# replay_truth.sh OBSCURA_GEN OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# The whole appliance against a known answer: obscura-gen writes ~20k frames of every
# traffic kind (malformed frames of every drop reason, VLAN tags, out-of-order times,
# three sensors, one of them with two prefixes) and its ground truth; obscura-cp starts
# on a private config; obscura-dp --replay feeds the pcap through the exchange and exits
# once the cp has drained everything; then `obscuractl --json stats` and `sources top`
# must equal the truth exactly (compare_truth.py).  Once with 1 worker, once with 2.
set -uo pipefail
gen=$(realpath "$1") dp=$(realpath "$2") cp=$(realpath "$3") ctl=$(realpath "$4")
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
. "$here/lib.sh"   # e2e_init, fail, start_cp DIR, stop_cp
e2e_init e2e

sensors=(--sensor east=198.18.0.0/20 --sensor west=198.18.16.0/20 --sensor north=203.0.113.0/24,198.51.100.0/25)
"$gen" --packets 20000 --seed 2024 --malformed-share 0.02 --vlan-share 0.05 --backwards-share 0.002 \
	"${sensors[@]}" --out "$tmp/traffic.pcap" --truth "$tmp/truth.json" || fail "obscura-gen"
# the truth itself, recomputed from the bytes by an independent parser reference
"$py" "$here/pcap_truth.py" "$tmp/traffic.pcap" "$tmp/truth.json" || fail "truth does not match the pcap"

scenario() {   # scenario NAME WORKERS
	local name=$1 workers=$2 d=$tmp/$1
	mkdir -p "$d/state"
	cat >"$d/obscura.yaml" <<EOF
dataplane:
  workers: $workers
  hugepages: no
  file_prefix: $prefix-$name
telescope:
  sensors:
    - name: east
      prefixes: [198.18.0.0/20]
    - name: west
      prefixes: [198.18.16.0/20]
    - name: north
      prefixes: [203.0.113.0/24, 198.51.100.0/25]
exchange:
  path: $d/exchange
  epoch_ms: 1000
  src_capacity: 65536
  drain_wait_s: 5
control:
  state_dir: $d/state
  socket: $d/ctl.sock
  socket_ro: $d/ctl-ro.sock
  socket_group: ""
  user: ""
EOF
	echo "# $name: $workers worker(s)"
	start_cp "$d"

	timeout 300 "$dp" -c "$d/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
		>"$d/dp.log" 2>&1 || fail "$name: obscura-dp --replay exit $?"

	"$ctl" -c "$d/obscura.yaml" --json stats >"$d/stats.json" 2>"$d/ctl.log" || fail "$name: obscuractl stats"
	"$ctl" -c "$d/obscura.yaml" --json sources top 100000 >"$d/sources.json" 2>>"$d/ctl.log" \
		|| fail "$name: obscuractl sources top"
	"$ctl" -c "$d/obscura.yaml" stats >"$d/stats.txt" 2>>"$d/ctl.log" || fail "$name: obscuractl stats (text)"
	"$py" "$here/compare_truth.py" "$d/stats.json" "$d/sources.json" "$tmp/truth.json" \
		|| fail "$name: the appliance's report differs from the truth"

	stop_cp
}

scenario one 1
scenario two 2
echo "replay_truth: ok"
