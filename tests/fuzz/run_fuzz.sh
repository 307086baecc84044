#!/usr/bin/env bash
# run_fuzz.sh FUZZER CORPUS WORKDIR — one bounded libFuzzer run (the fuzz suite,
# tests/fuzz/meson.build).  The seed corpus is read, never written: new inputs go to
# WORKDIR/new, a crashing input to WORKDIR/crash-* (the test then fails and names it).
#   OBSCURA_FUZZ_SECONDS  run time (default 15)
#   OBSCURA_FUZZ_ARGS     more libFuzzer flags (e.g. -jobs=2, -dict=FILE)
set -euo pipefail
exe=$(realpath "$1") corpus=$2 work=$3
secs=${OBSCURA_FUZZ_SECONDS:-15}

[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "$corpus: empty or missing corpus" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work/new"
# halt on the first ASan/UBSan report; leaks are reported (libFuzzer's -detect_leaks)
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
rc=0
# the run's log stays in WORKDIR/log; the test log gets its start, end and statistics
# (or, after a failure, the report)
# shellcheck disable=SC2086
"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/" ${OBSCURA_FUZZ_ARGS:-} "$work/new" "$corpus" >"$work/log" 2>&1 || rc=$?
if [ $rc -eq 0 ]; then
	grep -E 'INITED|DONE|^stat::' "$work/log" || true
	exit 0
fi
tail -n 80 "$work/log"
for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
	[ -e "$f" ] && echo "run_fuzz: $(basename "$exe"): input kept in $f (replay: $exe $f)"
done
# libFuzzer exits 77 on a crash, which meson would count as a skip
exit 1
