#!/usr/bin/python3
"""The control plane does not trust the exchange blindly (issue 12), with fake_dp as a
dataplane that lies.

usage: test_exchange.py OBSCURA_CP FAKE_DP

1. before mapping: a file writable by group, one owned by another user and a symbolic
   link are each refused, with the reason in the log and in `status` (dp.error and a
   warning); nothing of them is drained.
2. a header changed after it was validated (the SRC capacity forged to 2^30 once the
   control plane attached): obscura-cp follows its own copy of the geometry, stays up
   and counts every epoch exactly (it used to die with SIGSEGV in the copy).
3. an epoch of 10^12 packets, more than any link gives in one: dropped and counted
   (drain.implausible_dropped, a warning), never journalled: the totals equal the real
   epochs' before and after a SIGKILL + restart (journal replay).
4. slot headers claiming n_used = 2^31: clamped to the capacity and counted
   (drain.clamped_counts), every record still counted once.
"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import (check, cleanup, compare, cp_test, fail, fake_dp,  # noqa: E402
                   merge_expected, wait_for)

cp_bin, fake_bin, d, dm, exp = cp_test("exchange")


def alive_or_fail(what):
    if not dm.alive():
        fail("%s: obscura-cp died (rc %s); log tail:\n%s" % (what, dm.p.returncode,
                                                            dm.logtext()[-2000:]))


def lying_dp(seed, what, extra):
    """fake_dp with extra arguments; obscura-cp must survive it."""
    p = fake_dp(fake_bin, dm.xpath, seed, exp(seed), wait=False,
                extra=extra + ["--timeout-s", "15", "--wait-drained", "30"])
    rc = p.wait(120)
    alive_or_fail(what)
    if rc != 0:
        fail("%s: fake_dp failed rc %d (its slots were not drained)" % (what, rc))
    print("ok: %s: obscura-cp still up, every slot drained" % what)


def refused(c, text, what):
    """status says the file at the path is refused for text, and nothing was drained."""
    def seen():
        st = c.data("status")
        return not st["dp"]["attached"] and text in (st["dp"].get("error") or "")
    wait_for(seen, what + ": refused in status")
    st = c.data("status")
    check(any("exchange refused" in w and text in w for w in st["warnings"]),
          "%s: refused, a warning says why (%s)" % (what, st["dp"]["error"]))
    check(text in dm.logtext(), "%s: the log says why" % what)
    check(st["epochs_drained"] == 0, "%s: nothing drained from it" % what)


try:
    dm.start()
    c = dm.conn()

    # ---- 1: who could have written it, checked before mapping ----
    fake_dp(fake_bin, dm.xpath, 1, exp(1), extra=["--epochs", "1", "--mode", "660"])
    refused(c, "writable by group or others", "mode 0660")
    fake_dp(fake_bin, dm.xpath, 2, exp(2), extra=["--epochs", "1", "--owner", "65534"])
    if os.stat(dm.xpath).st_uid != 65534:
        fail("fake_dp could not give the file to uid 65534 (the test needs root)")
    refused(c, "owned by another user", "owned by uid 65534")
    other = os.path.join(d, "elsewhere.exchange")
    fake_dp(fake_bin, other, 3, exp(3), extra=["--epochs", "1"])
    os.unlink(dm.xpath)
    os.symlink(other, dm.xpath)
    refused(c, "symbolic link", "a symlink to a valid exchange")
    os.unlink(dm.xpath)
    wait_for(lambda: not any("exchange refused" in w for w in c.data("status")["warnings"]),
             "the refusal warning to go with the refused file")
    print("ok: the refusal warning goes with the refused file")

    # ---- 2: the header changed after validation ----
    lying_dp(4, "forged capacity",
             ["--epochs", "20", "--interval-ms", "5", "--forge-capacity-after", "5"])
    wait_for(lambda: c.data("status")["dp"].get("boot_id") == "00000000b0070004", "attach to boot 4")
    compare(c, merge_expected([exp(4)]), "after a forged capacity")
    check(c.data("status")["dp"]["src_capacity"] == 1024,
          "status shows the validated capacity, not the forged one")

    # ---- 3: counters no link can give ----
    lying_dp(5, "forged packets",
             ["--epochs", "12", "--interval-ms", "2", "--forge-packets", "7"])
    compare(c, merge_expected([exp(4), exp(5)]), "after a forged epoch")
    st = c.data("status")
    check(st["drain"]["implausible_dropped"] == 2,
          "the forged epoch of each of the 2 workers dropped and counted (%d)"
          % st["drain"]["implausible_dropped"])
    check(any("line rate" in w for w in st["warnings"]), "a warning says so")
    check("more packets than the line rate could give" in dm.logtext(), "the log says why")
    c.close()
    dm.kill(signal.SIGKILL)
    dm.start()
    c = dm.conn()
    compare(c, merge_expected([exp(4), exp(5)]), "journal replay after a forged epoch")

    # ---- 4: n_used past the capacity ----
    lying_dp(6, "forged n_used",
             ["--epochs", "8", "--interval-ms", "2", "--forge-used-after", "3"])
    st = c.data("status")
    check(st["drain"]["clamped_counts"] >= 10,
          "n_used above the capacity clamped and counted (%d)" % st["drain"]["clamped_counts"])
    compare(c, merge_expected([exp(4), exp(5), exp(6)]), "after forged n_used")
    c.close()
    check(dm.stop() == 0, "SIGTERM: clean exit")
    print("PASS")
finally:
    cleanup(dm, d)
