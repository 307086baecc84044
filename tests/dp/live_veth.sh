#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# dp live test: obscura-dp on net_af_packet inside a private network namespace, the
# cases pcap injected on the veth peer, SIGTERM, and the drained exchange compared with
# a replay of the same pcap (per-source packets and sensors, drop reasons).  Traffic
# never leaves the namespace.  A kernel without netns/veth is a FAIL, not a skip.
#
# usage: live_veth.sh OBSCURA_DP XCHG_DUMP SRCDIR
set -u
DP=$1 DUMP=$2 SRC=$3
PY=/usr/bin/python3
NS=obs-t-live-$$
IFA=obsa$$ IFB=obsb$$          # < 16 chars
T=$(mktemp -d /tmp/obs-dp-live.XXXXXX)
PREFIX=obs-t-live-$$
DPPID= DUMPPID=
cleanup() {
	[ -n "$DPPID" ] && kill -KILL "$DPPID" 2>/dev/null
	[ -n "$DUMPPID" ] && kill -KILL "$DUMPPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T" "/var/run/dpdk/$PREFIX"* 2>/dev/null
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -25 "$f"; }; done; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (network namespace, veth)"
$PY -c 'import scapy' 2>/dev/null || fail "$PY has no scapy (apt-get install python3-scapy)"
ip netns add "$NS" || fail "kernel or ip(8) without network namespaces: 'ip netns add' failed"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	|| fail "cannot disable IPv6 in the namespace"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$NS" ip link add "$IFA" type veth peer name "$IFB" \
	|| fail "kernel without veth: 'ip link add type veth' failed"
ip netns exec "$NS" ip link set "$IFA" up || fail "link up $IFA"
ip netns exec "$NS" ip link set "$IFB" up || fail "link up $IFB"

$PY "$SRC/gen_pcap.py" cases-live "$T/live.pcap" "$T/live-expected.json" || fail "gen_pcap"

. "$SRC/lib.sh"   # dp_conf
conf() {   # conf FILE EXCHANGE PORTS
	dp_conf "$1" "$PREFIX-$(basename "$1" .yaml)" 1 "$2" 100 1 "$3"
}
conf "$T/live.yaml" "$T/live.x" "  ports:
    - name: veth
      device: \"net_af_packet0,iface=$IFA\""
conf "$T/replay.yaml" "$T/replay.x" "  ports: []"

"$DUMP" --timeout 120 "$T/live.x" > "$T/live.json" 2> "$T/live.dump.log" &
DUMPPID=$!
# with a capture of every frame from the start (capture.h): live, each packet's own port
ip netns exec "$NS" "$DP" -c "$T/live.yaml" --capture "$T/live.pcapng" > "$T/live.dp.log" 2>&1 &
DPPID=$!
for i in $(seq 1 200); do
	grep -q "running:" "$T/live.dp.log" && break
	kill -0 $DPPID 2>/dev/null || fail "obscura-dp died at start"
	sleep 0.1
done
grep -q "running:" "$T/live.dp.log" || fail "obscura-dp not running after 20 s"

# inject on the peer, one frame at a time with a small gap (no burst loss to argue with)
ip netns exec "$NS" $PY - "$T/live.pcap" "$IFB" > "$T/inject.log" 2>&1 <<'EOP' || fail "inject"
import sys, time
from scapy.all import rdpcap, sendp
pk = rdpcap(sys.argv[1])
for p in pk:
    sendp(p, iface=sys.argv[2], verbose=0)
    time.sleep(0.002)
print("sent", len(pk))
EOP
sleep 1
kill -TERM $DPPID
wait $DPPID; rc=$?; DPPID=
[ $rc -eq 0 ] || fail "obscura-dp exit $rc after SIGTERM"
wait $DUMPPID; rc=$?; DUMPPID=
[ $rc -eq 0 ] || fail "xchg_dump exit $rc"
grep -q "stopped, last epoch" "$T/live.dp.log" || fail "worker did not publish its last epoch"

"$DUMP" --timeout 60 "$T/replay.x" > "$T/replay.json" 2> "$T/replay.dump.log" &
DUMPPID=$!
timeout 60 "$DP" -c "$T/replay.yaml" --replay "$T/live.pcap" --drain-timeout 30 > "$T/replay.dp.log" 2>&1 \
	|| fail "replay exit $?"
wait $DUMPPID || fail "replay drain"
DUMPPID=

echo "# the live capture: the injected frames, byte for byte, on the port's interface"
frames() {   # frames FILE: one line per frame (lengths and bytes, no time), sorted
	tcpdump -r "$1" -nn -t -xx -s 0 2>/dev/null |
		awk '/^[^ \t]/ { if (p != "") print p; p = $0; next } { p = p " " $0 }
		     END { if (p != "") print p }' | sort
}
# net_af_packet hands the outer VLAN tag over stripped (its TPID lost) and rte_pcapng puts
# it back as 802.1Q: an 802.1ad (88a8) outer tag reads back as 8100, nothing else changes
frames "$T/live.pcap" | sed -E 's/(0x0000:  ([0-9a-f]{4} ){6})88a8/\18100/' | sort > "$T/want.txt"
frames "$T/live.pcapng" > "$T/got.txt"
[ -s "$T/got.txt" ] || fail "the live capture is empty"
cmp -s "$T/want.txt" "$T/got.txt" || { diff "$T/want.txt" "$T/got.txt" | head -4; fail "live capture != the injected frames"; }
ifn=$(tshark -r "$T/live.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u)
[ "$ifn" = "$IFA" ] || fail "live capture: interface '$ifn', want $IFA"
grep -q "closed: obscura capture: $(wc -l < "$T/want.txt") matched" "$T/live.dp.log" \
	|| fail "live capture: counts: $(grep 'capture ' "$T/live.dp.log" | tail -2)"

echo "# live vs replay of the same pcap"
$PY "$SRC/compare.py" same-sources "$T/live.json" "$T/replay.json" || fail "live != replay"
echo "# replay vs the answer known by construction"
$PY "$SRC/compare.py" exact "$T/replay.json" "$T/live-expected.json" --workers 1 || fail "replay != expected"
$PY - "$T/live.json" <<'EOP' || fail "live final state"
import json, sys
g = json.load(open(sys.argv[1]))
assert g["final_epochs"] == 1, g
assert g["dp_state"] in (2, 3), g["dp_state"]
p = g["ports"][0]
assert p["name"] == "veth" and p["ipackets"] == g["counters"]["rx_packets"], p
EOP
echo PASS
