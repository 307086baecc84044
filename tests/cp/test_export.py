#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The ClickHouse export (control/export.h, docs/export.md) against a real
clickhouse-server on loopback, started here with its own config and data directory:

 1. what fake_dp publishes arrives, totals and every source equal to `stats` and
    `sources.top`;
 2. ClickHouse stopped, then hung (SIGSTOP: inserts time out): the drain goes on (every
    epoch in the store), the spool grows, status warns; ClickHouse back: the spool
    drains, totals exact;
 3. the same spool files sent twice (a crash between an insert and the file's removal)
    collapse to one (FINAL), and SIGKILLs of obscura-cp while it drains and exports lose
    and duplicate nothing;
 4. bad input: an unreachable URL is a warning and a growing spool; a full spool drops
    and counts; a malformed spool file is set aside and counted; a bad URL in the config
    is a startup error naming the key; a batch ClickHouse refuses (rows that do not parse)
    gathered with good ones is set aside as *.rejected, counted and warned about, and the
    good ones all arrive.

    test_export.py OBSCURA_CP FAKE_DP
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cplib  # noqa: E402
from cplib import Daemon, check, cleanup, fail, fake_dp, merge_expected, tmpdir  # noqa: E402
from chlib import ClickHouse, free_port  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]


def wait_for(pred, what):
    # a ClickHouse catching up after an outage may take longer than cplib's default
    cplib.wait_for(pred, what, timeout=60)


def add_export(dm, url, **over):
    keys = {"url": url, "database": "obs", "appliance": "box1"}
    keys.update(over)
    with open(dm.conf, "a") as f:
        f.write("export:\n  clickhouse:\n")
        for k, v in keys.items():
            f.write("    %s: %s\n" % (k, v))


def export_status(dm):
    c = dm.conn()
    st = c.data("status")
    c.close()
    return st


def spool_empty(dm):
    x = export_status(dm)["export"]
    return x["spool_files"] == 0 and x["batches_sent"] > 0 and x["state"] == "ok"


def compare_ch(ch, dm, what, db="obs"):
    """ClickHouse (FINAL: one row per epoch key) against the appliance's own answers."""
    c = dm.conn()
    st = c.data("stats")
    old = c.s.gettimeout()
    c.s.settimeout(120)
    top = c.data("sources.top", {"n": 0})
    c.s.settimeout(old)
    c.close()
    (ep, tel, rx), = ch.rows("SELECT count(), sum(tel_packets), sum(rx_packets) FROM %s.obscura_epochs FINAL" % db)
    check(int(ep) == st["epochs"], "%s: %s epochs in ClickHouse == %d in stats" % (what, ep, st["epochs"]))
    check(int(tel) == st["total"]["tel_packets"] and int(rx) == st["total"]["rx_packets"],
          "%s: epoch stamps' tel_packets %s, rx_packets %s == stats %d, %d" %
          (what, tel, rx, st["total"]["tel_packets"], st["total"]["rx_packets"]))
    got = {}
    for addr, pk, fst, lst, mask in ch.rows(
            "SELECT IPv4NumToString(addr), sum(packets), min(first_ns), max(last_ns), "
            "groupBitOr(sensor_mask) FROM %s.obscura_sources FINAL GROUP BY addr" % db):
        got[addr] = (int(pk), int(fst), int(lst), int(mask))
    check(len(got) == len(top), "%s: %d sources in ClickHouse == %d in sources.top" % (what, len(got), len(top)))
    names = ["alpha", "beta"]
    for r in top:
        g = got.get(r["addr"])
        if g is None:
            fail("%s: source %s missing in ClickHouse" % (what, r["addr"]))
        gs = [names[i] for i in range(2) if g[3] >> i & 1]
        if (g[0], g[1], g[2], gs) != (r["packets"], r["first_ns"], r["last_ns"], r["sensors"]):
            fail("%s: source %s: ClickHouse %r, appliance %r" % (what, r["addr"], g, r))
    (pk,), = ch.rows("SELECT sum(packets) FROM %s.obscura_sources FINAL" % db)
    check(int(pk) == st["total"]["tel_packets"], "%s: sum(packets) FINAL %s == stats tel_packets" % (what, pk))
    print("ok: %s: ClickHouse holds %s epochs, %d sources, %s packets, equal to stats" % (what, ep, len(got), pk))
    return st


d = tmpdir("export")
ch = ClickHouse(os.path.join(d, "ch"))
dm = Daemon(cp_bin, d)
dm2 = None
exp = lambda k: os.path.join(d, "exp%d.json" % k)  # noqa: E731
FD = ["--workers", "2", "--epochs", "30", "--cell-capacity", "1024", "--interval-ms", "5",
      "--wait-drained", "60"]
try:
    ch.start()
    add_export(dm, ch.url, timeout_s=3)

    # ---- 1: export what is drained ----
    # into an obscura_epochs table of the first version (no `reserved` column): the export
    # adds the column and its rows go in (docs/export.md obscura_epochs)
    ch.query("CREATE DATABASE obs")
    ch.query("CREATE TABLE obs.obscura_epochs (appliance String, boot UInt64, worker UInt32, "
             "seq UInt64, t_first_ns UInt64, t_last_ns UInt64, published_wall_ns UInt64, "
             "flags UInt32, rx_packets UInt64, rx_bytes UInt64, tel_packets UInt64, "
             "tel_bytes UInt64, proto_packets Array(UInt64), drops Array(UInt64), "
             "lost_updates UInt64, time_backwards UInt64, forced_swaps UInt64, "
             "excluded_packets UInt64, resip_packets UInt64, scanner_packets UInt64, "
             "cov_syns UInt64, payload_packets UInt64, rule_matches UInt64) "
             "ENGINE = ReplacingMergeTree() PARTITION BY tuple() "
             "ORDER BY (appliance, boot, worker, seq)")
    dm.start()
    fake_dp(fake_bin, dm.xpath, 1, exp(1), extra=FD)
    wait_for(lambda: spool_empty(dm), "the spool to drain")
    compare_ch(ch, dm, "export")
    (cells, syns), = ch.rows("SELECT count(), sum(syns) FROM obs.obscura_cells FINAL")
    check(int(cells) > 0 and int(syns) > 0, "coverage cells exported (%s cells, %s SYNs)" % (cells, syns))
    tabs = set(r[0] for r in ch.rows("SELECT name FROM system.tables WHERE database = 'obs'"))
    check({"obscura_sources", "obscura_cells", "obscura_events", "obscura_resip_ports",
           "obscura_epochs"} <= tabs, "the export created its tables: %s" % sorted(tabs))
    (nres,), = ch.rows("SELECT count() FROM system.columns WHERE database = 'obs' AND "
                       "table = 'obscura_epochs' AND name = 'reserved'")
    (nrow,), = ch.rows("SELECT count() FROM obs.obscura_epochs FINAL WHERE length(reserved) = 8")
    check(int(nres) == 1 and int(nrow) > 0,
          "the old obscura_epochs table got its reserved column; %s rows carry the 8 words" % nrow)

    # ---- 2: ClickHouse down: the drain goes on, the spool grows, status warns ----
    ch.stop()
    fake_dp(fake_bin, dm.xpath, 2, exp(2), extra=FD)
    st = export_status(dm)
    check(st["epochs_drained"] == merge_expected([exp(1), exp(2)])["epochs"],
          "ClickHouse down: the drain took every epoch (%d) all the same" % st["epochs_drained"])
    wait_for(lambda: export_status(dm)["export"]["state"] == "failing", "the export to notice")
    st = export_status(dm)
    x = st["export"]
    check(x["spool_files"] > 0 and x["spool_bytes"] > 0, "spool grows: %d files, %d bytes" %
          (x["spool_files"], x["spool_bytes"]))
    check(any(w.startswith("export: ClickHouse not taking batches") for w in st["warnings"]),
          "status warns: %r" % st["warnings"])
    print("ok: ClickHouse down: drain lag max %.1f ms, spool %d files; warning: %s" %
          (st["drain"]["lag_max_ms"], x["spool_files"], st["warnings"][-1]))
    spool = os.path.join(dm.state, "export-spool")
    saved = os.path.join(d, "saved-spool")
    shutil.copytree(spool, saved)
    ch.start()
    wait_for(lambda: spool_empty(dm), "the spool to drain after ClickHouse came back")
    compare_ch(ch, dm, "after ClickHouse came back")

    # ---- 2b: ClickHouse hangs (SIGSTOP): inserts time out, the drain goes on ----
    ch.p.send_signal(signal.SIGSTOP)
    try:
        fake_dp(fake_bin, dm.xpath, 5, exp(5), extra=FD)
        st = export_status(dm)
        check(st["epochs_drained"] == merge_expected([exp(1), exp(2), exp(5)])["epochs"],
              "ClickHouse hung: the drain took every epoch all the same")
        wait_for(lambda: export_status(dm)["export"]["state"] == "failing", "inserts to time out")
        x = export_status(dm)["export"]
        check(x["spool_files"] > 0, "a hung ClickHouse: the spool grows (%d files): %s" %
              (x["spool_files"], x["last_error"]))
    finally:
        ch.p.send_signal(signal.SIGCONT)
    wait_for(lambda: spool_empty(dm), "the spool to drain after ClickHouse resumed")
    compare_ch(ch, dm, "after ClickHouse hung and resumed")

    # ---- 3a: the same batches sent again collapse to one ----
    dm.stop()
    n_saved = 0
    for fn in os.listdir(saved):
        if fn.endswith(".tsv"):
            shutil.copy(os.path.join(saved, fn), os.path.join(spool, fn))
            n_saved += 1
    check(n_saved > 0, "%d spool files put back (as after a crash before their removal)" % n_saved)
    resent = 0
    for fn in os.listdir(saved):
        with open(os.path.join(saved, fn), "rb") as f:
            for line in f:
                if line.startswith(b"T obscura_") and len(line.split()) == 4:
                    resent += int(line.split()[2])
    (ins0,), = ch.rows("SELECT value FROM system.events WHERE event = 'InsertedRows'")
    dm.start()
    wait_for(lambda: spool_empty(dm), "the re-sent spool to drain")
    (ins1,), = ch.rows("SELECT value FROM system.events WHERE event = 'InsertedRows'")
    check(int(ins1) - int(ins0) >= resent, "ClickHouse took the %d rows again (InsertedRows +%d)" %
          (resent, int(ins1) - int(ins0)))
    compare_ch(ch, dm, "after batches were sent twice")
    ch.query("OPTIMIZE TABLE obs.obscura_sources FINAL")
    (raw,), = ch.rows("SELECT count() FROM obs.obscura_sources")
    (fin,), = ch.rows("SELECT count() FROM obs.obscura_sources FINAL")
    check(raw == fin, "after OPTIMIZE ... FINAL the duplicates are merged away (%s rows)" % raw)

    # ---- 3b: SIGKILL obscura-cp while it drains and exports ----
    rnd = random.Random(16)
    fp = fake_dp(fake_bin, dm.xpath, 3, exp(3), wait=False,
                 extra=["--workers", "2", "--epochs", "200", "--cell-capacity", "1024",
                        "--interval-ms", "10", "--wait-drained", "120"])
    kills = 0
    while fp.poll() is None and kills < 8:
        time.sleep(rnd.uniform(0.1, 0.5))
        dm.kill(signal.SIGKILL)
        kills += 1
        time.sleep(rnd.uniform(0.0, 0.2))
        dm.start()
    if fp.wait(180) != 0:
        fail("fake_dp 3 failed")
    check(kills >= 4, "obscura-cp SIGKILLed %d times while exporting" % kills)
    wait_for(lambda: spool_empty(dm), "the spool to drain after the SIGKILLs")
    st = compare_ch(ch, dm, "after %d SIGKILLs" % kills)
    check(st["epochs"] == merge_expected([exp(k) for k in (1, 2, 3, 5)])["epochs"],
          "every epoch fake_dp published is in the store")
    (dup,), = ch.rows("SELECT count() FROM (SELECT appliance, boot, worker, seq, count() AS n "
                      "FROM obs.obscura_epochs FINAL GROUP BY appliance, boot, worker, seq "
                      "HAVING n > 1)")
    check(dup == "0", "no epoch twice after FINAL")

    # ---- 4a: a malformed spool file is set aside, counted ----
    dm.stop()
    with open(os.path.join(spool, "0000000000000000.tsv"), "w") as f:
        f.write("not a spool file\n")
    with open(os.path.join(spool, "0000000000000001.tsv"), "w") as f:
        f.write("OBSX1\nT system.users 1 2\nx\nE\n")   # well-formed, not our table
    dm.start()
    wait_for(lambda: export_status(dm)["export"]["bad_files"] == 2, "the bad files to be counted")
    st = export_status(dm)
    check(os.path.exists(os.path.join(spool, "0000000000000000.tsv.bad")) and
          os.path.exists(os.path.join(spool, "0000000000000001.tsv.bad")), "set aside as .bad")
    check(st["export"]["spool_files"] == 0, "and nothing else waits in the spool")
    check(any("malformed spool file" in w for w in st["warnings"]), "status warns of it")
    print("ok: a malformed spool file is set aside and counted")
    dm.stop()

    # ---- 4a2: a batch ClickHouse refuses does not block the others ----
    with open(os.path.join(spool, "0000000000000002.tsv"), "w") as f:
        f.write("OBSX1\nT obscura_sources 1 6\nx\ty\tz\nE\n")   # our table, rows that do not parse
    ch.stop()
    dm.start()
    fake_dp(fake_bin, dm.xpath, 6, exp(6), extra=FD)   # spooled behind it while ClickHouse is down
    x = export_status(dm)["export"]
    check(x["spool_files"] > 1, "the refused file waits with %d others" % (x["spool_files"] - 1))
    ch.start()
    wait_for(lambda: export_status(dm)["export"]["batches_rejected"] == 1 and spool_empty(dm),
             "the refused batch to be set aside and the rest sent")
    st = export_status(dm)
    check(os.path.exists(os.path.join(spool, "0000000000000002.tsv.rejected")),
          "the refused file is kept for inspection as .rejected")
    check("Code: 27" in st["export"]["last_rejected"], "status shows ClickHouse's answer: %s" %
          st["export"]["last_rejected"])
    check(any(w.startswith("export: ClickHouse refused 1 spool file") for w in st["warnings"]),
          "status warns of it: %r" % st["warnings"])
    check("refused a batch of" in dm.logtext() and "one by one" in dm.logtext(),
          "the refused batch was one gathered insert, then sent file by file")
    compare_ch(ch, dm, "after a refused batch")
    print("ok: a refused batch is set aside; every other epoch arrived")
    dm.stop()

    # ---- 4b: unreachable ClickHouse, and a spool bound ----
    ch.stop()
    d2 = os.path.join(d, "unreach")
    os.makedirs(d2)
    dm2 = Daemon(cp_bin, d2)
    add_export(dm2, "http://127.0.0.1:%d/" % free_port(), spool_max_mb=1, timeout_s=2)
    dm2.start()
    fake_dp(fake_bin, dm2.xpath, 4, exp(4),
            extra=["--workers", "2", "--epochs", "60", "--sources", "20000", "--per-epoch", "2000",
                   "--src-capacity", "4096", "--interval-ms", "2", "--wait-drained", "60"])
    wait_for(lambda: export_status(dm2)["export"]["state"] == "failing", "an unreachable URL to show")
    st = export_status(dm2)
    x = st["export"]
    check(dm2.alive(), "an unreachable ClickHouse does not stop obscura-cp")
    check(st["epochs_drained"] == merge_expected([exp(4)])["epochs"], "and the drain took every epoch")
    check(x["spool_bytes"] <= 1 << 20 and x["batches_dropped"] > 0 and x["rows_dropped"] > 0,
          "spool bound 1 MiB: %d bytes kept, %d batches (%d rows) dropped and counted" %
          (x["spool_bytes"], x["batches_dropped"], x["rows_dropped"]))
    check(any(w.startswith("export: spool full") for w in st["warnings"]), "status warns of the drops")
    print("ok: unreachable: %s" % x["last_error"])
    dm2.stop()

    # ---- 4c: a bad URL is a startup error ----
    with open(dm2.conf) as f:
        conf = f.read().replace("url: http://127.0.0.1:", "url: htp://127.0.0.1:")
    with open(dm2.conf, "w") as f:
        f.write(conf)
    r = subprocess.run([cp_bin, "-c", dm2.conf], capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "export.clickhouse.url" in r.stderr,
          "a bad URL: obscura-cp refuses to start: %s" % r.stderr.strip())
    print("ok: all export checks passed")
finally:
    if dm2 is not None and dm2.alive():
        dm2.kill()
    ch.stop()
    cleanup(dm, d)
