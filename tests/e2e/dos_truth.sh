#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# dos_truth.sh OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# DoS backscatter end to end (docs/dos.md): dos_pcap.py writes a scapy capture of attack
# backscatter around the definition's edges; obscura-dp --replay feeds it through the
# exchange (kind 6) to obscura-cp; `dos list` must equal the attacks dos_pcap.py computes
# from the capture with tshark alone, `stats` the backscatter packets, `dos show` the
# victim split by an exactly-300-s gap; the report writes dos-attacks.csv/.md and
# dos-timeline.svg; a cp restart (snapshot section 22) answers the same; bad option words
# are refused with a clear error.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
e2e_setup dos dp cp ctl -- "$@"

"$py" "$here/dos_pcap.py" gen "$tmp/traffic.pcap" || fail "dos_pcap.py gen"
mkdir -p "$tmp/state"
conf_replay "$tmp" "$prefix" "  dos_capacity: 4096" >"$tmp/obscura.yaml"

start_cp "$tmp"
timeout 300 "$dp" -c "$tmp/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	>"$tmp/dp.log" 2>&1 || fail "obscura-dp --replay exit $?"
ctl_() { "$ctl" -c "$tmp/obscura.yaml" "$@"; }
ctl_ --json dos list >"$tmp/list.json" 2>"$tmp/ctl.log" || fail "obscuractl dos list"
ctl_ --json stats >"$tmp/stats.json" 2>>"$tmp/ctl.log" || fail "obscuractl stats"
"$py" "$here/dos_pcap.py" check "$tmp/traffic.pcap" "$tmp/list.json" 1024 "$tmp/stats.json" \
	|| fail "dos list differs from the tshark reference"

# a SYN-ACK is not a scan: the coverage cells hold the scanners' SYNs only (their
# blocks, their count as tshark sees them), no victim's block
ctl_ --json scan cells >"$tmp/cells.json" 2>>"$tmp/ctl.log" || fail "scan cells"
"$py" - "$tmp/cells.json" "$tmp/traffic.pcap" <<'EOF3' || fail "backscatter reached the coverage cells"
import json, subprocess, sys
cells = json.load(open(sys.argv[1]))
syns = int(subprocess.run(["tshark", "-r", sys.argv[2], "-n", "-Y",
    "tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == 198.18.0.0/22"],
    check=True, capture_output=True, text=True).stdout.count("\n"))
blocks = {c["block"] for c in cells}
assert blocks and all(b.startswith("192.0") for b in blocks), blocks
assert sum(c["syns"] for c in cells) == syns, (sum(c["syns"] for c in cells), syns)
print("coverage: %d SYNs in blocks %s, no backscatter" % (syns, sorted(blocks)))
EOF3

ctl_ --json dos show 203.0.113.40 >"$tmp/show.json" 2>>"$tmp/ctl.log" || fail "dos show"
"$py" - "$tmp/show.json" <<'EOF3' || fail "dos show 203.0.113.40: $(cat "$tmp/show.json")"
import json, sys
d = json.load(open(sys.argv[1]))
a = [x for x in d["attacks"] if x["attack"]]
assert len(a) == 2 and a[1]["start_ns"] - a[0]["end_ns"] == 300 * 10**9, a
assert "complete" in d["integrity"], d
EOF3
ctl_ dos list --min-rate 1e15 >"$tmp/list-rate.txt" 2>&1 || fail "dos list --min-rate"
ctl_ --json dos list --from 2023-11-14T22:20 --to 2023-11-14T22:30 >"$tmp/list-range.json" \
	2>>"$tmp/ctl.log" || fail "dos list --from --to"
"$py" - "$tmp/list.json" "$tmp/list-range.json" <<'EOF3' || fail "dos list --from/--to"
import json, sys
allv, rng = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
lo, hi = 1700000400 * 10**9, 1700001000 * 10**9
want = [a["start_ns"] for a in allv if a["end_ns"] >= lo and a["start_ns"] < hi]
assert sorted(a["start_ns"] for a in rng) == sorted(want) and len(want) < len(allv), (want, rng)
EOF3
if ctl_ dos list --from yesterday >"$tmp/bad.txt" 2>&1; then fail "dos list --from yesterday accepted"; fi
grep -q "from 'yesterday'" "$tmp/bad.txt" || fail "unclear error: $(cat "$tmp/bad.txt")"
if ctl_ dos show 10.1 >"$tmp/bad.txt" 2>&1; then fail "dos show 10.1 accepted"; fi

ctl_ --json report write "$tmp/report" >"$tmp/report.json" 2>&1 || fail "report write"
for f in dos-attacks.csv dos-attacks.md dos-timeline.svg; do
	[ -s "$tmp/report/$f" ] || fail "report lacks $f"
done
n=$("$py" -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$tmp/list.json")
# the CSV opens with its loss stamp, whose first line says how many lines to skip;
# the rows after it are the attacks of `dos list`, victim and packets alike
"$py" - "$tmp/report/dos-attacks.csv" "$tmp/list.json" <<'PY' || fail "dos-attacks.csv != dos list"
import csv, json, re, sys
lines = open(sys.argv[1]).read().splitlines()
m = re.match(r"# obscura loss stamp: (\d+) lines", lines[0])
if not m:
    sys.exit("no loss stamp on the first line: %r" % lines[0])
rows = list(csv.DictReader(lines[int(m.group(1)):]))
want = sorted((a["victim"], int(a["packets"])) for a in json.load(open(sys.argv[2])))
got = sorted((r["victim"], int(r["packets"])) for r in rows)
if got != want:
    sys.exit("csv %s != list %s" % (got, want))
print("dos-attacks.csv: %d attacks under a %s-line stamp, equal to dos list" % (len(rows), m.group(1)))
PY
[ "$(grep -c '<rect x=' "$tmp/report/dos-timeline.svg")" = "$n" ] || fail "timeline bars != $n"

# restart: the snapshot section brings the same attacks back
stop_cp
start_cp "$tmp"
ctl_ --json dos list >"$tmp/list2.json" 2>>"$tmp/ctl.log" || fail "dos list after restart"
"$py" "$here/dos_pcap.py" check "$tmp/traffic.pcap" "$tmp/list2.json" 1024 \
	|| fail "dos list differs after a cp restart"
stop_cp
echo "dos_truth: ok ($n attacks)"
