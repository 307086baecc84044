#!/usr/bin/python3
"""Restart tests for obscura-cp, with fake_dp as the dataplane.

usage: test_restart.py OBSCURA_CP FAKE_DP

1. fake_dp publishes continuously while obscura-cp is SIGKILLed and restarted several
   times: the final stats and sources equal fake_dp's expected totals exactly.
2. a dataplane restart (new boot id, file replaced) is noticed: dp_restarts 1, both
   boots' data kept.
3. ".prev-<boot>" files of undrained old boots are drained and removed.
4. a truncated snapshot, one with a flipped bit and one with a foreign magic are each
   refused with a clear log message, set aside, and the cp starts (empty, loudly).
5. a torn journal tail (crash mid-append) is ignored with a log line; appends after it
   replay fine.
6. a flipped bit in a record in the middle of the journal costs only that record: the
   records after it are replayed, nothing is cut, and status warns of the damage.
7. a snapshot kept under another analysis.block_len stops the start with how to go on;
   nothing is set aside, and the old config starts on it as before.
"""
import glob
import os
import random
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import (Daemon, check, cleanup, compare, fail, fake_dp, merge_expected,  # noqa: E402
                   tmpdir, wait_for)

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
d = tmpdir("restart")
dm = Daemon(cp_bin, d)
exp = lambda k: os.path.join(d, "exp%d.json" % k)  # noqa: E731
rnd = random.Random(99)


try:
    # ---- 1: SIGKILL the cp while the dataplane publishes ----
    dm.start()
    fp = fake_dp(fake_bin, dm.xpath, 1, exp(1), wait=False,
                 extra=["--epochs", "300", "--interval-ms", "5", "--sources", "800",
                        "--per-epoch", "80", "--wait-drained", "120"])
    kills = 0
    for i in range(6):
        time.sleep(rnd.uniform(0.15, 0.6))
        if fp.poll() is not None:
            break
        if i % 2 == 1:
            # kill right after a snapshot too: snapshot + journal truncation + replay
            c = dm.conn()
            c.data("snapshot.now")
            c.close()
            time.sleep(rnd.uniform(0.0, 0.1))
        dm.kill(signal.SIGKILL)
        kills += 1
        time.sleep(rnd.uniform(0.05, 0.4))
        dm.start()
    check(kills >= 4, "obscura-cp SIGKILLed %d times while fake_dp was publishing" % kills)
    if fp.wait(180) != 0:
        fail("fake_dp 1 failed")
    c = dm.conn()
    compare(c, merge_expected([exp(1)]), "after %d SIGKILLs" % kills)
    st = c.data("status")
    check(st["dp_restarts"] == 0, "no dataplane restart counted")
    check("loaded" in dm.logtext() and "journal: replayed" in dm.logtext(),
          "restarts loaded snapshots and replayed journals")
    c.close()

    # ---- 2: dataplane restart ----
    fake_dp(fake_bin, dm.xpath, 2, exp(2),
            extra=["--epochs", "40", "--interval-ms", "2", "--wait-drained", "60"])
    c = dm.conn()
    wait_for(lambda: c.data("status")["dp"].get("boot_id") == "00000000b0070002", "attach to boot 2")
    st = c.data("status")
    check(st["dp_restarts"] == 1 and len(st["boots"]) == 2, "dataplane restart noticed: dp_restarts 1")
    check("replaced by a new file" in dm.logtext(), "log says the exchange was replaced")
    compare(c, merge_expected([exp(1), exp(2)]), "after a dataplane restart")
    c.close()

    # ---- 3: .prev files ----
    check(dm.stop() == 0, "SIGTERM: clean exit with a final snapshot")
    fake_dp(fake_bin, dm.xpath, 3, exp(3), extra=["--epochs", "2", "--interval-ms", "0"])
    prev = dm.xpath + ".prev-00000000b0070003"
    os.rename(dm.xpath, prev)
    fp = fake_dp(fake_bin, dm.xpath, 4, exp(4), wait=False,
                 extra=["--epochs", "20", "--interval-ms", "2", "--wait-drained", "60"])
    time.sleep(0.3)
    dm.start()
    if fp.wait(120) != 0:
        fail("fake_dp 4 failed")
    wait_for(lambda: not os.path.exists(prev), ".prev file drained and removed")
    print("ok: .prev file drained and removed")
    c = dm.conn()
    all4 = merge_expected([exp(k) for k in (1, 2, 3, 4)])
    compare(c, all4, "after draining a .prev file")
    check(c.data("status")["dp_restarts"] == 3, "four boots seen: dp_restarts 3")
    c.close()

    # ---- 4: bad snapshots ----
    check(dm.stop() == 0, "SIGTERM before the snapshot tests")
    snap = os.path.join(dm.state, "snapshot")
    with open(snap, "rb") as f:
        good = f.read()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x10
    cases = [
        ("truncated", good[: len(good) // 2], "truncated"),
        ("flipped bit", bytes(flipped), "checksum mismatch"),
        ("foreign magic", b"NOTOURS!" + good[8:], "bad magic"),
    ]
    for name, data, text in cases:
        for f in glob.glob(snap + ".bad-*"):
            os.unlink(f)
        with open(snap, "wb") as f:
            f.write(data)
        mark = len(dm.logtext())
        dm.start()
        log = dm.logtext()[mark:]
        c = dm.conn()
        st = c.data("status")
        check(text in log and snap in log and "SNAPSHOT REFUSED" in log,
              "%s snapshot: log names the file and says '%s'" % (name, text))
        check("EMPTY" in log, "%s snapshot: log says the store starts empty" % name)
        check(st["snapshot"]["started_empty"] and text in st["snapshot"]["load_error"]
              and any("EMPTY" in w for w in st["warnings"]),
              "%s snapshot: status reports it" % name)
        check(len(glob.glob(snap + ".bad-*")) == 1 and st["snapshot"]["set_aside"].startswith(snap + ".bad-"),
              "%s snapshot: set aside as snapshot.bad-<time>" % name)
        check(st["epochs_drained"] == 0, "%s snapshot: nothing half-loaded" % name)
        c.close()
        dm.stop()
        with open(snap, "wb") as f:
            f.write(good)
    dm.start()
    c = dm.conn()
    compare(c, all4, "the good snapshot restored")
    c.close()

    # ---- 5: torn journal tail ----
    dm.stop()
    dm = Daemon(cp_bin, d, snapshot_interval_s=3600)   # keep records in the journal
    dm.start()
    fake_dp(fake_bin, dm.xpath, 5, exp(5), extra=["--epochs", "15", "--interval-ms", "2",
                                                 "--wait-drained", "60"])
    dm.kill(signal.SIGKILL)
    jpath = os.path.join(dm.state, "journal")
    with open(jpath, "rb") as f:
        j = f.read()
    check(len(j) > 80, "journal holds records after a SIGKILL (%d bytes)" % len(j))
    first_len = 80 + struct.unpack_from("<Q", j, 32)[0]
    with open(jpath, "ab") as f:
        f.write(j[: first_len // 2])     # a record cut mid-append
    mark = len(dm.logtext())
    dm.start()
    log = dm.logtext()[mark:]
    check("ignoring torn tail" in log, "torn journal tail ignored with a log line")
    c = dm.conn()
    check(c.data("status")["journal"]["torn_bytes_dropped"] == first_len // 2, "status counts the torn bytes")
    compare(c, merge_expected([exp(k) for k in (1, 2, 3, 4, 5)]), "after a torn journal tail")
    c.close()
    fake_dp(fake_bin, dm.xpath, 6, exp(6), extra=["--epochs", "10", "--interval-ms", "2",
                                                 "--wait-drained", "60"])
    dm.kill(signal.SIGKILL)
    dm.start()
    c = dm.conn()
    compare(c, merge_expected([exp(k) for k in range(1, 7)]), "appends after the cut tail replay")
    c.close()

    # ---- 6: a damaged record in the middle of the journal ----
    dm.kill(signal.SIGKILL)
    with open(jpath, "rb") as f:
        j = bytearray(f.read())
    offs, at = [], 0
    while at + 80 <= len(j):
        offs.append(at)
        at += 80 + struct.unpack_from("<Q", j, at + 32)[0]
    check(len(offs) >= 6 and at == len(j), "journal of %d whole records" % len(offs))
    victim = offs[2]
    vlen = offs[3] - offs[2]
    j[victim + vlen // 2] ^= 0x04          # one flipped bit inside record 3
    with open(jpath, "wb") as f:
        f.write(j)
    mark = len(dm.logtext())
    dm.start()
    log = dm.logtext()[mark:]
    check("damaged region at offset %d" % victim in log, "the damaged record is logged")
    c = dm.conn()
    st = c.data("status")
    check(st["journal"]["damaged_regions"] == 1 and st["journal"]["damaged_bytes"] == vlen,
          "status counts one damaged region of %d bytes (%s)" % (vlen, st["journal"]))
    check(st["journal"]["records"] == len(offs) - 1,
          "every record after the damaged one is replayed (%d of %d)"
          % (st["journal"]["records"], len(offs)))
    check(any("damaged" in w for w in st["warnings"]), "status warns of the damage")
    check(os.path.getsize(jpath) == len(j), "nothing is cut off the journal")
    before = c.data("stats")
    c.close()
    check(dm.stop() == 0, "SIGTERM writes the snapshot")

    # ---- 7: analysis.block_len changed across a restart ----
    with open(dm.conf) as f:
        conf = f.read()
    with open(dm.conf, "a") as f:
        f.write("analysis:\n  block_len: 24\n")
    snap = os.path.join(dm.state, "snapshot")
    mtime = os.path.getmtime(snap)
    aside = sorted(glob.glob(snap + ".bad-*"))
    mark = len(dm.logtext())
    dm.start(wait=False)
    try:
        rc = dm.p.wait(20)
    except Exception:
        fail("obscura-cp kept running on a snapshot of another block_len")
    dm.p = None
    log = dm.logtext()[mark:]
    check(rc == 1, "another block_len: exit 1 (rc %s)" % rc)
    check("refusing to start" in log and "block_len 16" in log and "block_len 24" in log
          and "move" in log, "the log says why and how to go on:\n" + log[-600:])
    check(os.path.getmtime(snap) == mtime and sorted(glob.glob(snap + ".bad-*")) == aside,
          "the snapshot is neither set aside nor rewritten")
    with open(dm.conf, "w") as f:
        f.write(conf)
    dm.start()
    c = dm.conn()
    check(c.data("stats")["total"] == before["total"], "the old config starts on it as before")
    c.close()
    check(dm.stop() == 0, "final SIGTERM")
finally:
    cleanup(dm, d)
print("PASS")
