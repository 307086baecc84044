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
# the block views of the tools (203.0.0.0/16, all four sources): `scan show` per-tool SYNs
# and shares, `scan list --n 1` its dominant tool, scan-tools.csv/.md of `scan report` and
# `report write` (stamped like scan-table3.csv), obscura_fingerprint_*_total on /metrics,
# all from the packets sent; `sources show` gives the RESIP row (provider, UTC day) and the
# longest scanner-table prefix the config gives the sources;
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
for i in range(1024):  # zmap 2.1.1: IP ID 54321, window 65535, no option; a sweep of
    # every telescope address on port 80, so that 203.0.0.0/16 has a wide-area period
    # (SPEC A3, with n = 1 port) and a `scan list --n 1` row
    syn("203.0.113.10", "198.18.%d.%d" % (i >> 8, i & 255), 80, i % 20000, id=54321,
        window=65535, seq=random.randrange(2**32))
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
for i in range(4):     # from two sources, a shape no rule claims, its option area padded
    # after an EOL (scapy pads 9 option bytes to 12: EOL then 3 zero bytes)
    syn("198.51.100.%d" % (7 + i % 2), dst(i + 220), 8443, i, window=29200,
        options=[("MSS", 1380), ("NOP", None), ("WScale", 0), ("EOL", None)],
        seq=random.randrange(2**32))
wrpcap(sys.argv[1], pk)
EOF
mkdir -p "$tmp/state" "$tmp/scanrep"
# 203.0.113.10 (zmap) is a RESIP address for the month around the capture; the scanner
# table names 203.0.113.0/24 and, inside it, 203.0.113.16/28 (nmap's source)
printf 'ip,provider,first_seen,last_seen\n203.0.113.10,provA,2023-11-01,2023-12-01\n' \
	>"$tmp/resip.csv"
printf '203.0.113.0/24 wide\n203.0.113.16/28 research-x\n' >"$tmp/scanners.txt"
# a free loopback port for /metrics (the kernel's choice; released just before use)
mport=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/obscura.yaml" <<EOF2
$(conf_replay "$tmp" "$prefix" "" "127.0.0.1:$mport")
tables:
  fingerprint_file: $src/conf/fingerprints.txt
  scanner_file: $tmp/scanners.txt
resip:
  table: $tmp/resip.csv
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
	ctl_ --json scan show 203.0.0.0/16 >"$tmp/scan-show.json" 2>>"$tmp/ctl.log" \
		|| fail "$1: scan show 203.0.0.0/16"
	ctl_ --json scan list --all --n 1 >"$tmp/scan-list.json" 2>>"$tmp/ctl.log" || fail "$1: scan list --all --n 1"
	ctl_ --json scan report "$tmp/scanrep" >"$tmp/scan-report.json" 2>>"$tmp/ctl.log" \
		|| fail "$1: scan report"
	rm -rf "$tmp/report"
	ctl_ --json report write "$tmp/report" >"$tmp/report.json" 2>>"$tmp/ctl.log" \
		|| fail "$1: report write"
	ctl_ --json fingerprints signatures 10 >"$tmp/fpsig.json" 2>>"$tmp/ctl.log" \
		|| fail "$1: fingerprints signatures 10"
	ctl_ fingerprints signatures >"$tmp/fpsig.txt" 2>>"$tmp/ctl.log" \
		|| fail "$1: fingerprints signatures (text)"
	"$py" -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r: sys.stdout.write(r.read().decode())' \
		"http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" || fail "$1: GET /metrics"
	"$py" - "$tmp" "$1" <<'EOF3' || fail "$1: the tool labels differ from the capture"
import json, sys
from scapy.all import IP, TCP, rdpcap
d, what = sys.argv[1], sys.argv[2]
# address: (tool, {tool: SYNs}, other labelled SYNs, packets).  A (source, hour) record
# names the tool of its first labelled SYN and counts the SYNs of other tools in that hour
# as other_syns (docs/fingerprints.md): the hping3 SYNs after nmap's in the same hour
want = {
    "203.0.113.10": ("zmap-2", {"zmap-2": 1024}, 0, 1024),
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
# --- the block views (scan show / list / scan-tools.csv), the metric, sources show's
# RESIP and scanner-table rows, from the packets sent
pk = [p for p in rdpcap(d + "/traffic.pcap") if TCP in p and p[TCP].flags == "S"]
blk = [p for p in pk if p[IP].src.startswith("203.0.")]
total = len(blk)    # every SYN of 203.0.0.0/16 went to the telescope
tools = {}
for a, (tool, per, other, packets) in want.items():
    assert sum(1 for p in blk if p[IP].src == a) == packets, a
    for k, v in per.items():
        tools[k] = tools.get(k, 0) + v
other = sum(w[2] for w in want.values())
labelled = sum(tools.values()) + other
order = sorted(tools.items(), key=lambda kv: -kv[1])
close = lambda x, y: abs(x - y) < 1e-6
sh = json.load(open(d + "/scan-show.json"))
per = [p for p in sh["periods"] if p["syns"]]
assert len(per) == 1 and per[0]["syns"] == total, sh
t = per[0]["tools"]
assert [(x["tool"], x["syns"]) for x in t["per_tool"]] == order, t
assert all(close(x["share"], x["syns"] / total) for x in t["per_tool"]), t
assert t["other_syns"] == other and close(t["other_share"], other / total), t
assert t["unlabelled_syns"] == total - labelled and close(t["unlabelled_share"], (total - labelled) / total), t
ids = {x["tool"]: x["id"] for x in t["per_tool"]}
row = [b for b in json.load(open(d + "/scan-list.json"))["blocks"] if b["block"] == "203.0.0.0/16"]
assert len(row) == 1 and row[0]["tool"]["name"] == order[0][0] \
    and row[0]["tool"]["syns"] == order[0][1] and close(row[0]["tool"]["share"], order[0][1] / total), row
def csv_rows(path):
    lines = open(path).read().splitlines()
    return [l for l in lines if l.startswith("#")], [l.split(",") for l in lines if not l.startswith("#")]
stamp, rows = csv_rows(d + "/scanrep/scan-tools.csv")
assert rows[0] == "block,period,tool,tool_id,syns,period_syns,share".split(","), rows[0]
want_rows = [(k, str(ids[k]), v) for k, v in order] + [("other", "", other), ("unlabelled", "", total - labelled)]
assert len(rows) == 1 + len(want_rows), rows
for r, (k, i, v) in zip(rows[1:], want_rows):
    assert r[:6] == ["203.0.0.0/16", per[0]["period"], k, i, str(v), str(total)] \
        and close(float(r[6]), v / total), (r, k, v)
# stamped like the other scan files; report write writes the same table
assert stamp and stamp == csv_rows(d + "/scanrep/scan-table3.csv")[0], stamp
assert csv_rows(d + "/report/scan-tools.csv")[1] == rows
md = open(d + "/scanrep/scan-tools.md").read()
assert "| 203.0.0.0/16 | %s | %s | %s | %d | %d |" % (per[0]["period"], order[0][0], ids[order[0][0]], order[0][1], total) in md, md
assert "scan-tools.csv" in json.load(open(d + "/scan-report.json"))["files"]
m = {}
for l in open(d + "/metrics.txt"):
    if l.startswith("obscura_fingerprint_"):
        k, v = l.rsplit(" ", 1)
        m[k] = int(float(v))
assert m == dict([('obscura_fingerprint_syns_total{tool="%s"}' % k, v) for k, v in tools.items()]
                 + [("obscura_fingerprint_other_syns_total", other)]), m
day = __import__("time").strftime("%Y-%m-%d", __import__("time").gmtime(float(pk[0].time)))
s = json.load(open("%s/show-203.0.113.10.json" % d))
assert s["resip"] == {"providers": ["provA"], "n_days": 1, "days": [day]}, s["resip"]
assert s["scanner_table"]["prefix"] == "203.0.113.0/24" and s["scanner_table"]["label"] == "wide", s
s = json.load(open("%s/show-203.0.113.20.json" % d))
assert s["resip"] is None and s["scanner_table"]["prefix"] == "203.0.113.16/28" \
    and s["scanner_table"]["label"] == "research-x" \
    and s["scanner_table"]["file"].endswith("scanners.txt"), s
s = json.load(open("%s/show-192.0.2.1.json" % d))
assert s["resip"] is None and s["scanner_table"] is None, s
# --- the signatures of the SYNs no rule labels (docs/fingerprints.md "Signatures"),
# each derived from the option bytes of the packets sent
def sig_of(p):
    t = p[TCP]
    area = bytes(t)[20:t.dataofs * 4]
    kinds, mss, ws, i, eol = [], None, None, 0, 0
    while i < len(area):
        k = area[i]
        if k == 0:
            eol = len(area) - i
            break
        kinds.append(k)
        if k == 1:
            i += 1
            continue
        n = area[i + 1]
        if k == 2 and n == 4:
            mss = int.from_bytes(area[i + 2:i + 4], "big")
        if k == 3 and n == 3:
            ws = area[i + 2]
        i += n
    parts = [str(k) for k in kinds] + ["0"] * eol
    return "%d_%s_%s_%s" % (t.window, "-".join(parts) or "00",
                            "00" if mss is None else mss, "00" if ws is None else ws)
labelled_src = set(want)
unl = [p for p in pk if p[IP].src not in labelled_src]
sigs = {}
for p in unl:
    c = sigs.setdefault(sig_of(p), [0, set()])
    c[0] += 1
    c[1].add(p[IP].src)
assert set(sigs) == {"64240_2-4-8-1-3_1460_7", "29200_2-1-3-0-0-0-0_1380_0"}, sigs
fs = json.load(open(d + "/fpsig.json"))
got = [(r["signature"], r["syns"], r["sources"]) for r in fs["signatures"]]
exp = sorted(((k, v[0], len(v[1])) for k, v in sigs.items()), key=lambda x: -x[1])
assert got == exp, (got, exp)
assert fs["unlabelled_syns"] == len(unl) and fs["held"] == len(sigs), fs
assert all(close(r["share"], r["syns"] / len(unl)) for r in fs["signatures"]), fs
assert fs["bad_records"] == 0 and fs["evicted"] == 0 and fs["evicted_syns"] == 0, fs
txt = open(d + "/fpsig.txt").read()
assert all(k in txt for k in sigs), txt
print("%s: signatures %s in fingerprints signatures" % (what, exp))
print("%s: block 203.0.0.0/16: %d SYNs, tools %s, other %d, unlabelled %d in scan show, "
      "scan list, scan-tools.csv/.md and the metric; RESIP and scanner-table rows as configured"
      % (what, total, order, other, total - labelled))
print("%s: 4 sources labelled as built (zmap-2 1024, nmap-syn 6 + 2 other, mirai 5, none 7); "
      "top --tool lists only its own" % what)
EOF3
}
check_answers "replay"
if ctl_ sources top 10 --tool no-such-tool >"$tmp/bad.txt" 2>&1; then fail "unknown tool accepted"; fi
grep -q "unknown tool 'no-such-tool'" "$tmp/bad.txt" && grep -q "nmap-syn" "$tmp/bad.txt" \
	|| fail "unclear error for an unknown tool: $(cat "$tmp/bad.txt")"
for n in 0 4097 x; do   # fingerprints signatures N: 1..4096
	if ctl_ fingerprints signatures "$n" >"$tmp/bad.txt" 2>&1; then fail "fingerprints signatures $n accepted"; fi
	grep -q "bad_args: fingerprints.signatures: argument 'n'" "$tmp/bad.txt" \
		|| fail "unclear error for fingerprints signatures $n: $(cat "$tmp/bad.txt")"
done
if ctl_ sources show 10.1 >"$tmp/bad.txt" 2>&1; then fail "sources show 10.1 accepted"; fi
grep -q "not an IPv4 address" "$tmp/bad.txt" || fail "unclear error: $(cat "$tmp/bad.txt")"

# restart: the snapshot's section 21 brings the same labels back
stop_cp
start_cp "$tmp"
check_answers "after a restart"
echo "fp_sources: ok"
