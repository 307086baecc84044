#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# dp replay test: pcap with a known answer -> obscura-dp --replay -> exchange ->
# xchg_dump (the drainer) -> exact comparison.  Also: the same capture as pcapng, gzip,
# zstd and gzip under a .pcap name (same answer); truncated, corrupt and trailing-garbage
# compressed files and a cut pcap (exit 1, the reason logged, every frame before the
# damage counted, later files still read); files refused before EAL with their reason;
# 2 workers (lcores share CPUs),
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

echo "# the exchange is the dataplane's and the control plane's only: 0600, given to control.user"
[ "$(stat -c '%a %u' "$T/one.x")" = "600 $(id -u)" ] \
	|| fail "one: exchange mode/owner $(stat -c '%a %u' "$T/one.x"), want 600 $(id -u)"
if [ "$(id -u)" = 0 ]; then
	conf "$T/own.yaml" 1 "$T/own.x"
	printf 'control:\n  user: nobody\n' >> "$T/own.yaml"
	"$DUMP" --timeout 60 "$T/own.x" > "$T/own.json" 2> "$T/own.dump.log" &
	dpid=$!
	timeout 120 "$DP" -c "$T/own.yaml" --replay "$T/cases.pcap" --drain-timeout 30 \
		> "$T/own.dp.log" 2>&1 || fail "own: obscura-dp exit $?"
	wait $dpid || fail "own: xchg_dump"
	[ "$(stat -c '%a %U' "$T/own.x")" = "600 nobody" ] \
		|| fail "own: exchange mode/owner $(stat -c '%a %U' "$T/own.x"), want 600 nobody"
	$CMP exact "$T/own.json" "$T/cases.json" --workers 1 || fail "own"
fi

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

echo "# the cases capture as pcapng, gzip (2 members), zstd, and gzip named .pcap: the same answer"
FMT="$PY $SRC/../e2e/capture_formats.py"
command -v zstd >/dev/null || fail "no zstd command (deploy/setup installs it)"
$FMT pcapng "$T/cases.pcap" "$T/cases.pcapng" || fail "pcapng conversion"
$FMT gzip "$T/cases.pcap" "$T/cases.pcap.gz" 2 || fail "gzip"
zstd -q -c "$T/cases.pcapng" > "$T/cases.pcapng.zst" || fail "zstd"
cp "$T/cases.pcap.gz" "$T/gzip-named.pcap"
for f in cases.pcapng:pcapng cases.pcap.gz:pcap.gz cases.pcapng.zst:pcapng.zst gzip-named.pcap:pcap.gz; do
	name=fmt-${f%%:*}
	run "$name" 1 -- --replay "$T/${f%%:*}"
	$CMP exact "$T/$name.json" "$T/cases.json" --workers 1 || fail "$name"
	grep -q "reading $T/${f%%:*} (${f##*:})" "$T/$name.dp.log" || fail "$name: not read as ${f##*:}"
done
echo "# a pipe (process substitution): read once, through the copy path"
run pipe 2 -- --replay <(gzip -dc "$T/cases.pcap.gz")
$CMP exact "$T/pipe.json" "$T/cases.json" --workers 2 --no-backwards || fail "pipe"

# run_bad NAME WORKERS DP ARGS...: the dp must exit 1 (a file that stops early) and the
# drainer still get every frame read before the damage
run_bad() {
	local name=$1 w=$2; shift 2
	conf "$T/$name.yaml" "$w" "$T/$name.x"
	"$DUMP" --timeout 60 "$T/$name.x" > "$T/$name.json" 2> "$T/$name.dump.log" &
	local dpid=$!
	timeout 120 "$DP" -c "$T/$name.yaml" "$@" --drain-timeout 30 > "$T/$name.dp.log" 2>&1
	local rc=$?
	wait $dpid || fail "$name: xchg_dump exit $?"
	[ $rc -eq 1 ] || fail "$name: obscura-dp exit $rc, want 1"
	grep -q "every slot drained" "$T/$name.dp.log" || fail "$name: dp did not see the drain"
}
# frames NAME: the frames the dp log says it read, == what the drainer counted
frames_ok() {
	local n
	n=$(sed -n 's/.*replay: \([0-9]*\) frames in .*/\1/p' "$T/$1.dp.log")
	[ -n "$n" ] && [ "$n" -gt 0 ] || fail "$1: no frames read before the damage ($n)"
	$CMP counted "$T/$1.json" "$n" >&2 || fail "$1: the frames read were not all counted"
	echo "$n"
}
total=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["rx_packets"])' "$T/cases.json")

echo "# bad compressed input: a counted, reported stop, never a crash"
# the 5000-source capture 8 times over (3 MB: damage after whole 1 MiB chunks)
$FMT repeat "$T/src5000.pcap" "$T/src8.pcap" 8 || fail repeat
$FMT gzip "$T/src8.pcap" "$T/src.pcap.gz" || fail gzip
zstd -q -c "$T/src8.pcap" > "$T/src.pcap.zst" || fail zstd
$FMT cut "$T/src.pcap.gz" "$T/cut.pcap.gz" 0.6 || fail cut
run_bad cutgz 1 --replay "$T/cut.pcap.gz"
grep -q "cut.pcap.gz (pcap.gz): stopped after [0-9]* frames: truncated gzip stream" "$T/cutgz.dp.log" \
	|| fail "cutgz: no truncation message"
n=$(frames_ok cutgz); [ "$n" -lt 40000 ] || fail "cutgz: $n frames of 40000 from a cut file"
$FMT flip "$T/src.pcap.zst" "$T/flip.pcapng.zst" 0.5 || fail flip
run_bad flipzst 2 --replay "$T/flip.pcapng.zst"
grep -q "stopped after [0-9]* frames: corrupt zstd stream" "$T/flipzst.dp.log" || fail "flipzst: no message"
frames_ok flipzst >/dev/null
head -c -100 "$T/src.pcap.zst" > "$T/cut.pcapng.zst"
run_bad cutzst 1 --replay "$T/cut.pcapng.zst"
grep -q "truncated zstd stream" "$T/cutzst.dp.log" || fail "cutzst: no message"
frames_ok cutzst >/dev/null
$FMT flip "$T/src.pcap.gz" "$T/flip.pcap.gz" 0.9 || fail flip
run_bad flipgz 1 --replay "$T/flip.pcap.gz"
grep -q "stopped after [0-9]* frames: corrupt gzip stream" "$T/flipgz.dp.log" || fail "flipgz: no message"
frames_ok flipgz >/dev/null
# damage inflate decodes into bad records: whether libpcap or the decompressor (which
# runs ahead) sees it first, the stream's own reason is given
$FMT flip "$T/src.pcap.gz" "$T/flip5.pcap.gz" 0.5 || fail flip
run_bad flipgz5 1 --replay "$T/flip5.pcap.gz"
grep -q "stopped after [0-9]* frames: .*corrupt gzip stream (incorrect data check)" \
	"$T/flipgz5.dp.log" || fail "flipgz5: no message"
frames_ok flipgz5 >/dev/null
{ cat "$T/cases.pcap.gz"; echo "not gzip, and not short"; } > "$T/trail.pcap.gz"
run_bad trailgz 1 --replay "$T/trail.pcap.gz"
grep -q "what follows the last gzip member is not gzip" "$T/trailgz.dp.log" || fail "trailgz: no message"
[ "$(frames_ok trailgz)" = "$total" ] || fail "trailgz: every frame before the trailing bytes"
$FMT cut "$T/cases.pcap" "$T/cut.pcap" 0.7 || fail cut
run_bad cutpcap 1 --replay "$T/cut.pcap"
grep -q "cut.pcap (pcap): stopped after [0-9]* frames: truncated dump file" "$T/cutpcap.dp.log" \
	|| fail "cutpcap: no message"
frames_ok cutpcap >/dev/null
echo "# a damaged file between two good ones: reported, and the next file still read"
run_bad between 1 --replay "$T/cases.pcap" "$T/cut.pcap.gz" "$T/cases.pcapng.zst"
n=$(frames_ok between); m=$(sed -n 's/.*cut.pcap.gz (pcap.gz): stopped after \([0-9]*\) frames.*/\1/p' "$T/between.dp.log")
[ "$n" -eq $((2 * total + m)) ] || fail "between: $n frames, want 2 x $total + $m"
grep -q "1 of 3 file(s) could not be read to their end" "$T/between.dp.log" || fail "between: no summary"

echo "# 5000 sources in one epoch, capacity 1024, slow drainer: forced swaps, replay waits, nothing lost, every packet's counter and record in one epoch"
run forced 1 --delay-ms 3 -- --replay "$T/src5000.pcap"
$CMP conserved "$T/forced.json" 5000 || fail "forced"
$PY - "$T/forced.json" <<'EOP' || fail "forced: no forced epoch, or replay lost updates instead of waiting"
import json, sys
g = json.load(open(sys.argv[1]))
assert g["forced_epochs"] >= 1, g["forced_epochs"]
lost = g["counters"]["lost_updates"] if "counters" in g else g["totals"]["lost_updates"]
assert lost == 0, "replay must wait for the drain, not lose: lost_updates=%d" % lost
assert g["epoch_split"] == 0, "%d epoch(s) whose source records and tel_packets differ: " \
    "a packet counted in one epoch, recorded in another" % g["epoch_split"]
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

echo "# bad input files fail before EAL, each with its reason"
echo garbage > "$T/garbage.pcap"
: > "$T/empty.pcap"
head -c 3000 /dev/urandom | gzip -c > "$T/notpcap.gz"
printf '\x28\xb5\x2f\xfd' > "$T/magiconly.zst"
head -c 10 "$T/cases.pcap.gz" > "$T/header.gz"
mkdir -p "$T/adir.pcap"
conf "$T/bad.yaml" 1 "$T/bad.x"
for b in "garbage.pcap:not a pcap, pcapng, gzip or zstd file" "empty.pcap:empty file" \
	"notpcap.gz:gzip data that is not a pcap or pcapng capture" \
	"magiconly.zst:truncated zstd stream" "header.gz:truncated gzip stream" \
	"adir.pcap:is a directory" "missing.pcap:No such file"; do
	f=${b%%:*}
	timeout 30 "$DP" -c "$T/bad.yaml" --replay "$T/$f" > "$T/bad.dp.log" 2>&1 && fail "$f accepted"
	grep -q "cannot open $T/$f.*${b#*:}" "$T/bad.dp.log" || { cat "$T/bad.dp.log"; fail "$f: no clear message"; }
	grep -q "EAL args" "$T/bad.dp.log" && fail "$f: refused only after EAL"
done

echo "PASS"
