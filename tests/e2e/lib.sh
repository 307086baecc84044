# tests/e2e/lib.sh — helpers the e2e scripts share; source it after defining $cp
# (obscura-cp) and $ctl (obscuractl), then call e2e_init NAME.

# e2e_init NAME: $tmp (a fresh /tmp/obscura-NAME.XXXXXX, removed at exit), $prefix (the
# DPDK file prefix obs-NAME-PID), cp_pid= dp_pid= (what e2e_cleanup stops at exit).
e2e_init() {
	tmp=$(mktemp -d "/tmp/obscura-$1.XXXXXX")
	prefix=obs-$1-$$
	cp_pid= dp_pid=
	trap e2e_cleanup EXIT
}

e2e_cleanup() {
	[ -n "$dp_pid" ] && kill "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
	[ -n "$cp_pid" ] && kill "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null
	rm -rf "$tmp" /var/run/dpdk/"$prefix"* /run/dpdk/"$prefix"* 2>/dev/null
}

# fail MSG: the message and the tail of every log under $tmp, then exit 1.
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.log "$tmp"/*/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -25 "$f"; }; done
	exit 1
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
