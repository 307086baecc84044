#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# IP fragments (docs/DESIGN.md): a pcap of scapy-fragmented UDP / ICMP datagrams and
# malformed fragments -> obscura-dp --replay -> xchg_dump; counters and per-source packets
# recomputed from tshark's dissection of the same pcap (frag_pcap.py check).
#
# usage: frag_replay.sh OBSCURA_DP XCHG_DUMP SRCDIR
set -u
DP=$1 DUMP=$2 SRC=$3
PY=/usr/bin/python3           # system python: the one with scapy
T=$(mktemp -d /tmp/obs-dp-dos-frag.XXXXXX)
PREFIX=obs-t-dos-frag-$$
cleanup() { rm -rf "$T" "/var/run/dpdk/$PREFIX"* 2>/dev/null; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; exit 1; }

command -v tshark >/dev/null || fail "no tshark (deploy/setup installs it)"
$PY -c 'import scapy' 2>/dev/null || fail "$PY has no scapy (apt-get install python3-scapy)"
$PY "$SRC/frag_pcap.py" gen "$T/frag.pcap" || fail "frag_pcap gen"
. "$SRC/lib.sh"   # dp_conf
dp_conf "$T/frag.yaml" "$PREFIX" 1 "$T/frag.x" 10 1
"$DUMP" --timeout 60 "$T/frag.x" > "$T/frag.json" 2> "$T/dump.log" &
dpid=$!
timeout 120 "$DP" -c "$T/frag.yaml" --replay "$T/frag.pcap" --drain-timeout 30 > "$T/dp.log" 2>&1 \
	|| fail "obscura-dp exit $?"
wait $dpid || fail "xchg_dump exit $?"
$PY "$SRC/frag_pcap.py" check "$T/frag.pcap" "$T/frag.json" || fail "dataplane differs from tshark"
