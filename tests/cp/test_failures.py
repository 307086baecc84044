#!/usr/bin/python3
"""Failures that show (issue 12 item 5), with fake_dp as a dataplane that dies or hangs.

usage: test_failures.py OBSCURA_CP FAKE_DP

1. the dataplane process is gone (killed mid-epoch: its slots left FILLING, state still
   running): `status` says dp.state "dataplane_lost" with the reason, and warns.
2. the next dataplane replaces the file: the epochs the dead one never published are
   counted (drain.epochs_lost, stats.epochs_lost), the periods they fall in are listed as
   partial (status drain.partial_periods, stats.partial_periods) and warned about; what
   was published is all there; the boot stays marked partial (status boots[]) across a
   control plane restart.
3. a dataplane alive but silent (no heartbeat): "dataplane_lost" too, with its reason.
4. journal writes failing (the state directory's file system full: a 1 MiB tmpfs in the
   control plane's own mount namespace; a fresh store): journal_errors becomes a
   warning; once there is room again every epoch is drained, nothing lost.
"""
import errno
import os
import signal
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import (check, cleanup, compare, cp_test, fail, fake_dp,  # noqa: E402
                   merge_expected, wait_for)

cp_bin, fake_bin, d, dm, exp = cp_test("failures")


def lost(c, text):
    st = c.data("status")
    return st["dp"].get("state") == "dataplane_lost" and text in (st["dp"].get("lost_reason") or "")


try:
    dm.start()
    c = dm.conn()

    # ---- 1: the dataplane died mid-epoch ----
    fake_dp(fake_bin, dm.xpath, 1, exp(1),
            extra=["--epochs", "10", "--interval-ms", "2", "--leave-filling"])
    dt = wait_for(lambda: lost(c, "is gone"), "dataplane_lost (pid gone)")
    print("ok: dp.state dataplane_lost %.1f s after the dataplane died" % dt)
    st = c.data("status")
    check(any("dataplane lost" in w and "is gone" in w for w in st["warnings"]),
          "a warning says the dataplane is lost: %s" % st["dp"]["lost_reason"])
    check("DATAPLANE LOST" in dm.logtext(), "the log says so")
    check(st["drain"]["epochs_lost"] == 0, "nothing counted lost while its file is attached")

    # ---- 2: its successor replaces the file; the unpublished epochs are lost ----
    fp = fake_dp(fake_bin, dm.xpath, 2, exp(2), wait=False,
                 extra=["--epochs", "6", "--interval-ms", "2", "--no-finish", "--hang-s", "30"])
    wait_for(lambda: c.data("status")["dp"].get("boot_id") == "00000000b0070002", "attach to boot 2")
    st = c.data("status")
    check(st["drain"]["epochs_lost"] == 2, "the 2 workers' FILLING epochs counted lost (%d)"
          % st["drain"]["epochs_lost"])
    pp = st["drain"]["partial_periods"]
    # fake_dp's epoch 11 is at 1700000011 s: 2023-11-14T22 UTC; analysis.period is month
    check(len(pp) == 2 and all(p["boot_id"] == "00000000b0070001" and p["period"] == "2023-11"
                               and p["unit"] == "month" for p in pp)
          and sorted(p["worker"] for p in pp) == [0, 1],
          "status lists the partial period of each lost epoch: %s" % pp)
    check(any("LOST" in w and "2023-11" in w for w in st["warnings"]),
          "a warning names the lost epochs and their period")
    sts = c.data("stats")
    check(sts["epochs_lost"] == 2 and sts["partial_periods"] == pp,
          "stats shows the lost epochs and the partial period too")
    check("epoch LOST" in dm.logtext(), "the log says which epochs were lost")

    # ---- 3: alive but silent ----
    dt = wait_for(lambda: lost(c, "no heartbeat"), "dataplane_lost (no heartbeat)")
    print("ok: dp.state dataplane_lost %.1f s after its last epoch (heartbeat stopped)" % dt)
    check(fp.poll() is None, "... while its process is still there")
    fp.kill()
    fp.wait()
    compare(c, merge_expected([exp(1), exp(2)]), "what the lost dataplanes published")
    c.data("snapshot.now")
    c.close()
    dm.kill(signal.SIGKILL)
    dm.start()
    c = dm.conn()
    boots = {b["boot_id"]: b for b in c.data("status")["boots"]}
    check(boots["00000000b0070001"]["epochs_lost"] == 2 and boots["00000000b0070001"]["partial"]
          and boots["00000000b0070002"]["epochs_lost"] == 0
          and not boots["00000000b0070002"]["partial"],
          "after a restart (snapshot) the boot that died is still marked partial, 2 epochs lost")
    compare(c, merge_expected([exp(1), exp(2)]), "after the restart")
    c.close()
    check(dm.stop() == 0, "SIGTERM: clean exit")

    # ---- 4: the journal cannot be written ----
    wrap = os.path.join(d, "cp-tmpfs.sh")
    with open(wrap, "w") as f:
        f.write('#!/bin/sh\nexec unshare -m --propagation private sh -c '
                '\'mount -t tmpfs -o size=1m obscura-test "$0" && exec "$@"\' "%s" "%s" "$@"\n'
                % (dm.state + "2", cp_bin))
    os.chmod(wrap, stat.S_IRWXU)
    with open(dm.conf) as f:
        conf = f.read()
    os.makedirs(dm.state + "2", exist_ok=True)
    with open(dm.conf, "w") as f:
        f.write(conf.replace("state_dir: %s\n" % dm.state, "state_dir: %s\n" % (dm.state + "2")))
    dm.cp_bin = wrap
    for fn in os.listdir(d):
        if fn.startswith("x.exchange"):
            os.unlink(os.path.join(d, fn))
    dm.start()
    root = "/proc/%d/root%s" % (dm.p.pid, dm.state + "2")
    filler = os.path.join(root, "filler")
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
    print("ok: the state directory's file system is full")
    c = dm.conn()
    fp = fake_dp(fake_bin, dm.xpath, 3, exp(3), wait=False,
                 extra=["--epochs", "6", "--interval-ms", "2", "--wait-drained", "60"])
    wait_for(lambda: c.data("status")["drain"]["journal_errors"] > 0, "a journal error")
    st = c.data("status")
    check(any("journal write(s) failed" in w for w in st["warnings"]),
          "journal_errors %d shows as a warning" % st["drain"]["journal_errors"])
    os.unlink(filler)
    if fp.wait(90) != 0:
        fail("fake_dp 3 failed: its epochs were not drained once the disk had room")
    compare(c, merge_expected([exp(3)]), "after the journal could be written again")
    c.close()
    check(dm.stop() == 0, "SIGTERM: clean exit")
    print("PASS")
finally:
    cleanup(dm, d)
