#!/usr/bin/python3
"""A full disk under state_dir: obscura-cp with fake_dp as the dataplane.

usage: test_diskfull.py OBSCURA_CP FAKE_DP

state_dir is a 256 KiB tmpfs mounted by the test.  While the journal cannot be
appended to, the drain keeps the slots (nothing is released that is not durable), the
failures are counted in status, and the log carries one line per 10 s for them, not
one per drain pass.  Once the disk has room again the drain goes on and the totals are
exactly those fake_dp published: nothing lost, nothing twice.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Daemon, check, cleanup, compare, fail, fake_dp, merge_expected, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
if os.geteuid() != 0:
    fail("needs root to mount a small tmpfs for state_dir (the suite runs as root)")
d = tmpdir("diskfull")
state = os.path.join(d, "state")
os.makedirs(state)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", state], check=True)
dm = Daemon(cp_bin, d, snapshot_interval_s=3600)
dp = None
try:
    dm.start()
    exp = os.path.join(d, "exp.json")
    dp = fake_dp(fake_bin, dm.xpath, 41, exp, wait=False,
                 extra=["--epochs", "60", "--interval-ms", "5", "--wait-drained", "120"])
    c = dm.conn()
    deadline = time.time() + 20
    while time.time() < deadline and c.data("status")["drain"].get("journal_errors", 0) == 0:
        time.sleep(0.1)
    errs0 = c.data("status")["drain"].get("journal_errors", 0)
    check(errs0 > 0, "the full disk is met (journal_errors %d)" % errs0)
    time.sleep(4)    # ~80 drain passes that all fail
    st = c.data("status")
    errs = st["drain"]["journal_errors"]
    lines = [l for l in dm.logtext().splitlines() if re.search(r"ERROR: journal: (append|fdatasync|cannot cut)", l)]
    check(errs > 20, "every failed pass is counted (%d)" % errs)
    check(1 <= len(lines) <= 2, "the log holds %d line(s) for %d failures, not one per pass:\n%s"
          % (len(lines), errs, "\n".join(lines)))
    check(dp.poll() is None, "the dataplane waits: its slots are not released undurable")
    subprocess.run(["mount", "-o", "remount,size=64m", state], check=True)
    if dp.wait(120) != 0:
        fail("fake_dp rc %d" % dp.returncode)
    compare(c, merge_expected([exp]), "after the disk has room again")
    later = [l for l in dm.logtext().splitlines() if "more like it" in l]
    c.close()
    check(dm.stop() == 0, "SIGTERM")
    print("(held-back count lines: %d)" % len(later))
finally:
    if dp is not None and dp.poll() is None:
        dp.kill()
        dp.wait()
    if dm.alive():
        dm.kill()
    subprocess.run(["umount", state], check=False)
    cleanup(dm, d)
print("PASS")
