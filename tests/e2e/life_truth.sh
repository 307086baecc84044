#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# life_truth.sh OBSCURA_DP OBSCURA_CP OBSCURACTL
#
# SPEC.md C end to end: life_pcap.py writes traffic whose lifetimes, sensors, event types
# (packet classes and payload-rule matches from conf/rules/obscura.rules), gaps (exactly
# 60 s, 24 h, 30 d) and excluded sources are known; obscura-dp --replay feeds it through
# the exchange to obscura-cp; life_compare.py checks every life.* report, every source's
# event groups, the rule and exclusion counters and rules.status against the independent
# reference tests/reference/life_ref.py.  The report writer must produce Table 1 and
# Figs 1-8, and the lifetime state must survive a cp restart (snapshot section).  Last,
# `rules reload` (and SIGHUP) while the dataplane replays: counters exact, a missing file
# refused.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"   # $py, $src, e2e_setup, fail, gen_traffic, start_cp, reload_wait ...
e2e_setup life dp cp ctl -- "$@"

"$py" "$here/life_pcap.py" "$tmp" --sources 300 --seed 11 || fail "life_pcap.py"
mkdir -p "$tmp/state"
cat >"$tmp/obscura.yaml" <<EOF2
$(conf_dataplane 2 "$prefix")
telescope:
  sensors:
    - {name: s0, prefixes: [198.18.0.0/24]}
    - {name: s1, prefixes: [198.18.1.0/24]}
    - {name: s2, prefixes: [198.18.2.0/24]}
    - {name: s3, prefixes: [198.18.3.0/24]}
    - {name: s4, prefixes: [198.18.4.0/24]}
exchange:
  path: $tmp/exchange
  epoch_ms: 1000
  src_capacity: 65536
  event_capacity: 65536
  drain_wait_s: 5
$(conf_control "$tmp" "$tmp/ctl-ro.sock")
lifetime:
  gap_s: 86400
rules:
  files: [$src/conf/rules/obscura.rules]
exclude:
  files: [$tmp/exclude.txt]
EOF2


start_cp "$tmp"
timeout 300 "$dp" -c "$tmp/obscura.yaml" --replay "$tmp/traffic.pcap" --drain-timeout 120 \
	>"$tmp/dp.log" 2>&1 || fail "obscura-dp --replay exit $?"
"$py" "$here/life_compare.py" "$tmp/ctl.sock" "$tmp/events.jsonl" "$tmp/expect.json" \
	|| fail "the lifetime report differs from the reference"
"$ctl" -c "$tmp/obscura.yaml" life summary >"$tmp/summary.txt" 2>&1 || fail "obscuractl life summary"
"$ctl" -c "$tmp/obscura.yaml" life show 10.0.0.4 >"$tmp/show.txt" 2>&1 || fail "obscuractl life show"
grep -q "sid:1000001" "$tmp/show.txt" || fail "life show 10.0.0.4 lacks the SIP rule match"
"$ctl" -c "$tmp/obscura.yaml" --json report write "$tmp/report" >"$tmp/report.json" 2>&1 \
	|| fail "report write"
for f in life_table1.md life_table1.csv life_fig1_days.svg life_fig2_minutes.svg \
	life_fig3_sensors.svg life_fig4_countries.svg life_fig5_categories.svg \
	life_fig6_seconds.svg life_fig7_events.svg life_fig8_continuity.svg life_fig8_continuity.csv; do
	[ -s "$tmp/report/$f" ] || fail "report lacks $f"
done

# restart: the snapshot section brings the same state back
stop_cp
start_cp "$tmp"
"$py" "$here/life_compare.py" "$tmp/ctl.sock" "$tmp/events.jsonl" "$tmp/expect.json" \
	>"$tmp/after-restart.log" 2>&1 || { cat "$tmp/after-restart.log"; fail "state differs after a cp restart"; }

# rules reload under RCU while the dataplane replays the capture $copies more times: every
# reload (ctl and SIGHUP) swaps in an equivalent database, one reload finds the file
# missing and must be refused with the old database kept; afterwards every payload packet
# was scanned exactly once: rule_matches and payload_packets are exactly (1 + copies) x.
copies=2000
files=()
for _ in $(seq $copies); do files+=("$tmp/traffic.pcap"); done
cp "$src/conf/rules/obscura.rules" "$tmp/live.rules"
sed -i "s|files: \[$src/conf/rules/obscura.rules\]|files: [$tmp/live.rules]|" "$tmp/obscura.yaml"
grep -q "files: \[$tmp/live.rules\]" "$tmp/obscura.yaml" || fail "reload: config not rewritten"
stop_cp
start_cp "$tmp"
"$dp" -c "$tmp/obscura.yaml" --drain-timeout 120 --replay "${files[@]}" >"$tmp/dp-reload.log" 2>&1 &
dp_pid=$!
reloads=0 hups=0 bad_seen=0
for i in $(seq 1 2000); do
	kill -0 "$dp_pid" 2>/dev/null || break
	if [ $((i % 7)) = 0 ]; then
		kill -HUP "$dp_pid" 2>/dev/null && hups=$((hups + 1))
	elif [ $bad_seen = 0 ] && [ $reloads -ge 2 ]; then
		mv "$tmp/live.rules" "$tmp/live.rules.away"
		if reload_wait "$ctl" -c "$tmp/obscura.yaml" -- rules reload >"$tmp/bad-reload.out" 2>&1; then
			fail "reload of a missing rules file succeeded: $(cat "$tmp/bad-reload.out")"
		fi
		grep -q "live.rules" "$tmp/bad-reload.out" || fail "bad reload: unclear error: $(cat "$tmp/bad-reload.out")"
		# the dataplane itself refuses too, keeping its database
		if reload_wait "$ctl" -c "$tmp/obscura.yaml" -- tables reload rules >"$tmp/bad-reload-dp.out" 2>&1; then
			kill -0 "$dp_pid" 2>/dev/null && fail "dataplane reload of a missing rules file succeeded"
		else
			grep -q "rules not replaced.*live.rules" "$tmp/bad-reload-dp.out" \
				|| fail "bad dp reload: unclear error: $(cat "$tmp/bad-reload-dp.out")"
			# rules.status is the dataplane's report (exchange header): the old
			# database still in use, the refusal and its reason beside it
			"$ctl" -c "$tmp/obscura.yaml" --json rules status >"$tmp/rules-refused.json" \
				2>>"$tmp/ctl.log" || fail "rules status after a refused reload"
			"$py" - "$tmp/rules-refused.json" <<'EOF4' || fail "rules status after a refused reload: $(cat "$tmp/rules-refused.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["loaded"] and d["accepted"] == 14 and d["rejected"] == 0, d
assert d["patterns"] > 0 and d["db_bytes"] > 0 and d["scratch_bytes"] > 0, d
assert "live.rules" in d["last_refused"]["error"], d
EOF4
		fi
		bad_seen=1
		mv "$tmp/live.rules.away" "$tmp/live.rules"
	else
		reload_wait "$ctl" -c "$tmp/obscura.yaml" -- rules reload >>"$tmp/reloads.out" 2>&1 && reloads=$((reloads + 1))
	fi
	sleep 0.01
done
wait "$dp_pid" || fail "reload: obscura-dp exit $?"
echo "rules reload: $reloads ctl reloads, $hups SIGHUPs, missing file refused: $bad_seen ($(head -c 200 "$tmp/bad-reload.out"); dataplane: $(head -c 200 "$tmp/bad-reload-dp.out"))"
[ "$reloads" -ge 3 ] || fail "reload: only $reloads rules reloads while the dataplane ran"
[ "$bad_seen" = 1 ] || fail "reload: the missing file was never tried while the dataplane ran"
grep -q "accepted" "$tmp/reloads.out" || fail "reload: the dataplane did not report the new database"
"$ctl" -c "$tmp/obscura.yaml" --json stats >"$tmp/stats-reload.json" 2>>"$tmp/ctl.log" || fail "reload: stats"
"$py" - "$tmp/stats-reload.json" "$tmp/expect.json" $((copies + 1)) <<'EOF3' || fail "reload: totals are not exactly (1 + copies) x the expected"
import json, sys
s, e, k = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
t = s["total"] if "total" in s else s
bad = [(n, t[n], k * e[n]) for n in ("payload_packets", "rule_matches", "excluded_packets")
       if t[n] != k * e[n]]
print("after reloads: payload_packets %d, rule_matches %d, excluded_packets %d (x%d)" % (
      t["payload_packets"], t["rule_matches"], t["excluded_packets"], k))
sys.exit(1 if bad else 0)
EOF3
stop_cp
echo "life_truth: ok"
