#!/usr/bin/python3
"""report.write (control/report.h): the registry's writers into a new directory.

usage: test_report.py OBSCURA_CP FAKE_DP

fake_dp publishes epochs with a second table kind (CELL) next to SRC; once drained,
`report.write` (admin) into an explicit directory and into the default one
(<state_dir>/reports/<UTC time>): the reply lists the files, summary.md and summary.csv
exist, the CSV parses (scope,counter,value) and its totals and per-worker counters equal
`stats` exactly; the read-only socket is denied; a relative dir is refused; a second run
into the same directory lists the rewritten files; and an unwritable directory is an
error reply, not a crash.  The dataplane's used-index lists (exchange.h) are checked:
fake_dp --bad-used repeats an index and names one past the capacity in every SRC list,
and the store still holds exactly the expected sources and totals, with a warning.
"""
import csv
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Daemon, check, compare, fail, fake_dp, merge_expected, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
d = tmpdir("report")
dm = Daemon(cp_bin, d)
dm.start()
ok = False
try:
    fake_dp(fake_bin, dm.xpath, 3, os.path.join(d, "exp.json"),
            extra=["--epochs", "8", "--interval-ms", "0", "--wait-drained", "30",
                   "--cell-capacity", "64", "--bad-used"])
    c = dm.conn()
    st = c.data("stats")
    check(st["epochs"] == 16, "16 epochs drained (2 workers x 8), with a CELL table each")
    compare(c, merge_expected([os.path.join(d, "exp.json")]),
            "bad used-index lists: every record counted once")
    check("used-list entries out of range, repeated" in dm.logtext(),
          "the bad used-list entries are logged")

    def flat(counters):
        out = {}
        for k, v in counters.items():
            if isinstance(v, dict):
                for k2, v2 in v.items():
                    out["%s.%s" % (k, k2)] = v2
            else:
                out[k] = v
        return out

    def check_dir(rep, files):
        check(sorted(files) == sorted(set(files)), "files listed once")
        for f in ("summary.md", "summary.csv"):
            check(f in files, "%s listed in the reply" % f)
            check(os.path.getsize(os.path.join(rep, f)) > 0, "%s exists, not empty" % f)
        with open(os.path.join(rep, "summary.csv"), newline="") as f:
            rows = list(csv.reader(x for x in f if not x.startswith("#")))
        check(rows[0] == ["scope", "counter", "value"], "CSV header")
        vals = {}
        for r in rows[1:]:
            check(len(r) == 3, "CSV row of 3 fields: %r" % r)
            vals[(r[0], r[1])] = int(r[2])
        tot = flat(st["total"])
        for k, v in tot.items():
            if vals.get(("total", k)) != v:
                fail("summary.csv total.%s = %r, stats says %r" % (k, vals.get(("total", k)), v))
        check(len([1 for (s, _) in vals if s == "total"]) == len(tot), "every total counter, no more")
        for w in st["workers"]:
            for k, v in flat(w).items():
                if k == "worker":
                    continue
                if vals.get(("worker%d" % w["worker"], k)) != v:
                    fail("summary.csv worker%d.%s differs from stats" % (w["worker"], k))
        check(vals[("store", "epochs")] == st["epochs"], "store epochs == stats")
        check(vals[("store", "sources")] == st["sources"], "store sources == stats")
        check(vals[("store", "boots")] == st["boots"], "store boots == stats")
        md = open(os.path.join(rep, "summary.md")).read()
        check(md.startswith("# obscura summary") and str(st["total"]["tel_packets"]) in md,
              "summary.md names the telescope packets")

    rep = os.path.join(d, "rep1")
    data = c.data("report.write", {"dir": rep})
    check(data["dir"] == rep, "reply names the directory")
    check_dir(rep, data["files"])
    print("ok: report.write into %s: %s" % (rep, ", ".join(data["files"])))

    data2 = c.data("report.write", argv=[rep])
    check(set(["summary.md", "summary.csv"]) <= set(data2["files"]),
          "a second run into the same directory lists the rewritten files")

    data = c.data("report.write")
    check(data["dir"].startswith(os.path.join(dm.state, "reports") + "/"),
          "default directory under <state_dir>/reports: %s" % data["dir"])
    check(os.path.isdir(data["dir"]), "default directory created")
    check_dir(data["dir"], data["files"])
    print("ok: report.write default dir %s" % data["dir"])

    r = c.call("report.write", {"dir": "relative/dir"})[-1]
    check(r["ok"] is False and r["error"]["code"] == "bad_args", "relative dir -> bad_args")
    blocker = os.path.join(d, "blocker")
    open(blocker, "w").close()
    r = c.call("report.write", {"dir": os.path.join(blocker, "sub")})[-1]
    check(r["ok"] is False and r["error"]["code"] == "internal", "uncreatable dir -> error reply")
    ro = dm.conn(ro=True)
    r = ro.call("report.write", {"dir": os.path.join(d, "rep-ro")})[-1]
    check(r["ok"] is False and r["error"]["code"] == "denied", "read-only socket -> denied")
    check(not os.path.exists(os.path.join(d, "rep-ro")), "nothing written for a denied call")
    check(c.data("status") is not None, "daemon still answers")
    ok = True
    print("ok: report.write")
finally:
    rc = dm.stop()
    if not ok:
        print(dm.logtext()[-3000:])
    shutil.rmtree(d, ignore_errors=True)
sys.exit(0 if ok else 1)
