#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# burst_digest.sh BURST_BENCH TRAFGEN SRC_ROOT — the exchange contents are the same for
# the same input whatever the burst's internals: a fixed mix (uniform, then with heavy
# hitters) through obs_worker_burst() with the scanner, exclusion and RESIP tables, the
# shipped rules and fingerprints, several epochs at a fixed packet time; every published
# slot's counters and records are folded into one digest (bench/bb_digest.h), which must
# equal tests/dp/burst_digest.expected.  That file was written by the burst before the
# hot-path work of issue 17 (commit b583bab's worker), and rewritten once since, when the
# worker began publishing kind 7 (the SYN signatures, issue 14: with kind 7 taken as
# empty the digests were b583bab's); regenerate it only for a change that is meant to
# change the exchange contents, and say so in the commit.
#   OBS_DIGEST_WRITE=1 burst_digest.sh ...   prints the lines for the file instead
set -uo pipefail
bb=$1 trafgen=$2 src=$3
tag=perf-digest-$$
tmp=$(mktemp -d /tmp/obscura-burst-digest.XXXXXX)
trap 'rm -rf "$tmp" /var/run/dpdk/"$tag"* /run/dpdk/"$tag"* 2>/dev/null' EXIT
"$trafgen" --write-resip "$tmp/resip.csv" --resip-rows 20000 >/dev/null &&
"$trafgen" --write-scanners "$tmp/scan.txt" --scanner-prefixes 2000 >/dev/null &&
"$trafgen" --write-scanners "$tmp/excl.txt" --scanner-prefixes 64 --seed 77777777777 >/dev/null ||
	{ echo "FAIL: trafgen could not write the tables"; exit 1; }
out=()
for mix in uniform hot; do
	extra=()
	[ $mix = hot ] && extra=(--hot-share 0.6 --hot-sources 2000)
	"$bb" --sources 20000 --packets 200000 --epoch-ms 10 --digest 3 "${extra[@]}" \
		--scanner-file "$tmp/scan.txt" --exclude-file "$tmp/excl.txt" \
		--resip-file "$tmp/resip.csv" --rules-file "$src/conf/rules/obscura.rules" \
		--fp-file "$src/conf/fingerprints.txt" \
		-- --no-huge -m 512 --no-pci -l 0 --file-prefix "$tag-$mix" --log-level lib.eal:error \
		>"$tmp/$mix.out" 2>"$tmp/$mix.err" ||
		{ echo "FAIL: burst_bench --digest ($mix) exit $?"; tail -5 "$tmp/$mix.err"; exit 1; }
	d=$(sed -n 's/^bb digest //p' "$tmp/$mix.out")
	[ -n "$d" ] || { echo "FAIL: no digest ($mix)"; cat "$tmp/$mix.out"; exit 1; }
	grep '^bb digest\.' "$tmp/$mix.out" | sed "s/^bb /$mix: /"
	out+=("$mix $d")
done
if [ "${OBS_DIGEST_WRITE:-0}" = 1 ]; then
	printf '%s\n' "${out[@]}"
	exit 0
fi
exp=$src/tests/dp/burst_digest.expected
fail=0
for line in "${out[@]}"; do
	mix=${line%% *}
	want=$(sed -n "s/^$mix //p" "$exp")
	if [ "$line" = "$mix $want" ]; then
		echo "ok: $mix digest ${line#* }"
	else
		echo "FAIL: $mix digest ${line#* }, expected ${want:-nothing} ($exp)"
		fail=1
	fi
done
exit $fail
