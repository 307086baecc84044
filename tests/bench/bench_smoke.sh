#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench_smoke.sh SRC_ROOT BUILD_ROOT — bench/run --smoke on the meson build: it must
# finish and print its one table with every row (values are not checked).
set -uo pipefail
src=$1 build=$2
out=$(mktemp /tmp/obscura-bench-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT
timeout 100 "$src/bench/run" --smoke --build-dir "$build" --no-build --no-results >"$out" 2>&1
rc=$?
[ $rc = 0 ] || { echo "FAIL: bench/run --smoke exit $rc"; tail -30 "$out"; exit 1; }
missing=0
for row in 'I/O ceiling: rxdrop' 'full pipeline, live: obscura-dp Mpps' \
	'full pipeline, live: Mpps per worker CPU-second' 'full pipeline, live: cycles/packet' \
	'lost_updates during the live run' \
	'micro: obs_worker_burst() cycles/packet' 'micro: Mpps per core' \
	'micro, realistic repeats (heavy hitters)' \
	'micro stage: parse' 'micro stage: tel_map' 'micro stage: time_counters' \
	'micro stage: exclude_lpm' 'micro stage: scanner_lpm' 'micro stage: fingerprint' 'micro stage: resip_lookup' \
	'micro stage: coverage' 'micro stage: src_record' 'micro stage: resip_port' 'micro stage: events' \
	'micro stage: payload' 'micro: sum of the stages' \
	'micro stage: free' 'I/O ceiling per core' 'minimal pipeline per core' 'memory: cp store per M' \
	'memory: exchange per M' 'memory: coverage cells' 'memory: RESIP table' \
	'machine: a random 64 B line' 'machine: random lines a packet' \
	'memory: cp per M sources, by part' 'replay: end to end, generated mix' \
	'replay: end to end with a capture' \
	'no capture: burst with the capture check' \
	'replay: libpcap read loop' 'replay: start-up' "replay: a /8 telescope's day" \
	'tables: scanner table build' 'export: rows/s sent' 'export: ClickHouse bytes on disk' \
	'responder: SYN -> SYN-ACK cycles per answered SYN' 'responder: obs_worker_burst() with it' \
	'responder: rxdrop busy + burst with it'; do
	grep -qF "| $row" "$out" || { echo "FAIL: row missing: $row"; missing=1; }
done
grep -q '^| figure' "$out" || { echo "FAIL: no table header"; missing=1; }
# the replay rows have figures (the generated file was replayed end to end)
grep -F '| replay: end to end' "$out" | grep -q '| n/a' &&
	{ echo "FAIL: the end-to-end replay gave no figure"; missing=1; }
grep -F '| replay: libpcap read loop' "$out" | grep -q '| n/a' &&
	{ echo "FAIL: pcap_loop gave no figure"; missing=1; }
# the yardstick's tool ran (a figure, whatever it is, not n/a)
grep -F '| machine: a random 64 B line' "$out" | grep -q ' n/a ' &&
	{ echo "FAIL: memlat gave no figure"; missing=1; }
# the export bench ran against a real clickhouse-server (deploy/setup installs it)
grep -F '| export: rows/s sent' "$out" | grep -q '| n/a' &&
	{ echo "FAIL: the export bench gave no figure"; missing=1; }
# responder (issue 13): the burst with and without it ran, a figure per answered SYN
grep -F '| responder: SYN -> SYN-ACK' "$out" | grep -q '| n/a' &&
	{ echo "FAIL: the responder bench gave no figure"; missing=1; }
grep -F '| tables: scanner table build' "$out" | grep -q '| n/a' &&
	{ echo "FAIL: scanner_load_bench gave no figure"; missing=1; }
grep -F '| no capture: burst with the capture check' "$out" | grep -q '| n/a' &&
	{ echo "FAIL: the capture-off A/B gave no figure"; missing=1; }
[ $missing = 0 ] || { cat "$out"; exit 1; }
echo "bench_smoke: ok ($(grep -c '^| ' "$out") table lines)"
