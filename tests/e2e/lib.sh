# tests/e2e/lib.sh — helpers the e2e scripts share; source it, then call e2e_setup with the
# script's arguments.  It sets $py (the Debian python3, for scapy) and $src (the source
# tree); the helpers use $gen (obscura-gen), $cp (obscura-cp) and $ctl (obscuractl).
py=/usr/bin/python3
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# e2e_setup NAME VAR... -- PATH...: each VAR set to its PATH made absolute (the programs
# meson passes, e.g. gen dp cp ctl), a fresh $tmp, the DPDK file prefix $prefix, cp_pid=
# dp_pid= (set them when a daemon runs in the background), and an exit trap that stops
# both and removes $tmp and the prefix's DPDK runtime files.
e2e_setup() {
	local name=$1 vars=()
	shift
	while [ "$1" != -- ]; do vars+=("$1"); shift; done
	shift
	for v in "${vars[@]}"; do
		[ $# -gt 0 ] || { echo "usage: $0 ${vars[*]}" >&2; exit 2; }
		printf -v "$v" '%s' "$(realpath "$1")"
		shift
	done
	tmp=$(mktemp -d /tmp/obscura-"$name".XXXXXX)
	prefix=obs-$name-$$
	cp_pid= dp_pid=
	trap e2e_cleanup EXIT
}
e2e_cleanup() {
	[ -n "$dp_pid" ] && kill "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
	[ -n "$cp_pid" ] && kill "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null
	[ -n "${E2E_KEEP:-}" ] && echo "kept $tmp" >&2 && tmp=/nonexistent
	rm -rf "$tmp" /var/run/dpdk/"$prefix"* /run/dpdk/"$prefix"* 2>/dev/null
}

# fail MSG: say so, show the end of every log under $tmp, exit 1.
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.log "$tmp"/*/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -25 "$f"; }; done
	exit 1
}

# gen_traffic OPTIONS...: obscura-gen ($gen) with OPTIONS writing $tmp/traffic.pcap and its
# truth $tmp/truth.json; fails the test when it fails.
gen_traffic() {
	"$gen" "$@" --out "$tmp/traffic.pcap" --truth "$tmp/truth.json" || fail "obscura-gen"
}

# conf_dataplane WORKERS FILE_PREFIX: the dataplane part of a test config (no hugepages),
# on stdout.
conf_dataplane() {
	printf 'dataplane:\n  workers: %s\n  hugepages: no\n  file_prefix: %s\n' "$1" "$2"
}

# conf_control DIR [SOCKET_RO [METRICS_LISTEN]]: the control part of a test config (state
# and sockets in DIR, no privilege drop, no /metrics listener unless given), on stdout.
conf_control() {
	local ro=${2:-'""'} mx=${3:-'""'}
	cat <<EOC
control:
  state_dir: $1/state
  socket: $1/ctl.sock
  socket_ro: $ro
  socket_group: ""
  user: ""
  metrics_listen: $mx
EOC
}

# conf_replay DIR FILE_PREFIX [EXCHANGE_LINES [METRICS_LISTEN]]: the config of a replay
# test on stdout: 2 workers, one sensor s0 on 198.18.0.0/22, the exchange in DIR (1-s
# epochs, 65536 source records, 5 s drain wait) plus EXCHANGE_LINES (e.g.
# "  dos_capacity: 4096"), the control part in DIR.  The caller appends its other sections.
conf_replay() {
	conf_dataplane 2 "$2"
	cat <<EOC
telescope:
  sensors:
    - {name: s0, prefixes: [198.18.0.0/22]}
exchange:
  path: $1/exchange
  epoch_ms: 1000
  src_capacity: 65536
  drain_wait_s: 5
EOC
	if [ -n "${3:-}" ]; then printf '%s\n' "$3"; fi
	conf_control "$1" '""' "${4:-\"\"}"
}

# start_cp DIR: obscura-cp on DIR/obscura.yaml (log appended to DIR/cp.log, so restarts
# keep the earlier runs' lines), back once its socket answers `status`.
start_cp() {
	"$cp" -c "$1/obscura.yaml" >>"$1/cp.log" 2>&1 &
	cp_pid=$!
	for _ in $(seq 300); do
		kill -0 "$cp_pid" 2>/dev/null || fail "obscura-cp exited at start"
		"$ctl" -t 5 -c "$1/obscura.yaml" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "obscura-cp socket not up within 30 s"
}

# stop_cp: SIGTERM, at most 20 s to write its snapshot and exit, exit status 0.
stop_cp() {
	local rc
	kill -TERM "$cp_pid"
	for _ in $(seq 200); do
		if ! kill -0 "$cp_pid" 2>/dev/null; then
			wait "$cp_pid"; rc=$?; cp_pid=
			[ "$rc" = 0 ] || fail "obscura-cp exit $rc after SIGTERM"
			return 0
		fi
		sleep 0.1
	done
	fail "obscura-cp still running 20 s after SIGTERM"
}

# reload_wait OBSCURACTL [OPTIONS...] -- WORDS...: a table reload (`tables reload [T]`,
# `rules reload`) and its outcome.  The reload answers at once with the requests it posted;
# this polls `tables status` until the dataplane answered each, prints a line per table
# ("TABLE: loaded: MESSAGE", "TABLE: refused: REASON") and returns 0 when every table
# loaded, 1 when one did not or the reload itself failed (reload_wait.py).
reload_wait() {
	"$py" "$src/tests/e2e/reload_wait.py" "$@"
}
