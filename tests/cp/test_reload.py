#!/usr/bin/python3
"""tables.reload and rules.reload never wait for the dataplane (control/reload.h).

usage: test_reload.py OBSCURA_CP FAKE_DP

fake_dp answers the command mailbox as the dataplane's main lcore does, each request
taking 1.5 s (the table being rebuilt), the exclude table refused:
1. tables.reload resip answers at once with its request id while the dataplane has not
   answered; status, stats and help answer while the request is in progress — checked as
   an order (each reply arrives while tables.status still shows the request pending),
   never against a clock; the latencies are printed;
2. the outcome: tables.status shows resip loaded, with the dataplane's message and when;
3. tables.reload all: one request per table, exclude refused with the reason and the old
   table kept, the others loaded; asking again for a table not posted yet joins it;
4. rules.reload re-reads the control plane's copy and posts a rules request the same way;
5. an unknown table is bad_args; a request the dataplane never answers (it is killed and
   another one starts) is reported unanswered; with no dataplane, unavailable;
6. /metrics counts the outcomes per table as tables.status shows them.
"""
import atexit
import os
import re
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Daemon, check, cleanup, fail, fake_dp, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
d = tmpdir("reload")
# /metrics on a free loopback port: the reload outcomes are counted there too
_s = socket.socket()
_s.bind(("127.0.0.1", 0))
mport = _s.getsockname()[1]
_s.close()
dm = Daemon(cp_bin, d, metrics_listen="127.0.0.1:%d" % mport)
atexit.register(cleanup, dm, d)
dm.start()
c = dm.conn()


def row(table):
    for r in c.data("tables.status"):
        if r["table"] == table:
            return r
    fail("tables.status has no row for %s" % table)


def request(table, rid):
    for q in row(table)["requests"]:
        if q["id"] == rid:
            return q
    fail("tables.status: request %d of %s not kept" % (rid, table))


def outcome(table, rid, timeout=30):
    """Poll tables.status until request rid of table is answered."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        q = request(table, rid)
        if q["state"] in ("loaded", "refused", "unanswered"):
            return q
        time.sleep(0.05)
    fail("request %d (%s) not answered within %d s: %s" % (rid, table, timeout, q))


def error(cmd, args=None):
    last = c.call(cmd, args)[-1]
    check(not last["ok"], "%s %s fails" % (cmd, args))
    return last["error"]


check(error("tables.reload", {"table": "resip"})["code"] == "unavailable",
      "no dataplane yet: tables.reload is unavailable")

fake = fake_dp(fake_bin, dm.xpath, 3, os.path.join(d, "exp.json"), wait=False,
               extra=["--epochs", "3", "--serve-s", "60", "--cmd-ms", "1500",
                      "--refuse", "exclude"])
deadline = time.time() + 20
while c.data("status")["dp"].get("state") != "running":
    if time.time() > deadline:
        fail("the control plane did not attach to fake_dp")
    time.sleep(0.05)

# ---- 1: the reload answers at once, everything else keeps answering ----
t0 = time.time()
rep = c.data("tables.reload", {"table": "resip"})
t_reload = (time.time() - t0) * 1000
(q,) = rep["requests"]
rid = q["id"]
check(q["table"] == "resip" and q["state"] in ("queued", "posted") and rid > 0,
      "tables.reload resip answers with request %d, %s, in %.1f ms" % (rid, q["state"], t_reload))
lat = []
pending = 0
while True:
    for cmd in ("status", "stats", "help"):
        t0 = time.time()
        c.data(cmd)
        lat.append((time.time() - t0) * 1000)
    st = request("resip", rid)["state"]
    if st not in ("queued", "posted", "in progress"):
        break
    pending += 1
    if pending >= 20:
        break
check(pending >= 5, "status, stats, help answered %d times while the reload was pending" % pending)
lat.sort()
print("status/stats/help latency during the reload: median %.2f ms, max %.2f ms (%d calls)"
      % (lat[len(lat) // 2], lat[-1], len(lat)))
check(request("resip", rid)["state"] in ("in progress", "loaded"),
      "the dataplane picked the request up (in progress, then loaded)")

# ---- 2: the outcome ----
q = outcome("resip", rid)
check(q["state"] == "loaded" and "resip table loaded by fake_dp" in q["result"]
      and q["finished"] is not None and q["started"] is not None and q["ms"] >= 1000,
      "resip loaded: '%s' after %.0f ms" % (q["result"], q["ms"]))
r = row("resip")
check(r["state"] == "loaded" and r["last_loaded"]["id"] == rid, "resip row: loaded, last_loaded")

# ---- 3: all tables, one request each ----
rep = c.data("tables.reload", {"table": "all"})
ids = {q["table"]: q["id"] for q in rep["requests"]}
check(sorted(ids) == ["exclude", "fingerprints", "resip", "rules", "scanner"]
      and len(set(ids.values())) == 5,
      "tables.reload all: one request per table %s" % ids)
again = c.data("tables.reload", argv=["rules"])["requests"][0]
check(again["id"] == ids["rules"], "rules again before it is posted joins request %d" % ids["rules"])
for t in ("scanner", "exclude", "resip", "rules", "fingerprints"):
    q = outcome(t, ids[t])
    if t == "exclude":
        check(q["state"] == "refused" and "refused by fake_dp, old table kept" in q["reason"],
              "exclude refused with the reason: %s" % q["reason"])
        check(row(t)["last_refused"]["id"] == ids[t], "exclude row: last_refused")
    else:
        check(q["state"] == "loaded", "%s loaded: %s" % (t, q["result"]))
check(row("resip")["last_loaded"]["id"] == ids["resip"], "resip's last_loaded moved on")

# ---- 4: rules.reload, through the same queue ----
rep = c.data("rules.reload")
check(rep["control_plane"] == "reloaded" and rep["dataplane"]["table"] == "rules",
      "rules.reload: the copy reloaded, request %d posted" % rep["dataplane"]["id"])
check(outcome("rules", rep["dataplane"]["id"])["state"] == "loaded", "rules request loaded")

# ---- 5: bad requests, a dataplane that never answers ----
check(error("tables.reload", {"table": "bogus"})["code"] == "bad_args", "unknown table: bad_args")
rid = c.data("tables.reload", {"table": "scanner"})["requests"][0]["id"]
fake.kill()
fake.wait()
fake = fake_dp(fake_bin, dm.xpath, 4, os.path.join(d, "exp2.json"), wait=False,
               extra=["--epochs", "2", "--serve-s", "10", "--boot-id", "b0070bad"])
q = outcome("scanner", rid)
check(q["state"] == "unanswered" and "restarted" in q["reason"],
      "a request its dataplane never answered: unanswered (%s)" % q["reason"])
fake.wait()
deadline = time.time() + 20
while c.data("status")["dp"].get("state") == "running":
    if time.time() > deadline:
        fail("fake_dp did not finish")
    time.sleep(0.05)
check(error("tables.reload", {"table": "scanner"})["code"] == "unavailable",
      "a finished dataplane: unavailable")
# 6: obscura_table_reloads_total on /metrics counts the outcomes tables.status shows
# (every table had at most CP_RELOAD_HISTORY requests here, so its history is whole)
want = {}
for r in c.data("tables.status"):
    check(len(r["requests"]) < 4, "%s: history not full" % r["table"])
    for q in r["requests"]:
        if q["state"] in ("loaded", "refused", "unanswered"):
            want[(r["table"], q["state"])] = want.get((r["table"], q["state"]), 0) + 1
check(want.get(("exclude", "refused")) and want.get(("scanner", "unanswered"))
      and want.get(("resip", "loaded")), "every outcome happened: %s" % want)
deadline = time.time() + 5
while True:
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=5).read().decode()
    got = {(m.group(1), m.group(2)): int(m.group(3)) for m in re.finditer(
        r'^obscura_table_reloads_total\{table="([a-z]+)",outcome="([a-z ]+)"\} (\d+)$', text, re.M)}
    if {k: v for k, v in got.items() if v} == want or time.time() > deadline:
        break
    time.sleep(0.2)
check({k: v for k, v in got.items() if v} == want,
      "/metrics: reload outcomes %s == tables.status %s" % (got, want))
check(len(got) == 5 * 3, "a sample per table and outcome, zeros included")
# ---- 7: requests queued when the dataplane finishes are answered, never left pending ----
fake = fake_dp(fake_bin, dm.xpath, 5, os.path.join(d, "exp3.json"), wait=False,
               extra=["--epochs", "2", "--serve-s", "1", "--cmd-ms", "1500", "--wait-drained", "20",
                      "--boot-id", "b0070bae"])
deadline = time.time() + 20
while not str(c.data("status")["dp"].get("boot_id")).endswith("b0070bae") or \
        c.data("status")["dp"].get("state") != "running":
    if time.time() > deadline:
        fail("the third fake_dp never ran: %s" % c.data("status")["dp"])
    time.sleep(0.05)
rep = c.data("tables.reload", {"table": "all"})
fake.wait()
outs = {q["table"]: outcome(q["table"], q["id"]) for q in rep["requests"]}
gone = [t for t, q in outs.items() if q["state"] == "unanswered" and "finished" in q["reason"]]
check(len(outs) == 5 and gone, "the dataplane finished with requests queued: every one "
      "answered (%s), queued ones unanswered: %s" % ({t: q["state"] for t, q in outs.items()}, gone))
c.close()
check(dm.stop() == 0, "SIGTERM: clean exit")
print("ok: test_reload")
