#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# ctl_client.sh OBSCURACTL — obscuractl against a fake ctl v1 server (fake_cp.py):
# greeting and protocol check, longest-prefix command mapping, streamed chunks, JSON
# and text output, error replies, garbage from the server, and the no-daemon message.
set -uo pipefail
ctl=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
tmp=$(mktemp -d /tmp/obscura-ctl-test.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

start_fake() {   # start_fake SOCKET [fake_cp options]
	local s=$1; shift
	"$py" "$here/fake_cp.py" "$s" "$@" &
	pids+=($!)
	for _ in $(seq 100); do [ -S "$s" ] && return 0; sleep 0.05; done
	echo "fake server did not start"; exit 1
}

# expect NAME WANT_RC GREP_PATTERN -- command...   (pattern checked on stdout+stderr)
expect() {
	local name=$1 want=$2 pat=$3; shift 4
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" != "$want" ]; then
		bad "$name: exit $rc, want $want; output: $out"
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$out"; then
		bad "$name: output does not match /$pat/: $out"
	else
		ok "$name"
	fi
}

S=$tmp/ctl.sock
start_fake "$S"

# no daemon: the exact message, exit 2
expect "no daemon" 2 '^obscuractl: cannot connect to /nonexistent/ctl.sock: No such file or directory \(is obscura-cp running\?\)$' \
	-- "$ctl" -s /nonexistent/ctl.sock status
out=$("$ctl" -s /run/obscura/none.sock status 2>&1 >/dev/null)
[ "$out" = "obscuractl: cannot connect to /run/obscura/none.sock: No such file or directory (is obscura-cp running?)" ] \
	&& ok "no daemon (message)" || bad "no daemon (message): $out"

# -c CONF finds control.socket
cat >"$tmp/conf.yaml" <<EOF
telescope:
  sensors:
    - name: east
      prefixes: [198.18.0.0/20]
control:
  socket: $S
EOF
expect "-c CONF" 0 '^server +fake-cp' -- "$ctl" -c "$tmp/conf.yaml" status

# longest-prefix mapping
expect "sources top 3 -> sources.top" 0 '' -- "$ctl" -s "$S" sources top 3
n=$("$ctl" -s "$S" --json sources top 3 | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(len(d), d[0]["addr"])')
[ "$n" = "3 192.0.2.1" ] && ok "streamed chunks joined (3 of 2+1)" || bad "streamed chunks: $n"
n=$("$ctl" -s "$S" --json sources top 7 | "$py" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 7 ] && ok "streamed chunks joined (7 of 2+2+2+1)" || bad "streamed chunks 7: $n"
n=$("$ctl" -s "$S" --json sources x y | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["which"], d["argv"])')
[ "$n" = "sources ['x', 'y']" ] && ok "sources x y -> sources [x y]" || bad "sources x y: $n"
n=$("$ctl" -s "$S" --json sources.top 2 | "$py" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 2 ] && ok "dotted word sources.top" || bad "dotted word: $n"
n=$("$ctl" -s "$S" --json echo a "b c" | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["cmd"], d["argv"], isinstance(d["id"], int))')
[ "$n" = "echo ['a', 'b c'] True" ] && ok "argv passed as strings, integer id" || bad "echo: $n"
n=$("$ctl" -s "$S" --json empty stream)
[ "$n" = "[]" ] && ok "zero chunks -> []" || bad "zero chunks: $n"
expect "unknown command" 1 "^obscuractl: error unknown_command: no command 'frobnicate'" -- "$ctl" -s "$S" frobnicate now

# JSON keeps the server's key order
n=$("$ctl" -s "$S" --json stats | "$py" -c 'import json,sys; print(list(json.load(sys.stdin)))')
[ "$n" = "['rx_packets', 'tel_packets', 'proto', 'drops']" ] && ok "--json key order" || bad "--json key order: $n"

# text: tables with headers, numbers right-aligned, nested sections
out=$("$ctl" -s "$S" status)
grep -qE '^dataplane:$' <<<"$out" && grep -qE '^  state +running$' <<<"$out" \
	&& grep -qE '^  worker  packets  state$' <<<"$out" && grep -qE '^       1    12345  ok$' <<<"$out" \
	&& grep -qE '^boot_wall_ns +2024-01-01T00:00:00' <<<"$out" \
	&& ok "text: sections, table, right-aligned numbers, times" || bad "text status: $out"
out=$("$ctl" -s "$S" sources top 2)
head -1 <<<"$out" | grep -qE '^addr +packets +first_ns +last_ns +sensors$' && grep -qE '^192\.0\.2\.1 +963 ' <<<"$out" \
	&& grep -q 'east, west' <<<"$out" && ok "text: table of sources" || bad "text sources: $out"

out=$("$ctl" -s "$S" help)
grep -qE '^command +args +access +help$' <<<"$out" && grep -qE '^sources top +\[n\] +read +top sources' <<<"$out" \
	&& grep -qE '^snapshot now +admin' <<<"$out" && ok "text: help as typed words" || bad "text help: $out"
n=$("$ctl" -s "$S" --json help | "$py" -c 'import json,sys; print(json.load(sys.stdin)[4]["cmd"])')
[ "$n" = sources.top ] && ok "--json help: the server's table" || bad "--json help: $n"

# errors from the server: message with the code on stderr, exit 1, nothing on stdout
out=$("$ctl" -s "$S" fail 2>/dev/null); rc=$?
err=$("$ctl" -s "$S" fail 2>&1 >/dev/null)
[ $rc = 1 ] && [ -z "$out" ] && [ "$err" = "obscuractl: error bad_args: n must be a number" ] \
	&& ok "error reply" || bad "error reply: rc $rc out '$out' err '$err'"

# garbage from the server: clear error, exit 1, no crash
expect "bad JSON line" 1 '^obscuractl: bad reply from the server: bad JSON' -- "$ctl" -s "$S" bad json
expect "reply for another id" 1 'bad reply from the server: reply for request 999' -- "$ctl" -s "$S" bad id
expect "chunk not a list" 1 'bad reply from the server: chunk is not an array' -- "$ctl" -s "$S" bad chunk
expect "NUL inside a line" 1 'bad reply from the server: bad JSON' -- "$ctl" -s "$S" bad nul
expect "closed mid-reply" 1 'connection closed' -- "$ctl" -s "$S" cut

# greeting checks
start_fake "$tmp/p2.sock" --proto 2
expect "protocol 2 refused" 1 'server speaks ctl protocol 2, this obscuractl speaks 1' -- "$ctl" -s "$tmp/p2.sock" status
start_fake "$tmp/busy.sock" --greeting busy
expect "busy instead of greeting" 1 '^obscuractl: error busy: too many clients' -- "$ctl" -s "$tmp/busy.sock" status
start_fake "$tmp/garbage.sock" --greeting garbage
expect "garbage greeting" 1 'bad reply from the server: bad JSON in the greeting' -- "$ctl" -s "$tmp/garbage.sock" status
start_fake "$tmp/silent.sock" --greeting none
expect "silent server times out" 1 'no reply .* within 1 s' -- "$ctl" -t 1 -s "$tmp/silent.sock" status

# interactive (stdin not a tty): commands run in order on one connection, quit ends it
out=$(printf 'stats\nsources top 1\n\nquit\nstatus\n' | "$ctl" -s "$S" 2>&1); rc=$?
grep -qE '^rx_packets +100$' <<<"$out" && grep -qE '^192\.0\.2\.1 ' <<<"$out" && ! grep -q fake-cp <<<"$out" \
	&& [ $rc = 0 ] && ok "interactive: commands, quit" || bad "interactive: rc $rc: $out"
out=$(printf 'fail\nstats\n' | "$ctl" -s "$S" 2>&1)
grep -q 'error bad_args' <<<"$out" && grep -qE '^rx_packets' <<<"$out" \
	&& ok "interactive: error then next command" || bad "interactive error: $out"

# usage
expect "bad option" 2 'usage: obscuractl' -- "$ctl" --bogus
expect "--help" 0 'usage: obscuractl' -- "$ctl" --help

echo "ctl_client: $fails failed"
[ $fails = 0 ]
