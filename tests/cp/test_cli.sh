#!/usr/bin/env bash
# test_cli.sh — obscura-cp command line and privilege drop.
#
#   test_cli.sh OBSCURA_CP
#
# -n prints the normalised config (exit 0) and that output re-parses to the same text;
# a bad config exits 1 with the loader's message; an unknown option exits 2.  When run
# as root with a 'nobody' user: binds the sockets 0660 with control.socket_group, hands
# state_dir to control.user, drops to it, and still serves and snapshots.
set -uo pipefail
cp_bin=$1
py=/usr/bin/python3
d=$(mktemp -d /tmp/cp-cli-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$d/cp.log" ] && cat "$d/cp.log"; exit 1; }
ok() { echo "ok: $*"; }

cat >"$d/good.yaml" <<EOF2
exchange:
  path: $d/x.exchange
control:
  state_dir: $d/state
  socket: $d/run/ctl.sock
  socket_ro: $d/run/ctl-ro.sock
  metrics_listen: ""
telescope:
  sensors:
    - name: only
      prefixes: [203.0.113.0/24]
EOF2

"$cp_bin" -n -c "$d/good.yaml" >"$d/norm1.yaml" || fail "-n on a good config"
grep -q "max_clients: 32" "$d/norm1.yaml" || fail "-n output lacks defaults"
"$cp_bin" -n -c "$d/norm1.yaml" >"$d/norm2.yaml" || fail "-n on its own output"
cmp -s "$d/norm1.yaml" "$d/norm2.yaml" || fail "-n output does not round-trip"
ok "-n prints the normalised config and it round-trips"

sed 's/socket_ro:.*/max_clients: 5000/' "$d/good.yaml" >"$d/bad.yaml"
"$cp_bin" -n -c "$d/bad.yaml" >/dev/null 2>"$d/err"; rc=$?
[ $rc -eq 1 ] || fail "bad config: rc $rc, want 1"
grep -q "control.max_clients" "$d/err" || fail "bad config: message lacks the key: $(cat "$d/err")"
ok "bad config: exit 1 naming the key: $(cat "$d/err")"

# something that is not a socket at the socket path is not ours to remove
mkdir -p "$d/run"
echo keep >"$d/run/ctl.sock"
timeout 10 "$cp_bin" -c "$d/good.yaml" 2>"$d/bind.log"; rc=$?
[ $rc -eq 1 ] || fail "a file at the socket path: rc $rc, want 1"
grep -q "exists and is not a socket" "$d/bind.log" || fail "no refusal logged: $(tail -2 "$d/bind.log")"
[ "$(cat "$d/run/ctl.sock")" = keep ] || fail "the file at the socket path was replaced"
rm -f "$d/run/ctl.sock"
ok "a regular file at control.socket is refused and kept"

"$cp_bin" -Z >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown option: rc $rc, want 2"
ok "unknown option: exit 2"

if [ "$(id -u)" != 0 ] || ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then
	echo "SKIP privilege drop (needs root, user nobody, group nogroup)"
	exit 0
fi
chmod 0755 "$d"
sed -i "s|^control:|control:\n  user: nobody\n  socket_group: nogroup\n  snapshot_interval_s: 1|" "$d/good.yaml"

# A state file planted by the service user (a symbolic or hard link to a root file, a
# FIFO) is refused before anything is chowned, truncated or read through it.
mkdir -p "$d/state"
victim=$d/victim
for kind in symlink-journal symlink-snapshot hardlink-journal fifo-journal; do
	printf 'root data\n' >"$victim"; chown root:root "$victim"; chmod 0600 "$victim"
	rm -f "$d/state/journal" "$d/state/snapshot"
	case $kind in
	symlink-journal)  ln -s "$victim" "$d/state/journal" ;;
	symlink-snapshot) ln -s "$victim" "$d/state/snapshot" ;;
	hardlink-journal) ln "$victim" "$d/state/journal" ;;
	fifo-journal)     mkfifo "$d/state/journal" ;;
	esac
	timeout 10 "$cp_bin" -c "$d/good.yaml" 2>"$d/plant.log"; rc=$?
	[ $rc -eq 1 ] || fail "$kind: rc $rc, want 1: $(tail -3 "$d/plant.log")"
	grep -qE 'refused' "$d/plant.log" || fail "$kind: no refusal logged: $(tail -3 "$d/plant.log")"
	[ "$(stat -c %U:%a "$victim")" = root:600 ] || fail "$kind: victim now $(stat -c %U:%a "$victim")"
	[ "$(cat "$victim")" = "root data" ] || fail "$kind: victim content changed"
	ok "$kind: refused ($(grep -m1 -o 'state file.*' "$d/plant.log")), the root file untouched"
done
rm -f "$d/state/journal" "$d/state/snapshot" "$victim"
"$cp_bin" -c "$d/good.yaml" 2>"$d/cp.log" &
pid=$!
for i in $(seq 1 100); do [ -S "$d/run/ctl.sock" ] && break; sleep 0.05; done
sleep 0.3
kill -0 $pid 2>/dev/null || fail "cp exited"
[ "$(stat -c %a:%G "$d/run/ctl.sock")" = "660:nogroup" ] || fail "socket mode/group $(stat -c %a:%G "$d/run/ctl.sock")"
[ "$(stat -c %a:%G "$d/run/ctl-ro.sock")" = "660:nogroup" ] || fail "ro socket mode/group"
ok "sockets are 0660, group nogroup"
[ "$(stat -c %U "$d/state")" = nobody ] || fail "state_dir owner $(stat -c %U "$d/state")"
uid=$(awk '/^Uid:/ {print $2 $3 $4 $5}' /proc/$pid/status)
[ "$uid" = 65534655346553465534 ] || fail "process uids $uid"
ok "state_dir handed to nobody; the process runs as nobody"
grep -q "running as user nobody" "$d/cp.log" || fail "drop not logged"
$py - "$d/run/ctl.sock" <<'PY' || fail "ctl after the drop"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
assert "hello" in json.loads(f.readline())
f.write(b'{"id":1,"cmd":"snapshot.now"}\n'); f.flush()
r = json.loads(f.readline()); assert r["ok"], r
PY
[ "$(stat -c %U "$d/state/snapshot")" = nobody ] || fail "snapshot not written by nobody"
ok "serves and snapshots after the drop"
kill -TERM $pid; wait $pid; rc=$?; pid=
[ $rc -eq 0 ] || fail "SIGTERM rc $rc"
[ ! -e "$d/run/ctl.sock" ] || ok "(socket left: cannot unlink as nobody in a root dir)"
echo PASS
