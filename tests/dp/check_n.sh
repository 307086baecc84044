#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# obscura-dp -n: prints the normalised config without touching EAL; the output
# re-parses to identical output; a bad config exits 1 naming the key.
# usage: check_n.sh OBSCURA_DP SRCROOT
set -u
DP=$1 ROOT=$2
T=$(mktemp -d /tmp/obs-dp-n.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for c in "$ROOT/conf/obscura.yaml" "$T/test.yaml"; do
	[ "$c" = "$T/test.yaml" ] && cat > "$c" <<EOC
dataplane:
  workers: 3
  hugepages: no
  ports:
    - name: t0
      device: "net_af_packet0,iface=veth0"
telescope:
  sensors:
    - name: s
      prefixes: [10.0.0.0/8]
exchange:
  path: $T/x
EOC
	"$DP" -n -c "$c" > "$T/n1.yaml" 2> "$T/n1.err" || fail "-n $c: exit $? $(cat $T/n1.err)"
	grep -q "EAL" "$T/n1.err" && fail "-n initialised EAL"
	[ -s "$T/n1.yaml" ] || fail "-n $c printed nothing"
	"$DP" -n -c "$T/n1.yaml" > "$T/n2.yaml" 2> "$T/n2.err" || fail "re-parse of -n output: $(cat $T/n2.err)"
	cmp -s "$T/n1.yaml" "$T/n2.yaml" || { diff "$T/n1.yaml" "$T/n2.yaml"; fail "-n output not a fixed point"; }
done
grep -q "workers: 3" "$T/n1.yaml" || fail "normalised config lost workers: 3"

bad() {   # bad KEY YAML
	printf '%s\n' "$2" > "$T/bad.yaml"
	"$DP" -n -c "$T/bad.yaml" > "$T/bad.out" 2> "$T/bad.err"
	local rc=$?
	[ $rc -eq 1 ] || fail "bad config ($1) exit $rc, expected 1"
	grep -q "$1" "$T/bad.err" || fail "bad config: message lacks '$1': $(cat $T/bad.err)"
	# the same file stops a real start, before EAL
	"$DP" -c "$T/bad.yaml" > "$T/bad.out" 2> "$T/bad.err"
	rc=$?
	[ $rc -eq 1 ] || fail "start with bad config ($1) exit $rc, expected 1"
	grep -q "$1" "$T/bad.err" || fail "start: message lacks '$1'"
	grep -q "EAL" "$T/bad.err" && fail "bad config reached EAL"
	return 0
}
bad dataplane.workers $'dataplane:\n  workers: 0'
bad telescope.sample_cap $'telescope:\n  sample_cap: 70000'
bad exchange.epoch_ms $'exchange:\n  epoch_ms: abc'
"$DP" -n -c "$T/does-not-exist.yaml" > /dev/null 2>&1 && fail "missing config accepted"
"$DP" --bogus > /dev/null 2>&1 && fail "unknown option accepted"
echo PASS
