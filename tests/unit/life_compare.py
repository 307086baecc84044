#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""life_compare.py LIFE_CHECK LIFE_REF — SPEC C: control/life/lifetime.c (fed per-hour
aggregates in shuffled order, via life_check) against the event-level reference
tests/reference/life_ref.py on generated inputs with the 60 s / 24 h / 30 d boundaries,
for several seeds and two gap settings.  Any difference fails, naming the first key."""
import json
import subprocess
import sys
import tempfile


def diff(a, b, path=""):
    if type(a) != type(b):
        return path + ": %r != %r" % (a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return path + "/" + k + ": missing on one side"
            d = diff(a[k], b[k], path + "/" + k)
            if d:
                return d
    elif isinstance(a, list):
        if len(a) != len(b):
            return path + ": length %d != %d" % (len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
    elif a != b:
        return path + ": %r != %r" % (a, b)
    return None


def main():
    check, ref = sys.argv[1], sys.argv[2]
    bad = 0
    for seed in (1, 2, 3):
        for gap in (86400, 7200):
            with tempfile.NamedTemporaryFile("w+", suffix=".jsonl") as ev:
                subprocess.run([sys.executable, ref, "--gen", "400", "--seed", str(seed)],
                               stdout=ev, check=True)
                ev.flush()
                r = json.loads(subprocess.run([sys.executable, ref, "--gap-s", str(gap), ev.name],
                                              capture_output=True, check=True, text=True).stdout)
                c = json.loads(subprocess.run([check, "--gap-s", str(gap), "--seed", str(seed),
                                               ev.name], capture_output=True, check=True,
                                              text=True).stdout)
            d = diff(r, c)
            print("seed %d gap %d: %d sources, buckets %s, eligible %d: %s" % (
                seed, gap, r["n_sources"], r["buckets"], r["eligible"], d or "identical"))
            bad += d is not None
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
