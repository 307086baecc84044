#!/usr/bin/python3
"""DoS backscatter records from a dataplane that lies (docs/dos.md).

usage: test_dos_forged.py OBSCURA_CP FAKE_DP

fake_dp --dos-capacity publishes, in every epoch of each of 2 workers, one good kind-6
record and 4 forged ones (first > last, a minute that is not the packets', an unknown
protocol bit, more ports than n_ports).  obscura-cp must count every forged record in
dos.stats bad_records (and /metrics' obscura_dos_bad_records_total via the same
counter), build exactly one attack per worker from the good ones — packets 40 per epoch,
peak 40 x 59 in the first minute (epochs 1..59) — and keep running; after a SIGKILL the journal replay
gives the same figures.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import check, cleanup, cp_test, fake_dp, fail  # noqa: E402

cp_bin, fake_bin, d, dm, exp = cp_test("dos-forged")
EPOCHS, WORKERS, FORGED = 90, 2, 4
ok = False
try:
    dm.start()
    fake_dp(fake_bin, dm.xpath, 7, exp(1),
            extra=["--epochs", str(EPOCHS), "--workers", str(WORKERS), "--interval-ms", "0",
                   "--wait-drained", "30", "--dos-capacity", "64",
                   "--time-base", "1700000040"])

    def figures():
        c = dm.conn()
        st = c.data("dos.stats")
        lst = c.data("dos.list")
        c.close()
        return st, lst

    for when in ("drained", "after SIGKILL and journal replay"):
        st, lst = figures()
        check(st["records"] == EPOCHS * WORKERS * (1 + FORGED),
              "%s: records %d, want %d" % (when, st["records"], EPOCHS * WORKERS * 5))
        check(st["bad_records"] == EPOCHS * WORKERS * FORGED,
              "%s: bad_records %d, want %d" % (when, st["bad_records"], EPOCHS * WORKERS * 4))
        check(len(lst) == WORKERS, "%s: %d attacks, want %d: %s" % (when, len(lst), WORKERS, lst))
        for a in lst:
            check(a["victim"] in ("11.0.0.1", "11.0.0.2"), "%s: victim %s" % (when, a["victim"]))
            check(a["packets"] == 40 * EPOCHS, "%s: packets %d" % (when, a["packets"]))
            # epochs 1..59 fall in the first minute of --time-base (epoch e at base + e s)
            check(a["peak_ppm"] == 40 * 59, "%s: peak %d" % (when, a["peak_ppm"]))
            check(a["ports"] == [80] and a["protocols"] == ["tcp"], "%s: %s" % (when, a))
        print("dos (%s): %d records, %d refused, %d attacks, table %d bytes for %d flows" % (
              when, st["records"], st["bad_records"], len(lst), st["memory_bytes"],
              st["max_flows"]))
        if when == "drained":
            dm.kill()
            dm.start()
    ok = True
finally:
    cleanup(dm, d)
if not ok:
    fail("dos")
print("test_dos_forged: ok")
