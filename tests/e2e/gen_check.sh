#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# gen_check.sh OBSCURA_GEN — the generator on its own: deterministic by seed, a pcap that
# tcpdump reads with exactly --packets frames, a truth that an independent parser
# (pcap_truth.py) recomputes from the bytes, every drop reason present, option checks.
set -uo pipefail
gen=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/obscura-gen-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

N=20000
common=(--packets $N --malformed-share 0.02 --vlan-share 0.05 --backwards-share 0.002 -q
	--sensor east=198.18.0.0/20 --sensor west=198.18.16.0/20 --sensor north=203.0.113.0/24,198.51.100.0/25)
"$gen" "${common[@]}" --seed 11 --out "$tmp/a.pcap" --truth "$tmp/a.json" || bad "generate a"
"$gen" "${common[@]}" --seed 11 --out "$tmp/b.pcap" --truth "$tmp/b.json" || bad "generate b"
"$gen" "${common[@]}" --seed 12 --out "$tmp/c.pcap" --truth "$tmp/c.json" || bad "generate c"

cmp -s "$tmp/a.pcap" "$tmp/b.pcap" && cmp -s "$tmp/a.json" "$tmp/b.json" \
	&& ok "same seed: byte-identical pcap and truth" || bad "same seed differs"
cmp -s "$tmp/a.pcap" "$tmp/c.pcap" && bad "different seed: same pcap" || ok "different seed: different pcap"

magic=$(od -An -tx4 -N4 "$tmp/a.pcap" | tr -d ' ')
[ "$magic" = a1b23c4d ] && ok "nanosecond pcap magic" || bad "magic $magic"

if command -v tcpdump >/dev/null; then
	n=$(tcpdump -nr "$tmp/a.pcap" 2>/dev/null | wc -l)
	[ "$n" = $N ] && ok "tcpdump reads $n frames" || bad "tcpdump read $n frames, want $N"
	tcpdump -nr "$tmp/a.pcap" >/dev/null 2>"$tmp/err" && ok "tcpdump exit 0" || bad "tcpdump: $(cat "$tmp/err")"
	n=$(tcpdump --nano -nr "$tmp/a.pcap" 'tcp[tcpflags] == tcp-syn and (dst port 23 or dst port 2323)' 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] && ok "Mirai-port SYNs present ($n)" || bad "no Mirai-port SYNs"
	n=$(tcpdump -nr "$tmp/a.pcap" 'vlan' 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] && ok "VLAN frames present ($n)" || bad "no VLAN frames"
	n=$(tcpdump -A -nr "$tmp/a.pcap" 'udp dst port 5060' 2>/dev/null | grep -c 'OPTIONS sip:')
	[ "$n" -gt 0 ] && ok "SIP OPTIONS present ($n)" || bad "no SIP OPTIONS"
	n=$(tcpdump -A -nr "$tmp/a.pcap" 'tcp' 2>/dev/null | grep -c 'UNION%20SELECT\|<script>\|%3Cscript')
	[ "$n" -gt 0 ] && ok "SQLi/XSS payloads present ($n)" || bad "no SQLi/XSS payloads"
else
	bad "tcpdump not installed (apt-get install -y tcpdump)"
fi

"$py" "$here/pcap_truth.py" "$tmp/a.pcap" "$tmp/a.json" && ok "truth recomputed from the pcap" || bad "truth differs from the pcap"

"$py" - "$tmp/a.json" <<'PY' && ok "truth: every reason, every kind, backwards, 3 sensors" || bad "truth content"
import json, sys
t = json.load(open(sys.argv[1]))
tot = t["totals"]
assert tot["rx_packets"] == t["params"]["packets"] == 20000
assert tot["rx_packets"] == tot["tel_packets"] + sum(tot["drops"].values())
assert sum(tot["proto"].values()) == tot["tel_packets"]
assert all(v > 0 for v in tot["drops"].values()), tot["drops"]
assert all(v > 0 for v in tot["proto"].values()), tot["proto"]
assert tot["time_backwards"] > 0
for k in ("background", "backscatter", "mirai", "resip", "payload-http", "payload-sip", "scanner-small"):
    assert t["kinds"][k]["sources"] > 0, k
assert t["sensors"] == ["east", "west", "north"]
assert any(s["sensors"] == ["east", "west", "north"] for s in t["sources"])
assert len(t["sources"]) == t["sources_total"]
PY

# Full scanner blocks when the budget pays for them (small telescope): every class planned.
"$gen" -q --packets 200000 --seed 42 --sensor east=198.18.0.0/27 --sensor west=198.18.16.0/27 \
	--mix background=0.2,backscatter=0.08,mirai=0.1,scanner=0.5,resip=0.08,payload=0.04 \
	--out "$tmp/s.pcap" --truth "$tmp/s.json" --truth-sources-max 50 || bad "generate scanners"
"$py" - "$tmp/s.json" <<'PY' && ok "scanner blocks: routine, semi-routine, ad-hoc, near misses" || bad "scanner blocks"
import json, sys
t = json.load(open(sys.argv[1]))
cls = {(b["kind"], b["variant"], b["expected_class"]) for b in t["scanner_blocks"]}
for want in [("scanner-routine", "routine", "routine"), ("scanner-semi-routine", "semi-routine", "semi-routine"),
             ("scanner-ad-hoc", "ad-hoc", "ad-hoc"), ("scanner-near-miss", "ports", "none"),
             ("scanner-near-miss", "months", "none"), ("scanner-near-miss", "coverage", "none")]:
    assert want in cls, (want, cls)
for b in t["scanner_blocks"]:
    for p in b["periods"]:
        assert len(set(p["ports"])) == len(p["ports"])
assert len(t["sources"]) == 50 and t["sources_total"] > 50
PY
"$py" "$here/pcap_truth.py" "$tmp/s.pcap" "$tmp/s.json" >/dev/null && ok "scanner run: truth recomputed" || bad "scanner run truth"

# option checks
"$gen" -q --packets 10 --sensor a=10.0.0.0/8 --sensor b=10.1.0.0/16 --out "$tmp/x.pcap" 2>/dev/null
[ $? = 2 ] && ok "overlapping sensors refused" || bad "overlap accepted"
"$gen" -q --packets 10 --sensor a=10.0.0.1/8 --out "$tmp/x.pcap" 2>/dev/null
[ $? = 2 ] && ok "host bits refused" || bad "host bits accepted"
"$gen" -q --packets 10 --span 3x --out "$tmp/x.pcap" 2>/dev/null
[ $? = 2 ] && ok "bad span refused" || bad "bad span accepted"
"$gen" -q --packets 1 --out "$tmp/one.pcap" --truth "$tmp/one.json" \
	&& "$py" "$here/pcap_truth.py" "$tmp/one.pcap" "$tmp/one.json" >/dev/null && ok "one packet" || bad "one packet"
"$gen" -q --packets 5000 --span 30s --start 2025-06-30T23:59:50Z --out "$tmp/short.pcap" --truth "$tmp/short.json" \
	&& "$py" "$here/pcap_truth.py" "$tmp/short.pcap" "$tmp/short.json" >/dev/null && ok "30 s span across a month end" || bad "short span"

# A sensor that fills whole /16s (one /16, or two /17s): not_telescope frames "near" the
# telescope cannot come from a prefix's own /16, and the generator used to retry that
# forever.  Bounded by a timeout; the pcap must still match its truth (every frame
# counted not_telescope really is outside every sensor), and the near ones come from the
# /16s next to the sensor.
for s in "tel=10.0.0.0/16" "a=10.0.0.0/17 --sensor b=10.0.128.0/17"; do
	# shellcheck disable=SC2086
	timeout 60 "$gen" -q --packets 20000 --malformed-share 0.05 --sensor $s \
		--out "$tmp/w.pcap" --truth "$tmp/w.json"
	rc=$?
	if [ $rc = 124 ]; then
		bad "--sensor $s: generator did not finish in 60 s"
		continue
	fi
	[ $rc = 0 ] && "$py" "$here/pcap_truth.py" "$tmp/w.pcap" "$tmp/w.json" >/dev/null \
		&& ok "--sensor $s (whole /16s): finishes, truth recomputed" || bad "--sensor $s: rc $rc or truth"
	"$py" -c 'import json,sys; assert json.load(open(sys.argv[1]))["totals"]["drops"]["not_telescope"] >= 40' \
		"$tmp/w.json" || bad "--sensor $s: too few not_telescope frames"
	if command -v tcpdump >/dev/null; then
		n=$(tcpdump -nr "$tmp/w.pcap" 2>/dev/null | grep -cE '> (9\.255|10\.1)\.[0-9]+\.[0-9]+[.:]')
		[ "$n" -gt 0 ] && ok "--sensor $s: $n not_telescope frames to the /16s next to it" \
			|| bad "--sensor $s: no not_telescope frame next to the sensor"
	fi
done
# a telescope larger than half the unicast space leaves too little room for sources
big=$("$py" -c 'print(",".join("%d.0.0.0/8" % o for o in range(100, 213)))')
"$gen" -q --packets 100 --sensor "big=$big" --out "$tmp/x.pcap" 2>/dev/null
[ $? = 2 ] && ok "a telescope over half the unicast space refused" || bad "huge telescope accepted"

echo "gen_check: $fails failed"
[ $fails = 0 ]
