#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# fp_sources.sh OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# Scanner-tool labels end to end (docs/fingerprints.md): scapy writes SYNs shaped as each
# tool's source code builds them, from known sources (zmap 2.x, nmap -sS then hping3 from one
# source, Mirai, a Linux kernel's SYN that no rule claims); obscura-dp --replay labels them
# with conf/fingerprints.txt; `sources show` must give each source the tool of its first
# labelled SYN and exactly the per-tool counts the capture was built with, `sources top
# --tool` only the sources of that tool, its lifetime that of `life show`; an unknown tool and a bad address are clear errors;
# a control-plane restart (snapshot section 21) answers the same.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_setup fpsrc dp cp ctl -- "$@"

"$py" - "$tmp/traffic.pcap" <<'EOF' || fail "scapy capture"
import random, sys
from scapy.all import Ether, IP, TCP, wrpcap
random.seed(7)
t0 = 1700000000.0
pk = []
def syn(src, dst, dport, i, **kw):
    ip = dict(src=src, dst=dst, id=kw.pop("id", random.randrange(65536)))
    p = Ether() / IP(**ip) / TCP(sport=kw.pop("sport", 40000 + i), dport=dport, flags="S", **kw)
    p.time = t0 + len(pk) * 0.01
    pk.append(p)
def dst(i):
    return "198.18.%d.%d" % (i % 4, 1 + i % 250)
for i in range(10):    # zmap 2.1.1: IP ID 54321, window 65535, no option
    syn("203.0.113.10", dst(i), 80, i, id=54321, window=65535, seq=random.randrange(2**32))
for i in range(6):     # nmap -sS: window 1024, MSS 1460 only
    syn("203.0.113.20", dst(i), 443, i, window=1024, options=[("MSS", 1460)], seq=random.randrange(2**32))
for i in range(2):     # then hping3 from the same source: window 512, no option
    syn("203.0.113.20", dst(i + 50), 22, i, window=512, seq=random.randrange(2**32))
for i in range(5):     # Mirai: sequence number = destination address
    d = dst(i + 100)
    a = [int(x) for x in d.split(".")]
    syn("203.0.113.30", d, 23, i, window=random.randrange(1, 65536),
        seq=(a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3])
for i in range(7):     # a Linux client's SYN: no rule claims it
    syn("203.0.113.40", dst(i + 200), 8080, i, window=64240,
        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)],
        seq=random.randrange(2**32))
wrpcap(sys.argv[1], pk)
EOF
mkdir -p "$tmp/state"
cat >"$tmp/obscura.yaml" <<EOF2
$(conf_dataplane 2 "$prefix")
telescope:
  sensors:
    - {name: s0, prefixes: [198.18.0.0/22]}
tables:
  fingerprint_file: $src/conf/fingerprints.txt
exchange:
  path: $tmp/exchange
  epoch_ms: 1000
  src_capacity: 65536
  drain_wait_s: 5
$(conf_control "$tmp")
EOF2

start_cp "$tmp"
timeout 300 "$dp" -c "$tmp/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	>"$tmp/dp.log" 2>&1 || fail "obscura-dp --replay exit $?"
ctl_() { "$ctl" -c "$tmp/obscura.yaml" "$@"; }

check_answers() {   # $1: what (first run, after the restart)
	local a
	for a in 203.0.113.10 203.0.113.20 203.0.113.30 203.0.113.40 192.0.2.1; do
		ctl_ --json sources show "$a" >"$tmp/show-$a.json" 2>>"$tmp/ctl.log" \
			|| fail "$1: sources show $a"
	done
	ctl_ --json life show 203.0.113.20 >"$tmp/life.json" 2>>"$tmp/ctl.log" || fail "$1: life show"
	ctl_ --json sources top 10 --tool nmap-syn >"$tmp/top-nmap.json" 2>>"$tmp/ctl.log" \
		|| fail "$1: sources top --tool nmap-syn"
	ctl_ --json sources top --tool zmap-2 >"$tmp/top-zmap.json" 2>>"$tmp/ctl.log" \
		|| fail "$1: sources top --tool zmap-2 (no N)"
	"$py" - "$tmp" "$1" <<'EOF3' || fail "$1: the tool labels differ from the capture"
import json, sys
d, what = sys.argv[1], sys.argv[2]
# address: (tool, {tool: SYNs}, other labelled SYNs, packets).  A (source, hour) record
# names the tool of its first labelled SYN and counts the SYNs of other tools in that hour
# as other_syns (docs/fingerprints.md): the hping3 SYNs after nmap's in the same hour
want = {
    "203.0.113.10": ("zmap-2", {"zmap-2": 10}, 0, 10),
    "203.0.113.20": ("nmap-syn", {"nmap-syn": 6}, 2, 8),
    "203.0.113.30": ("mirai", {"mirai": 5}, 0, 5),
}
for a, (tool, per, other, packets) in want.items():
    s = json.load(open("%s/show-%s.json" % (d, a)))
    assert s["known"] and s["packets"] == packets, (a, s)
    t = s["tool"]
    got = {x["name"]: x["syns"] for x in t["per_tool"]}
    assert t["name"] == tool and got == per and t["other_syns"] == other \
        and t["labelled_syns"] == sum(per.values()) + other, (a, t)
# the lifetime part is life.show's answer for the source
s = json.load(open("%s/show-203.0.113.20.json" % d))
assert s["lifetime"] == json.load(open(d + "/life.json")) and s["lifetime"]["events"] > 0, s
s = json.load(open("%s/show-203.0.113.40.json" % d))
assert s["known"] and s["packets"] == 7 and s["tool"] is None, s
s = json.load(open("%s/show-192.0.2.1.json" % d))
assert not s["known"] and s["tool"] is None and s["lifetime"] is None, s
def addrs(f):
    j = json.load(open(f))
    rows = j if isinstance(j, list) else j.get("sources", j.get("rows", []))
    return sorted(r.get("addr", r.get("address")) for r in rows)
assert addrs(d + "/top-nmap.json") == ["203.0.113.20"], addrs(d + "/top-nmap.json")
assert addrs(d + "/top-zmap.json") == ["203.0.113.10"], addrs(d + "/top-zmap.json")
print("%s: 4 sources labelled as built (zmap-2 10, nmap-syn 6 + 2 other, mirai 5, none 7); "
      "top --tool lists only its own" % what)
EOF3
}
check_answers "replay"
if ctl_ sources top 10 --tool no-such-tool >"$tmp/bad.txt" 2>&1; then fail "unknown tool accepted"; fi
grep -q "unknown tool 'no-such-tool'" "$tmp/bad.txt" && grep -q "nmap-syn" "$tmp/bad.txt" \
	|| fail "unclear error for an unknown tool: $(cat "$tmp/bad.txt")"
if ctl_ sources show 10.1 >"$tmp/bad.txt" 2>&1; then fail "sources show 10.1 accepted"; fi
grep -q "not an IPv4 address" "$tmp/bad.txt" || fail "unclear error: $(cat "$tmp/bad.txt")"

# restart: the snapshot's section 21 brings the same labels back
stop_cp
start_cp "$tmp"
check_answers "after a restart"
echo "fp_sources: ok"
