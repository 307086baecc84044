#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen_resip.py — write a synthetic RESIP table CSV (ip,provider,first_seen,last_seen) of
a given size, for load-time and lookup benchmarks (bench/README.md, "RESIP table").

  bench/gen_resip.py --rows 6200000 --out /tmp/resip-6.2M.csv

Addresses are drawn without replacement from 1.0.0.0-223.255.255.255; about one address in
six gets rows for a second provider (the paper's multi-provider hosts); times mix ISO dates,
ISO date-times with Z and +09:00, and epoch seconds, as operators' exports do.
"""
import argparse
import random
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=6_200_000)
    ap.add_argument("--providers", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    provs = [f"provider{i:02d}" for i in range(a.providers)]
    lo, hi = 0x01000000, 0xDFFFFFFF
    day0 = 1704067200  # 2024-01-01
    with open(a.out, "w", buffering=1 << 20) as f:
        f.write("ip,provider,first_seen,last_seen\n")
        n = 0
        step = (hi - lo) // a.rows  # strided so addresses are unique without a set
        addr = lo
        while n < a.rows:
            addr += rnd.randint(1, max(1, 2 * step - 1))
            if addr > hi:
                addr = lo + rnd.randint(0, 255)
            ip = f"{addr >> 24}.{(addr >> 16) & 255}.{(addr >> 8) & 255}.{addr & 255}"
            k = 2 if rnd.random() < 1 / 6 else 1
            for p in rnd.sample(provs, k):
                first = day0 + rnd.randint(0, 300) * 86400
                last = first + rnd.randint(0, 60) * 86400
                style = n % 4
                if style == 0:
                    fs = f"{first}"
                    ls = f"{last}"
                elif style == 1:
                    fs = "%04d-%02d-%02d" % ymd(first)
                    ls = "%04d-%02d-%02d" % ymd(last)
                elif style == 2:
                    fs = "%04d-%02d-%02dT00:00:00Z" % ymd(first)
                    ls = "%04d-%02d-%02dT23:59:59Z" % ymd(last)
                else:
                    fs = "%04d-%02d-%02dT09:00:00+09:00" % ymd(first)
                    ls = "%04d-%02d-%02dT08:59:59+09:00" % ymd(last + 86400)
                f.write(f"{ip},{p},{fs},{ls}\n")
                n += 1
                if n >= a.rows:
                    break
    print(f"{a.out}: {n} rows", file=sys.stderr)


_cache = {}


def ymd(t):
    d = t // 86400
    r = _cache.get(d)
    if r is None:
        import datetime
        x = datetime.date(1970, 1, 1) + datetime.timedelta(days=d)
        r = _cache[d] = (x.year, x.month, x.day)
    return r


if __name__ == "__main__":
    main()
