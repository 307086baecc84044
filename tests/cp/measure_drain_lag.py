#!/usr/bin/python3
"""Measure the drain lag while a client asks for the whole source list (not a test).

usage: measure_drain_lag.py OBSCURA_CP FAKE_DP [SOURCES]

Fills the store with SOURCES sources (default 68000), restarts obscura-cp (so the lag
maximum starts from zero), then lets fake_dp publish an epoch per worker every 100 ms
for about 12 s, twice: once with no client, once with a client asking `sources.top 0`
over and over.  Prints the drain lag (status drain.lag_last_ms sampled every 100 ms,
and drain.lag_max_ms) of each run and how long each `sources.top 0` took.  Timing
figures only: nothing here is asserted.
"""
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Daemon, cleanup, fake_dp, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
n_src = int(sys.argv[3]) if len(sys.argv) > 3 else 68000
cap = 1 << (n_src // 2).bit_length()
d = tmpdir("lag")
dm = Daemon(cp_bin, d, snapshot_interval_s=3600)


def run(seed, with_query):
    dm.start()
    p = fake_dp(fake_bin, dm.xpath, seed, os.path.join(d, "exp%d.json" % seed), wait=False,
                extra=["--sources", "2000", "--per-epoch", "200", "--epochs", "120",
                       "--interval-ms", "100", "--wait-drained", "30"])
    stop = threading.Event()
    took = []

    def query():
        c = dm.conn()
        while not stop.is_set():
            t0 = time.time()
            rows = c.data("sources.top", {"n": 0})
            took.append((time.time() - t0, len(rows)))
        c.close()

    t = threading.Thread(target=query) if with_query else None
    if t is not None:
        t.start()
    s = dm.conn()
    lags = []
    while p.poll() is None:
        st = s.data("status")
        lags.append(st["drain"]["lag_last_ms"])
        time.sleep(0.1)
    st = s.data("status")
    stop.set()
    if t is not None:
        t.join()
    s.close()
    dm.stop()
    lags.sort()
    print("%-22s lag_last_ms median %.1f p90 %.1f max %.1f; lag_max_ms %.1f; sources %d"
          % ("sources.top 0 looping" if with_query else "no client",
             statistics.median(lags), lags[int(len(lags) * 0.9)], lags[-1],
             st["drain"]["lag_max_ms"], st["sources"]))
    if took:
        print("%-22s %d replies of %d rows, %.3f s each (median), %.3f s max"
              % ("", len(took), took[0][1], statistics.median(x[0] for x in took),
                 max(x[0] for x in took)))


try:
    dm.start()
    fake_dp(fake_bin, dm.xpath, 1, os.path.join(d, "fill.json"),
            extra=["--sources", str(n_src), "--per-epoch", str(n_src // 2),
                   "--src-capacity", str(cap), "--epochs", "12", "--interval-ms", "0",
                   "--wait-drained", "60"])
    dm.stop()
    run(2, False)
    run(3, True)
finally:
    cleanup(dm, d)
