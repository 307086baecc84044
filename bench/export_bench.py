#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/export_bench.py — the ClickHouse export's throughput and storage (docs/export.md).

    bench/export_bench.py [--build-dir DIR] [--epochs N] [--sources M] [--per-epoch R]
                          [--kv FILE]

obscura-cp exports into a clickhouse-server of its own on loopback (started here, own
config and data under a temporary directory).  ClickHouse is started only after fake_dp
has published everything and the drain has spooled it, so the figure is the sender's
(spool -> HTTP -> MergeTree), not fake_dp's rate: obscura-cp is stopped, ClickHouse
started, obscura-cp started again on the whole spool, and rows sent / seconds from that
start to the spool being empty (the control plane's start included).  Then the bytes ClickHouse keeps per million
source-hour rows of obscura_sources (after OPTIMIZE ... FINAL, compressed, on disk).
Prints one Markdown table; the numbers of a run are in bench/README.md.  With --kv, also
writes the figures as KEY=value lines to FILE (bench/run's export rows read them).
"""
import argparse
import os
import shutil
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "tests", "cp"))
from cplib import Daemon, fail, fake_dp, tmpdir  # noqa: E402
from chlib import ClickHouse  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--build-dir", default=os.path.join(root, "build"))
ap.add_argument("--epochs", type=int, default=40)
ap.add_argument("--sources", type=int, default=100000)
ap.add_argument("--per-epoch", type=int, default=10000)
ap.add_argument("--kv", help="also write the figures as KEY=value lines here")
a = ap.parse_args()
cp_bin = os.path.join(a.build_dir, "control", "obscura-cp")
fake_bin = os.path.join(a.build_dir, "bench", "fake_dp")   # also tests/cp/fake_dp
cap = 1
while cap * 3 < a.per_epoch * 2 * 2:   # per-epoch draws up to 1.5 x R; load <= 0.75
    cap *= 2

d = tmpdir("export-bench")
ch = ClickHouse(os.path.join(d, "ch"))
dm = Daemon(cp_bin, d, snapshot_interval_s=3600)
with open(dm.conf, "a") as f:
    f.write("export:\n  clickhouse:\n    url: %s\n    database: bench\n    appliance: bench\n"
            "    spool_max_mb: 65536\n" % ch.url)


def status():
    c = dm.conn()
    st = c.data("status")
    c.close()
    return st["export"]


try:
    dm.start()
    fake_dp(fake_bin, dm.xpath, 1, os.path.join(d, "exp.json"),
            extra=["--workers", "2", "--epochs", str(a.epochs), "--sources", str(a.sources),
                   "--per-epoch", str(a.per_epoch), "--src-capacity", str(cap),
                   "--interval-ms", "0", "--wait-drained", "300"])
    x = status()
    rows, spool = x["rows_spooled"], x["spool_bytes"]
    # the spool stays on disk; obscura-cp is started again once ClickHouse is up, so the
    # sender starts on the whole backlog at once (no retry pause in the timing; the
    # control plane's own start is in it: a conservative figure)
    dm.stop()
    ch.start()
    t0, r0 = time.time(), 0
    dm.start()
    while True:
        x = status()
        if x["spool_files"] == 0 and x["rows_sent"] >= rows:
            break
        if time.time() - t0 > 900:
            fail("the spool did not drain in 15 min: %r" % x)
        time.sleep(0.05)
    dt = time.time() - t0
    ch.query("OPTIMIZE TABLE bench.obscura_sources FINAL")
    (src_rows,), = ch.rows("SELECT count() FROM bench.obscura_sources")
    (sh,), = ch.rows("SELECT uniqExact(hour, addr) FROM bench.obscura_sources")
    (disk,), = ch.rows("SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND "
                       "database = 'bench' AND table = 'obscura_sources'")
    # a fleet-style query over the table: every source's packets, with FINAL (the
    # exact answer with duplicates collapsed at read time) and without
    qt = {}
    for name, fin in (("final", "FINAL"), ("plain", "")):
        t = time.time()
        ch.query("SELECT addr, sum(packets) FROM bench.obscura_sources %s GROUP BY addr "
                 "FORMAT Null" % fin)
        qt[name] = time.time() - t
    print("| figure | measured |")
    print("|---|---|")
    print("| export: rows/s sent, spool -> ClickHouse (all tables, %d rows, %.1f MB TSV; "
          "timed: %d rows in %.2f s) | %.0f |" % (rows, spool / 1e6, rows - r0, dt, (rows - r0) / dt))
    print("| export: spool bytes per row (TabSeparated) | %.0f |" % (spool / rows))
    print("| ClickHouse bytes on disk per million obscura_sources rows (%s rows, %s source-hours) | %.1f MB |"
          % (src_rows, sh, int(disk) / int(src_rows)))   # bytes per row = MB per million
    print("| ClickHouse bytes on disk per million source-hours | %.1f MB |" % (int(disk) / int(sh)))
    for name in ("final", "plain"):
        print("| query: per-source sum over obscura_sources%s, M rows/s | %.1f |" %
              (" FINAL" if name == "final" else "", int(src_rows) / qt[name] / 1e6))
    if a.kv:
        with open(a.kv, "w") as f:
            f.write("EXP_ROWS=%d\nEXP_TIMED_ROWS=%d\nEXP_SEC=%.3f\nEXP_ROWS_S=%.0f\n"
                    "EXP_SPOOL_B_ROW=%.1f\nEXP_SRC_ROWS=%s\nEXP_SRC_HOURS=%s\n"
                    "EXP_B_PER_ROW=%.2f\nEXP_B_PER_SH=%.2f\nEXP_Q_FINAL_MRS=%.2f\n"
                    "EXP_Q_PLAIN_MRS=%.2f\n" %
                    (rows, rows - r0, dt, (rows - r0) / dt, spool / rows, src_rows, sh,
                     int(disk) / int(src_rows), int(disk) / int(sh),
                     int(src_rows) / qt["final"] / 1e6, int(src_rows) / qt["plain"] / 1e6))
finally:
    if dm.alive():
        dm.kill()
    ch.stop()
    shutil.rmtree(d, ignore_errors=True)
