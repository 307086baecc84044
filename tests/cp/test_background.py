#!/usr/bin/python3
"""Snapshots and reports are written by a child process (control/jobs.h, persist.c).

usage: test_background.py OBSCURA_CP FAKE_DP

With a store of ~400 000 sources (a snapshot takes a few hundred ms to write):
1. snapshot.now on one connection; on another, status answers while the snapshot is
   being written — status itself shows it in progress (snapshot.writing, cp.jobs), which
   a loop blocked by the write could never show; then the reply comes, the journal it
   covers is gone (no records, no segment left);
2. two snapshot.now at once: the second waits for the next snapshot, both answer, two
   snapshots are written;
3. report.write the same way: status shows the report job while its client waits, the
   reply lists the files, and the client's next request is answered after it, in order;
4. a SIGKILL while a snapshot is being written loses nothing: epochs of a second boot
   are only in the journal, the snapshot sets them aside as a segment and is killed while
   it writes; after a restart the store equals everything fake_dp published;
5. a snapshot child that never ends (SIGSTOPped here, as one deadlocked on a lock
   inherited at fork) does not hold up SIGTERM: killed after 5 s, the final snapshot is
   written inline, the store after a restart equals everything published.
The latencies of the status calls are printed, never compared with a clock.
"""
import atexit
import os
import select
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Daemon, check, cleanup, compare, fail, fake_dp, merge_expected, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
d = tmpdir("background")
dm = Daemon(cp_bin, d, snapshot_interval_s=3600)
atexit.register(cleanup, dm, d)
dm.start()
exp = os.path.join(d, "exp.json")
fake_dp(fake_bin, dm.xpath, 5, exp,
        extra=["--epochs", "12", "--workers", "1", "--sources", "400000", "--per-epoch",
               "200000", "--src-capacity", "524288", "--interval-ms", "0",
               "--wait-drained", "60"])
want = merge_expected([exp])
c, a = dm.conn(), dm.conn()
deadline = time.time() + 30
while c.data("status")["epochs_drained"] < 12:
    if time.time() > deadline:
        fail("not drained")
    time.sleep(0.05)
n_src = c.data("status")["sources"]
check(n_src == len(want["sources"]), "store: %d sources" % n_src)


def during(conn, cmd, seen):
    """Send cmd on conn; call status on c until conn's reply is there.  Returns (reply,
    statuses answered meanwhile, how many of them saw(status) true, latencies)."""
    conn.send_raw(('{"id":7,"cmd":"%s"}\n' % cmd).encode())
    n, hits, lat = 0, 0, []
    while not select.select([conn.s], [], [], 0)[0]:
        t0 = time.time()
        st = c.data("status")
        lat.append((time.time() - t0) * 1000)
        n += 1
        hits += bool(seen(st))
    last = conn.reply()[-1]
    lat.sort()
    print("%s: %d status calls while it ran, median %.2f ms, max %.2f ms"
          % (cmd, n, lat[len(lat) // 2] if lat else 0, lat[-1] if lat else 0))
    return last, n, hits


# ---- 1: a snapshot in the background ----
before = c.data("status")["snapshot"]["written"]
last, n, hits = during(a, "snapshot.now", lambda st: st["snapshot"]["writing"] is not None)
check(last["ok"] and last["data"]["sources"] == n_src and last["data"]["epochs"] == 12,
      "snapshot.now: written, %d sources, 12 epochs" % n_src)
check(hits >= 1, "status answered %d times while the snapshot was being written (of %d)"
      % (hits, n))
st = c.data("status")
check(st["snapshot"]["written"] == before + 1 and st["snapshot"]["writing"] is None
      and st["journal"]["records"] == 0 and st["journal"]["segments"] == 0,
      "one more snapshot, the journal it covers dropped: %s" % st["journal"])

# ---- 2: two at once ----
b = dm.conn()
a.send_raw(b'{"id":1,"cmd":"snapshot.now"}\n')
b.send_raw(b'{"id":2,"cmd":"snapshot.now"}\n')
ra, rb = a.reply()[-1], b.reply()[-1]
check(ra["ok"] and rb["ok"] and ra["id"] == 1 and rb["id"] == 2, "two snapshot.now: both answered")
check(c.data("status")["snapshot"]["written"] == before + 3, "... by two snapshots")

# ---- 3: a report in the background, replies in order ----
rep = os.path.join(d, "rep")
a.send_raw(('{"id":3,"cmd":"report.write","args":{"dir":"%s"}}\n{"id":4,"cmd":"stats"}\n'
            % rep).encode())
n, hits = 0, 0
while not select.select([a.s], [], [], 0)[0]:
    jobs = c.data("status")["cp"]["jobs"]
    n += 1
    hits += any(j["what"] == "report" for j in jobs)
r3, r4 = a.reply(), a.reply()
check(r3[-1]["id"] == 3 and r3[-1]["ok"] and "summary.md" in r3[-1]["data"]["files"],
      "report.write: %d files" % len(r3[-1]["data"]["files"]))
check(r4[-1]["id"] == 4 and r4[-1]["ok"], "the request sent behind it answered after it")
print("report.write: %d status calls while it ran, %d saw the job" % (n, hits))
check(n == 0 or hits >= 1, "status shows the report job while its client waits")

# ---- 4: SIGKILL mid-snapshot, with what it covers only in the journal ----
exp2 = os.path.join(d, "exp2.json")
fake_dp(fake_bin, dm.xpath, 6, exp2,
        extra=["--epochs", "6", "--workers", "1", "--sources", "400000", "--per-epoch",
               "200000", "--src-capacity", "524288", "--interval-ms", "0",
               "--wait-drained", "60", "--boot-id", "b0070006"])
want = merge_expected([exp, exp2])
check(c.data("status")["journal"]["records"] == 6, "6 more epochs, in the journal only")
a.send_raw(b'{"id":5,"cmd":"snapshot.now"}\n')
deadline = time.time() + 10
while c.data("status")["snapshot"]["writing"] is None:
    if time.time() > deadline:
        fail("the snapshot did not start")
dm.kill()
dm.start()
c = dm.conn()
compare(c, want, "after a SIGKILL mid-snapshot")
st = c.data("status")
print("after the restart: snapshot loaded %s, journal records replayed %d"
      % (st["snapshot"]["loaded_at_start"], st["journal"]["replayed_at_start"]))

# ---- 5: a snapshot child that never ends (one forked while another thread held a lock
# it needs: jobs.h) does not hold up SIGTERM: it is killed after CP_JOBS_STOP_WAIT_MS and
# the final snapshot is written inline; nothing is lost ----
stuck = None
for attempt in range(20):
    a = dm.conn()
    a.send_raw(b'{"id":9,"cmd":"snapshot.now"}\n')
    deadline = time.time() + 10
    while stuck is None and time.time() < deadline:
        jobs = [j for j in c.data("status")["cp"]["jobs"] if j["what"] == "snapshot"]
        if jobs:
            try:
                os.kill(jobs[0]["pid"], signal.SIGSTOP)
                stuck = jobs[0]["pid"]
            except ProcessLookupError:
                pass
            break
    if stuck is not None:
        break
    a.reply()
    a.close()
check(stuck is not None, "a snapshot child caught and stopped (pid %s)" % stuck)
log0 = len(dm.logtext())
t0 = time.time()
rc = dm.stop()
tail = dm.logtext()[log0:]
check(rc == 0, "SIGTERM with a snapshot child that never ends: exit %s in %.1f s:\n%s"
      % (rc, time.time() - t0, tail[-800:]))
check("did not end within 5000 ms of the stop; killed" in tail and "snapshot: wrote" in tail,
      "the stuck child was killed and the final snapshot written:\n%s" % tail[-600:])
dm.start()
c = dm.conn()
compare(c, want, "after a stop with a stuck snapshot child")
check(c.data("status")["journal"]["replayed_at_start"] == 0,
      "the final snapshot held everything: no journal record replayed")
c.close()
check(dm.stop() == 0, "SIGTERM: clean exit")
print("ok: test_background")
