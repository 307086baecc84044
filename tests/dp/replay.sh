#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# dp replay test: pcap with a known answer -> obscura-dp --replay -> exchange ->
# xchg_dump (the drainer) -> exact comparison.  Also: 2 workers (lcores share CPUs),
# several files, forced early swaps with a slow drainer, and an earlier boot's
# undrained exchange (drained during the wait, or moved aside as .prev-<boot id>).
#
# usage: replay.sh OBSCURA_DP XCHG_DUMP SRCDIR
set -u
DP=$1 DUMP=$2 SRC=$3
PY=/usr/bin/python3           # system python: the one with scapy
CMP="$PY $SRC/compare.py"
T=$(mktemp -d /tmp/obs-dp-replay.XXXXXX)
PREFIX=obs-t-replay-$$
cleanup() { rm -rf "$T" "/var/run/dpdk/$PREFIX"* 2>/dev/null; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; exit 1; }

$PY -c 'import scapy' 2>/dev/null || fail "$PY has no scapy (apt-get install python3-scapy)"
$PY "$SRC/gen_pcap.py" cases "$T/cases.pcap" "$T/cases.json" || fail "gen_pcap cases"
$PY "$SRC/gen_pcap.py" sources "$T/src5000.pcap" 5000 || fail "gen_pcap sources"
$PY "$SRC/gen_pcap.py" garbage "$T/garbage20k.pcap" 20000 || fail "gen_pcap garbage"

. "$SRC/lib.sh"   # dp_conf
conf() {   # conf FILE WORKERS EXCHANGE [DRAIN_WAIT]
	dp_conf "$1" "$PREFIX-$2" "$2" "$3" 10 "${4:-1}"
}

# run NAME WORKERS [DUMP ARGS...] -- [DP ARGS...]: dp + drainer, drainer JSON in $T/NAME.json
run() {
	local name=$1 w=$2; shift 2
	local dargs=() 
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do dargs+=("$1"); shift; done
	shift
	conf "$T/$name.yaml" "$w" "$T/$name.x"
	"$DUMP" --timeout 60 "${dargs[@]}" "$T/$name.x" > "$T/$name.json" 2> "$T/$name.dump.log" &
	local dpid=$!
	timeout 120 "$DP" -c "$T/$name.yaml" "$@" --drain-timeout 30 > "$T/$name.dp.log" 2>&1
	local rc=$?
	wait $dpid; local drc=$?
	[ $rc -eq 0 ] || fail "$name: obscura-dp exit $rc"
	[ $drc -eq 0 ] || fail "$name: xchg_dump exit $drc"
	grep -q "every slot drained" "$T/$name.dp.log" || fail "$name: dp did not see the drain"
}

echo "# 1 worker, the cases pcap"
run one 1 -- --replay "$T/cases.pcap"
$CMP exact "$T/one.json" "$T/cases.json" --workers 1 || fail "one"

echo "# 2 workers (3 lcores on $(nproc) CPUs), same answer"
run two 2 -- --replay "$T/cases.pcap"
$CMP exact "$T/two.json" "$T/cases.json" --workers 2 --no-backwards || fail "two"
if [ "$(nproc)" -lt 3 ]; then
	# fewer CPUs than lcores: lcores share CPUs through an --lcores mapping
	grep -q -- "--lcores 0@[0-9]*,1@[0-9]*,2@[0-9]*" "$T/two.dp.log" || fail "two: no --lcores mapping"
else
	grep -q -- " -l [0-9]*,[0-9]*,[0-9]*" "$T/two.dp.log" || fail "two: no -l list"
fi

echo "# three files in one replay"
run three 1 -- --replay "$T/cases.pcap" "$T/cases.pcap" "$T/cases.pcap"
$CMP exact "$T/three.json" "$T/cases.json" --times 3 --workers 1 || fail "three"

echo "# 5000 sources in one epoch, capacity 1024, slow drainer: forced swaps, replay waits, nothing lost"
run forced 1 --delay-ms 3 -- --replay "$T/src5000.pcap"
$CMP conserved "$T/forced.json" 5000 || fail "forced"
$PY - "$T/forced.json" <<'EOP' || fail "forced: no forced epoch, or replay lost updates instead of waiting"
import json, sys
g = json.load(open(sys.argv[1]))
assert g["forced_epochs"] >= 1, g["forced_epochs"]
lost = g["counters"]["lost_updates"] if "counters" in g else g["totals"]["lost_updates"]
assert lost == 0, "replay must wait for the drain, not lose: lost_updates=%d" % lost
EOP

echo "# 20000 garbage frames: no crash, every frame counted, 2 workers"
run garbage 2 -- --replay "$T/garbage20k.pcap"
$CMP counted "$T/garbage.json" 20000 || fail "garbage"

echo "# an earlier boot's undrained exchange, drained during the wait"
conf "$T/old.yaml" 1 "$T/old.x" 10
timeout 60 "$DP" -c "$T/old.yaml" --replay "$T/cases.pcap" --drain-timeout 1 > "$T/old1.dp.log" 2>&1 \
	|| fail "old1: exit $?"
grep -q "giving up waiting for the control plane" "$T/old1.dp.log" || fail "old1: no give-up message"
"$DUMP" --timeout 60 "$T/old.x" > "$T/old1.json" 2> "$T/old1.dump.log" &
dpid=$!
sleep 0.5
timeout 60 "$DP" -c "$T/old.yaml" --replay "$T/cases.pcap" --drain-timeout 1 > "$T/old2.dp.log" 2>&1 \
	|| fail "old2: exit $?"
wait $dpid || fail "old1 drain"
$CMP exact "$T/old1.json" "$T/cases.json" --workers 1 || fail "old1 data"
grep -q "is drained; replacing\|drained; replacing" "$T/old2.dp.log" || fail "old2: did not wait for the drain"
ls "$T"/old.x.prev-* >/dev/null 2>&1 && fail "old2: moved aside a drained file"
"$DUMP" --once "$T/old.x" > "$T/old2.json" 2> "$T/old2.dump.log" || fail "old2 dump"
$CMP exact "$T/old2.json" "$T/cases.json" --workers 1 || fail "old2 data"

echo "# an earlier boot's undrained exchange, nobody drains: moved aside, never lost"
conf "$T/aside.yaml" 1 "$T/aside.x" 1
timeout 60 "$DP" -c "$T/aside.yaml" --replay "$T/cases.pcap" --drain-timeout 0 > "$T/aside1.dp.log" 2>&1 \
	|| fail "aside1: exit $?"
boot1=$(grep -o 'boot [0-9a-f]\{16\}' "$T/aside1.dp.log" | head -1 | cut -d' ' -f2)
timeout 60 "$DP" -c "$T/aside.yaml" --replay "$T/cases.pcap" --drain-timeout 0 > "$T/aside2.dp.log" 2>&1 \
	|| fail "aside2: exit $?"
[ -f "$T/aside.x.prev-$boot1" ] || fail "aside2: no $T/aside.x.prev-$boot1 ($(ls $T))"
grep -q "moved .*aside.x to .*aside.x.prev-$boot1" "$T/aside2.dp.log" || fail "aside2: move not logged"
"$DUMP" --once "$T/aside.x.prev-$boot1" > "$T/aside1.json" || fail "aside1 dump"
$CMP exact "$T/aside1.json" "$T/cases.json" --workers 1 || fail "aside1 data"
"$DUMP" --once "$T/aside.x" > "$T/aside2.json" || fail "aside2 dump"
$CMP exact "$T/aside2.json" "$T/cases.json" --workers 1 || fail "aside2 data"

echo "# live mode on a net_pcap port: the pcap record time (us) is the packet time"
conf "$T/pcapport.yaml" 1 "$T/pcapport.x"
# the live variant of the cases: net_pcap reports caplen as the packet length, so the
# short-snaplen frames (caplen < len) cannot be told apart from malformed ones there
$PY "$SRC/gen_pcap.py" cases-live "$T/cases-live.pcap" "$T/cases-live.json" || fail "gen_pcap cases-live"
sed -i "s|^  file_prefix.*|&\n  ports:\n    - name: pc\n      device: \"net_pcap0,rx_pcap=$T/cases-live.pcap\"|" "$T/pcapport.yaml"
"$DUMP" --timeout 60 "$T/pcapport.x" > "$T/pcapport.json" 2> "$T/pcapport.dump.log" &
dpid=$!
timeout 60 "$DP" -c "$T/pcapport.yaml" > "$T/pcapport.dp.log" 2>&1 &
ppid=$!
for i in $(seq 1 100); do grep -qs "running:" "$T/pcapport.dp.log" && break; sleep 0.1; done
sleep 1.5
kill -TERM $ppid
wait $ppid || fail "pcapport: exit $?"
wait $dpid || fail "pcapport: drain"
grep -q "timestamps pcap" "$T/pcapport.dp.log" || fail "pcapport: pcap timestamps not used"
n_live=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["rx_packets"])' "$T/cases-live.json")
$CMP exact "$T/pcapport.json" "$T/cases-live.json" --workers 1 --port-packets "$n_live" || fail "pcapport"

echo "# bad input files fail before EAL"
echo garbage > "$T/garbage.pcap"
conf "$T/bad.yaml" 1 "$T/bad.x"
timeout 30 "$DP" -c "$T/bad.yaml" --replay "$T/garbage.pcap" > "$T/bad.dp.log" 2>&1 && fail "garbage pcap accepted"
grep -q "cannot open" "$T/bad.dp.log" || fail "garbage pcap: no message"

echo "PASS"
