#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# capture_truth.sh OBSCURA_GEN OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# Selective pcapng capture (docs/ctl-v1.md "capture"), against libpcap's own reading of
# the same input:
#  1. obscura-dp --replay with --capture and a filter (2 workers): the pcapng holds
#     exactly the packets `tcpdump -r INPUT FILTER` shows — same times (ns), lengths and
#     bytes, as a set (the workers interleave) — and capinfos/tshark open it; without a
#     filter it holds every packet.
#  2. the ctl path while a long replay runs: a filter that does not compile, a relative
#     path, a missing directory, an existing file, an unwritable place and a second
#     start while one runs are each a clear ctl error (those that can, also while a
#     capture runs: it keeps matching, the control plane keeps draining); status counts;
#     stop closes the
#     file (every packet in it matches the filter, as many as status says were
#     written, the statistics block in it); --max-packets stops at exactly that many;
#     --sensor takes only that sensor's packets, --snaplen cuts them;
#     a full disk (a small tmpfs) stops the capture with the reason in status; the
#     drain goes on throughout (the dataplane ends with every slot drained).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_setup capture gen dp cp ctl -- "$@"
for t in tcpdump tshark capinfos; do
	command -v $t >/dev/null || fail "no $t (deploy/setup installs it)"
done

filter="tcp and dst port 23"
gen_traffic --packets 30000 --seed 77 --quiet
n_want=$(tcpdump -r "$tmp/traffic.pcap" -nn "$filter" 2>/dev/null | wc -l)
[ "$n_want" -gt 100 ] || fail "the generated capture has only $n_want packets for '$filter'"

mkdir -p "$tmp/state"
cat >"$tmp/obscura.yaml" <<EOF
$(conf_dataplane 2 "$prefix")
telescope:
  sensors:
    - name: east
      prefixes: [198.18.0.0/20]
    - name: west
      prefixes: [198.18.16.0/20]
exchange:
  path: $tmp/exchange
  drain_wait_s: 5
$(conf_control "$tmp")
EOF

# packets as text, one line each (time in ns, lengths, bytes in hex), sorted
pkts() {   # pkts FILE [FILTER]
	tcpdump -r "$1" -nn -tt --time-stamp-precision=nano -xx -s 0 ${2:+"$2"} 2>/dev/null |
		awk '/^[0-9]/ { if (p != "") print p; p = $0; next } { p = p " " $0 }
		     END { if (p != "") print p }' | sort
}

# 1. --capture from the first packet: exactly tcpdump's packets
start_cp "$tmp"
timeout 300 "$dp" -c "$tmp/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	--capture "$tmp/cli.pcapng" --capture-filter "$filter" >"$tmp/dp-cli.log" 2>&1 \
	|| fail "obscura-dp --replay --capture exit $?"
capinfos "$tmp/cli.pcapng" >"$tmp/capinfos.txt" 2>&1 || fail "capinfos cannot read the capture: $(cat "$tmp/capinfos.txt")"
grep -q "File type:.*pcapng" "$tmp/capinfos.txt" || fail "not a pcapng: $(cat "$tmp/capinfos.txt")"
grep -q "nanoseconds" "$tmp/capinfos.txt" || fail "no nanosecond times: $(cat "$tmp/capinfos.txt")"
n_ts=$(tshark -r "$tmp/cli.pcapng" 2>"$tmp/tshark.log" | wc -l)
[ "$n_ts" = "$n_want" ] || fail "tshark reads $n_ts packets in the capture, tcpdump finds $n_want for '$filter'"
pkts "$tmp/traffic.pcap" "$filter" >"$tmp/want.txt"
pkts "$tmp/cli.pcapng" >"$tmp/got.txt"
cmp -s "$tmp/want.txt" "$tmp/got.txt" || { diff "$tmp/want.txt" "$tmp/got.txt" | head -5; fail "the capture is not exactly tcpdump's '$filter' packets"; }
# the statistics block: matched and dropped
tshark -r "$tmp/cli.pcapng" -q -z io,stat,0 >/dev/null 2>&1 || fail "tshark -z on the capture"
grep -q "capture .*cli.pcapng closed: obscura capture: $n_want matched, $n_want written, 0 dropped" "$tmp/dp-cli.log" \
	|| fail "no closing line with the counts: $(grep capture "$tmp/dp-cli.log" | tail -3)"
isb=$("$py" "$here/pcapng_isb.py" "$tmp/cli.pcapng") || fail "statistics block: $isb"
[ "$isb" = "ifrecv $n_want ifdrop 0" ] || fail "statistics block '$isb', want $n_want matched, 0 dropped"
echo "# --capture '$filter': $n_want packets, exactly tcpdump's"

# no filter: every frame, including those the parser drops
timeout 300 "$dp" -c "$tmp/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	--capture "$tmp/all.pcapng" >"$tmp/dp-all.log" 2>&1 || fail "obscura-dp --capture (all) exit $?"
# (every frame, those the parser drops too; at full replay speed the writer may fall
# behind: what it could not take is counted as dropped, never waited for)
pkts "$tmp/traffic.pcap" >"$tmp/want-all.txt"
pkts "$tmp/all.pcapng" >"$tmp/got-all.txt"
n_all=$(wc -l <"$tmp/got-all.txt")
[ -z "$(comm -13 "$tmp/want-all.txt" "$tmp/got-all.txt" | head -1)" ] || fail "an unfiltered capture holds frames that are not in the input"
grep -q "all.pcapng closed: obscura capture: 30000 matched, $n_all written, $((30000 - n_all)) dropped" "$tmp/dp-all.log" \
	|| fail "unfiltered: written + dropped is not every frame: $(grep closed "$tmp/dp-all.log")"
# the statistics block says the same: every frame matched, the ones not written dropped
isb=$("$py" "$here/pcapng_isb.py" "$tmp/all.pcapng") || fail "unfiltered: statistics block: $isb"
[ "$isb" = "ifrecv 30000 ifdrop $((30000 - n_all))" ] || fail "unfiltered: statistics block '$isb', want 30000 matched, $((30000 - n_all)) dropped"
echo "# --capture without a filter: $n_all of 30000 frames written, the rest counted as dropped ($isb)"

# the dataplane refuses a bad filter at start with the reason
if "$dp" -c "$tmp/obscura.yaml" --replay "$tmp/traffic.pcap" --capture "$tmp/bad.pcapng" \
	--capture-filter "tcp and and" >"$tmp/dp-bad.log" 2>&1; then
	fail "obscura-dp started with a filter that does not compile"
fi
grep -q "does not compile" "$tmp/dp-bad.log" || fail "bad filter at start: unclear error: $(tail -3 "$tmp/dp-bad.log")"
[ ! -e "$tmp/bad.pcapng" ] || fail "a refused capture left a file"

# 2. the ctl path while the dataplane replays the capture over and over: one endless
# stream through a FIFO (the file's header once, then its records again and again), so
# the replay outlasts the checks however fast the machine is; SIGTERM ends it
mkfifo "$tmp/endless.pcap" || fail "mkfifo"
{ cat "$tmp/traffic.pcap"; while tail -c +25 "$tmp/traffic.pcap"; do :; done; } \
	>"$tmp/endless.pcap" 2>/dev/null &
feeder=$!
trap 'kill "$feeder" 2>/dev/null; e2e_cleanup' EXIT
"$dp" -c "$tmp/obscura.yaml" --drain-timeout 120 --replay "$tmp/endless.pcap" >"$tmp/dp-ctl.log" 2>&1 &
dp_pid=$!
c=("$ctl" -t 60 -c "$tmp/obscura.yaml")
up=0
for _ in $(seq 300); do
	# the dataplane is running (not starting) once stop says there is nothing to stop
	"${c[@]}" capture stop >"$tmp/st.out" 2>&1
	if grep -q "no capture running" "$tmp/st.out"; then up=1; break; fi
	sleep 0.1
done
[ $up = 1 ] || fail "the dataplane never ran: $(cat "$tmp/st.out")"
"${c[@]}" --json capture status >"$tmp/st.json" || fail "capture status"
grep -q '"state": *"idle"' "$tmp/st.json" || fail "capture status before any capture: $(cat "$tmp/st.json")"

bad() {   # bad PATTERN WORDS...: the capture command must fail saying PATTERN
	local pat=$1
	shift
	if "${c[@]}" "$@" >"$tmp/bad.out" 2>&1; then
		fail "'$*' succeeded: $(cat "$tmp/bad.out")"
	fi
	grep -q -- "$pat" "$tmp/bad.out" || fail "'$*': unclear error (want '$pat'): $(cat "$tmp/bad.out")"
	echo "# refused: $*: $(head -c 160 "$tmp/bad.out")"
}
bad "does not compile" capture start --filter "tcp and and" "$tmp/x.pcapng"
bad "must be absolute" capture start rel.pcapng
bad "does not exist" capture start "$tmp/nodir/x.pcapng"
touch "$tmp/exists.pcapng"
bad "exists" capture start "$tmp/exists.pcapng"
bad "unknown option" capture start --filte tcp "$tmp/x.pcapng"
bad "no sensor" capture start --sensor north "$tmp/x.pcapng"
# the control plane cannot see everything: the dataplane's own refusal comes back
bad "/proc/obscura-capture.pcapng" capture start /proc/obscura-capture.pcapng
bad "no capture running" capture stop

"${c[@]}" --json capture start --filter "$filter" "$tmp/ctl.pcapng" >"$tmp/start.out" 2>&1 \
	|| fail "capture start: $(cat "$tmp/start.out")"
grep -q '"running"' "$tmp/start.out" || fail "capture start: not running: $(cat "$tmp/start.out")"
"${c[@]}" --json capture status >"$tmp/st-run0.json" || fail "capture status"
"${c[@]}" --json stats >"$tmp/stats-run0.json" || fail "stats"
# bad requests while it runs: each refused, the capture and the drain go on
bad "already running" capture start "$tmp/second.pcapng"
bad "does not compile" capture start --filter "tcp and and" "$tmp/second.pcapng"
bad "already running" capture start /proc/obscura-capture.pcapng
bad "exists" capture start "$tmp/exists.pcapng"
sleep 1
"${c[@]}" --json capture status >"$tmp/st-run.json" || fail "capture status"
"${c[@]}" --json stats >"$tmp/stats-run1.json" || fail "stats"
"$py" - "$tmp/st-run0.json" "$tmp/st-run.json" "$tmp/stats-run0.json" "$tmp/stats-run1.json" <<'EOF' \
	|| fail "a refused request disturbed the running capture or the drain"
import json, sys
r0, r1, s0, s1 = (json.load(open(p)) for p in sys.argv[1:5])
assert r0["state"] == r1["state"] == "running" and r0["capture"] == r1["capture"], (r0, r1)
assert r1["request"]["file"] == r0["request"]["file"], (r0, r1)
assert r1["matched"] > r0["matched"], ("the capture stopped matching", r0, r1)
assert s1["epochs"] > s0["epochs"], ("the drain stopped", s0["epochs"], s1["epochs"])
EOF
echo "# refused while running: the capture kept matching, the drain kept draining"
"${c[@]}" --json capture stop >"$tmp/stop.out" 2>&1 || fail "capture stop: $(cat "$tmp/stop.out")"
stopped() {   # stopped FILE: wait for state stopped, status in FILE
	for _ in $(seq 300); do
		"${c[@]}" --json capture status >"$1" 2>/dev/null && grep -q '"state": *"stopped"' "$1" && return 0
		sleep 0.1
	done
	fail "the capture never stopped: $(cat "$1")"
}
stopped "$tmp/st-stop.json"
kill -0 "$dp_pid" 2>/dev/null || fail "the endless replay ended before the ctl checks were done"
"$py" - "$tmp/st-run.json" "$tmp/st-stop.json" "$tmp/ctl.pcapng" <<'EOF' || fail "capture status: $(cat "$tmp/st-stop.json")"
import json, sys
run, st = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert run["state"] == "running" and run["request"]["filter"] == "tcp and dst port 23", run
assert st["stop_reason"] == "stopped" and st["written"] > 0, st
assert st["matched"] == st["written"] + st["dropped"], st
assert st["request"]["file"] == sys.argv[3], st
EOF
written=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["written"])' "$tmp/st-stop.json")
n_file=$(tcpdump -r "$tmp/ctl.pcapng" -nn 2>/dev/null | wc -l)
n_match=$(tcpdump -r "$tmp/ctl.pcapng" -nn "$filter" 2>/dev/null | wc -l)
[ "$n_file" = "$written" ] || fail "the ctl capture holds $n_file packets, status says $written were written"
[ "$n_match" = "$n_file" ] || fail "only $n_match of the $n_file captured packets match '$filter'"
capinfos "$tmp/ctl.pcapng" >/dev/null 2>&1 || fail "capinfos cannot read the ctl capture"
echo "# ctl capture: $n_file packets, all matching, as status says"

"${c[@]}" --json capture start --max-packets 100 "$tmp/limit.pcapng" >"$tmp/start2.out" 2>&1 \
	|| fail "capture start --max-packets: $(cat "$tmp/start2.out")"
stopped "$tmp/st-limit.json"
grep -q '"stop_reason": *"max_packets"' "$tmp/st-limit.json" || fail "limit: $(cat "$tmp/st-limit.json")"
n_lim=$(tcpdump -r "$tmp/limit.pcapng" -nn 2>/dev/null | wc -l)
[ "$n_lim" = 100 ] || fail "--max-packets 100 wrote $n_lim packets"
echo "# --max-packets 100: 100 packets"

"${c[@]}" --json capture start --max-bytes 20000 "$tmp/bytes.pcapng" >"$tmp/start5.out" 2>&1 \
	|| fail "capture start --max-bytes: $(cat "$tmp/start5.out")"
stopped "$tmp/st-bytes.json"
tshark -r "$tmp/bytes.pcapng" -T fields -e frame.cap_len 2>/dev/null >"$tmp/bytes-len.txt"
"$py" - "$tmp/st-bytes.json" "$tmp/bytes-len.txt" <<'EOF' || fail "--max-bytes: $(cat "$tmp/st-bytes.json")"
import json, sys
st = json.load(open(sys.argv[1]))
lens = [int(l) for l in open(sys.argv[2]) if l.strip()]
assert st["stop_reason"] == "max_bytes", st
assert st["bytes"] == sum(lens) and st["written"] == len(lens), (st, sum(lens), len(lens))
# stopped at the frame that would have passed the limit: less than a frame short of it
assert 20000 - 1600 < sum(lens) <= 20000, sum(lens)
EOF
echo "# --max-bytes 20000: $(wc -l <"$tmp/bytes-len.txt") packets, $(awk '{ s += $1 } END { print s }' "$tmp/bytes-len.txt") bytes"

# --sensor: that sensor's accepted packets only; --snaplen: their first bytes, the wire
# length kept
"${c[@]}" --json capture start --sensor west --snaplen 64 --max-packets 300 "$tmp/west.pcapng" \
	>"$tmp/start4.out" 2>&1 || fail "capture start --sensor: $(cat "$tmp/start4.out")"
stopped "$tmp/st-west.json"
# (tshark decodes VLAN tags; the first ip.dst is the packet's, later ones are inside ICMP errors)
tshark -r "$tmp/west.pcapng" -T fields -e frame.cap_len -e frame.len -e ip.dst 2>/dev/null \
	>"$tmp/west-len.txt"
n_w=$(wc -l <"$tmp/west-len.txt")
n_wm=$(awk '{ split($3, a, ","); split(a[1], q, ".") }
            q[1] == 198 && q[2] == 18 && q[3] >= 16 && q[3] < 32 { k++ } END { print k + 0 }' \
       "$tmp/west-len.txt")
[ "$n_w" = 300 ] && [ "$n_wm" = 300 ] || fail "--sensor west: $n_wm of $n_w packets (want 300) are west's"
awk '$1 > 64 || $2 < $1 { bad++ } $2 > 64 { long++ } END { exit !(bad == 0 && long > 0) }' \
	"$tmp/west-len.txt" || fail "--snaplen 64: captured/wire lengths wrong: $(sort -u "$tmp/west-len.txt" | head -5)"
echo "# --sensor west --snaplen 64: 300 packets, all west's, at most 64 bytes each"

# a full disk: the capture stops with the reason, the replay and the drain go on
mkdir -p "$tmp/small"
mount -t tmpfs -o size=256k tmpfs "$tmp/small" || fail "cannot mount a small tmpfs for the full-disk case"
trap 'umount "$tmp/small" 2>/dev/null; kill "$feeder" 2>/dev/null; e2e_cleanup' EXIT
"${c[@]}" --json capture start "$tmp/small/full.pcapng" >"$tmp/start3.out" 2>&1 \
	|| fail "capture start on the small disk: $(cat "$tmp/start3.out")"
stopped "$tmp/st-full.json"
grep -q '"stop_reason": *"write_error"' "$tmp/st-full.json" || fail "full disk: $(cat "$tmp/st-full.json")"
grep -q '"error": *"No space left on device"' "$tmp/st-full.json" || fail "full disk: no reason: $(cat "$tmp/st-full.json")"
umount "$tmp/small"
echo "# full disk: $(grep -o '"error": *"[^"]*"' "$tmp/st-full.json")"

kill -0 "$dp_pid" 2>/dev/null || fail "the endless replay ended before the ctl checks were done"
kill -TERM "$dp_pid"
wait "$dp_pid" || fail "obscura-dp exit $? after SIGTERM"
dp_pid=
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
grep -q "every slot drained" "$tmp/dp-ctl.log" || fail "the drain did not finish"
"${c[@]}" --json stats >"$tmp/stats.json" || fail "stats"
"$py" - "$tmp/stats.json" <<'EOF' || fail "stats after the captures: $(head -c 300 "$tmp/stats.json")"
import json, sys
s = json.load(open(sys.argv[1]))
t = s.get("total", s)
assert t["rx_packets"] > 30000 and t["lost_updates"] == 0, t
EOF
stop_cp
echo "capture_truth: ok"
