#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""replay_same.py REF_DIR RUN_DIR — the analysis JSON of two replays of one capture are
equal (replay_formats.sh).

Every *.json of REF_DIR (one obscuractl --json command each) is compared with RUN_DIR's,
value for value, after setting aside what describes the run rather than the traffic:
the per-worker split, epochs and their sequence numbers, forced swaps, timings, drain
lag, memory, boot ids and paths, and the count of exchange records consumed (one
(source, hour) cut by an epoch boundary is two records).  Everything else — totals, drops, every source, cell,
class, RESIP and lifetime figure — must be identical.  Prints the first differences.
"""
import json
import os
import sys

# keys whose values depend on how the run was cut (workers, epochs, wall clock), never on
# the packets
RUN_KEYS = {
    "workers", "per_worker", "worker", "epochs", "epochs_drained", "epochs_dup",
    "epochs_invalid", "forced_swaps", "forced_epochs", "seq", "seq_published",
    "boot_id", "boots", "heartbeat_age_ms", "last_pkt_ns", "drain", "lag_ms",
    "max_lag_ms", "last_lag_ms", "drain_ms", "drain_ms_max", "uptime_s", "rss_kb",
    "memory", "mem", "bytes", "path", "exchange", "state_dir", "generated_at",
    "now", "computed_ns", "elapsed_ms", "journal", "snapshot", "dp_pid", "pid",
    # exchange records consumed and the memory they took: a (source, hour) that two
    # epochs share arrives as two records, so these follow the epoch cuts (wall-clock
    # timing of the drain), while every figure computed from them does not
    "src_records", "event_records", "port_records", "excluded_records", "cell_records",
    "memory_bytes",
    # loss stamps (docs/ctl-v1.md): an epoch's counters count in the hour of its first
    # packet, so their split over periods follows the epoch cuts; the verdicts beside
    # them ("complete" of a block, a day, a period) do not, and are compared
    "integrity", "integrity_periods",
}


# listings in the store's own order (its hash table), not a ranking: compared as sets
UNORDERED = {"scan_cells.json"}


def canon(o):
    return json.dumps(o, sort_keys=True)


def clean(o):
    if isinstance(o, dict):
        return {k: clean(v) for k, v in o.items() if k not in RUN_KEYS}
    if isinstance(o, list):
        return [clean(v) for v in o]
    return o


def sorted_lists(o):
    if isinstance(o, dict):
        return {k: sorted_lists(v) for k, v in o.items()}
    if isinstance(o, list):
        return sorted((sorted_lists(v) for v in o), key=canon)
    return o


def diff(a, b, path, out):
    if len(out) >= 20:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append("%s.%s: only in %s" % (path, k, "ref" if k in a else "run"))
            else:
                diff(a[k], b[k], "%s.%s" % (path, k), out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: %d items vs %d" % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (path, i), out)
    elif a != b:
        out.append("%s: %r vs %r" % (path, a, b))


def main():
    ref, run = sys.argv[1], sys.argv[2]
    names = sorted(f for f in os.listdir(ref) if f.endswith(".json"))
    if not names:
        sys.exit("replay_same: no JSON in %s" % ref)
    bad = 0
    for name in names:
        a = clean(json.load(open(os.path.join(ref, name))))
        try:
            b = clean(json.load(open(os.path.join(run, name))))
        except OSError:
            print("replay_same: %s missing in %s" % (name, run))
            bad += 1
            continue
        if name in UNORDERED:
            a, b = sorted_lists(a), sorted_lists(b)
        out = []
        diff(a, b, name[:-5], out)
        if out:
            bad += 1
            print("replay_same: %s differs:\n  %s" % (name, "\n  ".join(out)))
    if bad:
        sys.exit(1)
    print("replay_same: %s = %s: %d commands identical" % (run, ref, len(names)))


if __name__ == "__main__":
    main()
