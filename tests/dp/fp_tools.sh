#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# fingerprint (issue 14): real scanners, labelled right, live.  obscura-dp runs on
# net_af_packet on one end of a veth pair inside a private network namespace (the
# capture point); masscan, zmap, nmap -sS and hping3 -S (the Debian packages deploy/setup
# installs) each scan telescope addresses (198.18.0.0/20, tests/dp/lib.sh) from their own
# source address on the other end.  tcpdump on the capture interface counts each source's
# SYNs independently (tshark).  Every tool's source must carry that tool's label on all
# its SYNs and no other label.  Traffic never leaves the namespace.  A missing tool or
# kernel feature is a FAIL, not a skip.
#
# usage: fp_tools.sh OBSCURA_DP XCHG_DUMP SRCDIR ROOT
set -u
DP=$1 DUMP=$2 SRC=$3 ROOT=$4
PY=/usr/bin/python3
NS=ns-fp-tools-$$
IFA=fpa$$ IFB=fpb$$            # < 16 chars
T=$(mktemp -d /tmp/fp-tools.XXXXXX)
PREFIX=fp-tools-$$
GW_MAC=02:00:5e:00:00:02
TCPD= DPPID= DUMPPID=
cleanup() {
	[ -n "$TCPD" ] && kill -KILL "$TCPD" 2>/dev/null
	[ -n "$DPPID" ] && kill -KILL "$DPPID" 2>/dev/null
	[ -n "$DUMPPID" ] && kill -KILL "$DUMPPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T" "/var/run/dpdk/$PREFIX"* 2>/dev/null
}
trap cleanup EXIT
[ -n "${FP_KEEP:-}" ] && trap "cp -r \"\$T\" \"\$FP_KEEP\"; cleanup" EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (network namespace, veth, raw sockets)"
for t in masscan zmap nmap hping3 tcpdump tshark; do
	command -v $t >/dev/null || fail "$t not installed (deploy/setup installs it)"
done
ip netns add "$NS" || fail "'ip netns add' failed"
nse() { ip netns exec "$NS" "$@"; }
nse sysctl -qw net.ipv6.conf.all.disable_ipv6=1
nse sysctl -qw net.ipv6.conf.default.disable_ipv6=1
nse ip link add "$IFA" type veth peer name "$IFB" || fail "kernel without veth"
nse ip link set lo up
nse ip link set "$IFA" up
nse ip link set "$IFB" up
nse ip addr add 10.77.0.1/24 dev "$IFA"      # masscan
nse ip addr add 10.77.0.2/24 dev "$IFA"      # zmap
nse ip addr add 10.77.0.3/24 dev "$IFA"      # nmap
nse ip addr add 10.77.0.4/24 dev "$IFA"      # hping3
nse ip neigh add 10.77.0.254 lladdr $GW_MAC dev "$IFA" nud permanent
nse ip route add 198.18.0.0/20 via 10.77.0.254 dev "$IFA"
MAC_A=$(nse cat /sys/class/net/$IFA/address)

. "$SRC/lib.sh"   # dp_conf
dp_conf "$T/live.yaml" "$PREFIX" 1 "$T/live.x" 100 1 "  ports:
    - name: veth
      device: \"net_af_packet0,iface=$IFB\""
printf 'tables:\n  fingerprint_file: %s\n' "$ROOT/conf/fingerprints.txt" >> "$T/live.yaml"

"$DUMP" --timeout 240 "$T/live.x" > "$T/live.json" 2> "$T/live.dump.log" &
DUMPPID=$!
ip netns exec "$NS" "$DP" -c "$T/live.yaml" > "$T/live.dp.log" 2>&1 &
DPPID=$!
for i in $(seq 1 300); do
	grep -q "running:" "$T/live.dp.log" && break
	kill -0 $DPPID 2>/dev/null || fail "obscura-dp died at start"
	sleep 0.1
done
grep -q "running:" "$T/live.dp.log" || fail "obscura-dp not running after 30 s"
grep -q "fingerprints .*rules" "$T/live.dp.log" || fail "fingerprints not loaded"
ip netns exec "$NS" tcpdump -i "$IFB" -n -U -s 128 -w "$T/tools.pcap" 'tcp' > "$T/tcpdump.log" 2>&1 &
TCPD=$!
sleep 1

echo "# versions: $(masscan --version 2>/dev/null | grep -o 'version [0-9.]*' | head -1);" \
     "zmap $(zmap --version 2>&1 | grep -o '[0-9][0-9.]*' | head -1);" \
     "nmap $(nmap --version | grep -o '[0-9][0-9.]*' | head -1);" \
     "hping3 $(hping3 --version 2>&1 | grep -o 'version [^ ]*' | head -1)"
# masscan 1.3.2 sends its probes, then does not exit on a link where nothing answers
# (its receive thread stays blocked): once it reports 100 % sent it is stopped
nse timeout -s KILL 15 masscan 198.18.0.0/28 -p80,443 --rate 200 --wait 1 --adapter "$IFA" \
	--adapter-ip 10.77.0.1 --adapter-mac "$MAC_A" --router-mac $GW_MAC \
	> "$T/masscan.log" 2>&1
rc=$?
[ $rc -eq 0 ] || { [ $rc -eq 137 ] && grep -q '100.00% done' "$T/masscan.log"; } \
	|| fail "masscan exit $rc"
# zmap's default blocklist holds 198.18.0.0/15 (RFC 2544): an empty one instead
: > "$T/empty-blocklist"
nse timeout 60 zmap -p 80 -i "$IFA" -S 10.77.0.2 -G $GW_MAC -r 200 -c 1 -b "$T/empty-blocklist" \
	-o "$T/zmap.out" 198.18.1.0/28 > "$T/zmap.log" 2>&1 || fail "zmap exit $?"
nse timeout 60 nmap -sS -Pn -n -p 22,80,443 -e "$IFA" -S 10.77.0.3 --max-retries 0 \
	--host-timeout 20s 198.18.2.1-8 > "$T/nmap.log" 2>&1 || fail "nmap exit $?"
# hping3 exits 1 when nothing answers (nothing does here): its packets are what count
nse timeout 60 hping3 -S -p 80 -c 8 -i u10000 -a 10.77.0.4 -I "$IFA" 198.18.3.1 \
	> "$T/hping3.log" 2>&1
sleep 1
kill -INT $TCPD; wait $TCPD; TCPD=
kill -TERM $DPPID
wait $DPPID; rc=$?; DPPID=
[ $rc -eq 0 ] || fail "obscura-dp exit $rc after SIGTERM"
wait $DUMPPID || fail "xchg_dump exit $?"
DUMPPID=

$PY - "$T/live.json" "$ROOT/conf/fingerprints.txt" "$T/tools.pcap" <<'EOP' || fail "labels"
import json, subprocess, sys
g = json.load(open(sys.argv[1]))
names = {}
for line in open(sys.argv[2]):
    w = line.split()
    if len(w) > 2 and w[0] == "fp":
        names[int(w[1])] = w[2]
# SYNs per source on the capture interface, counted apart from obscura (tshark)
out = subprocess.run(["tshark", "-r", sys.argv[3], "-Y",
                      "tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields", "-e", "ip.src"],
                     capture_output=True, text=True, check=True).stdout.split()
syns = {}
for a in out:
    syns[a] = syns.get(a, 0) + 1
want = {"10.77.0.1": "masscan", "10.77.0.2": "zmap-2", "10.77.0.3": "nmap-syn",
        "10.77.0.4": "hping3"}
rec = {}
for r in g["sources"]:          # a source may have several (hour) records
    t = rec.setdefault(r["src"], {"tool": set(), "tool_syns": 0, "tool_other": 0})
    if r["tool"]:
        t["tool"].add(r["tool"])
    t["tool_syns"] += r["tool_syns"]
    t["tool_other"] += r["tool_other"]
bad = 0
for a, tool in want.items():
    r = rec.get(a)
    if r is None or syns.get(a, 0) == 0:
        print("no SYN of", a, tool); bad += 1; continue
    got = ",".join(sorted(names.get(i, "?") for i in r["tool"])) or "none"
    print("%-10s %-9s label %-9s %d of %d SYNs, %d other" % (a, tool, got, r["tool_syns"],
                                                             syns[a], r["tool_other"]))
    if got != tool or r["tool_syns"] != syns[a] or r["tool_other"] != 0:
        print("  WRONG"); bad += 1
tot = g["counters"]["fp_syns"]
if tot != sum(syns.get(a, 0) for a in want):
    print("fp_syns counter", tot, "!= the tools' SYNs", sum(syns.get(a, 0) for a in want)); bad += 1
sys.exit(1 if bad else 0)
EOP
echo PASS
