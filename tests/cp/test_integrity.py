#!/usr/bin/python3
"""Loss stamps (integrity.h, docs/ctl-v1.md "Loss stamps").

usage: test_integrity.py OBSCURA_CP FAKE_DP

Three fake dataplane boots over two UTC hours of packet time:
  A  hour H1, no lost updates, every seq                      -> H1 complete
  B  hour H2, lost updates, worker 0 skips seq 3              -> H2 incomplete: lost
     updates as stats counted them, 1 epoch missing, no restart
  C  hour H1 again, clean                                      -> H1 now has 2 boots: a
     restart, incomplete
Each stamp's frames, drops and lost updates must equal the growth of `stats` over the
boot that made them; `stats` carries the stamp of everything; `integrity day` sums the
hours; `scan list` stamps the month it covers; a bad unit is bad_args.  The stamps survive a clean restart (snapshot) and a
SIGKILL (journal replay) unchanged.  `report.write` says in the header of summary.md and of every
analysis' Markdown file whether the time it covers is complete, and lists the periods
in integrity.csv; every CSV file starts with the stamp as '# ' lines and every SVG holds
it in <desc>/<metadata> and shows it, each saying complete: false (the run restarted);
a file of any other kind, or one without the stamp, fails the test.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Daemon, check, fail, fake_dp, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
ctl_bin = os.path.join(os.path.dirname(os.path.abspath(cp_bin)), "ctl", "obscuractl")
if not os.access(ctl_bin, os.X_OK):
    fail("obscuractl not found beside obscura-cp: %s" % ctl_bin)
d = tmpdir("integrity")
dm = Daemon(cp_bin, d)
dm.start()
ok = False
T1 = 1700000000 - 1700000000 % 3600 + 60     # 1 minute into hour H1
T2 = T1 + 3600                                # hour H2
H1 = "2023-11-14T22"
H2 = "2023-11-14T23"
M = "2023-11"                                 # analysis.period: month (the default)


def boot(name, seed, base, extra):
    fake_dp(fake_bin, dm.xpath, seed, os.path.join(d, "exp-%s.json" % name),
            extra=["--epochs", "6", "--interval-ms", "0", "--wait-drained", "30",
                   "--time-base", str(base), "--boot-id", "%016x" % (0xb00700 + seed)]
            + extra)


def grown(before, after):
    """The totals a boot added, as the stamp names them."""
    b, a = before["total"], after["total"]
    return {"packets": a["rx_packets"] - b["rx_packets"],
            "telescope_packets": a["tel_packets"] - b["tel_packets"],
            "lost_updates": a["lost_updates"] - b["lost_updates"],
            "forced_swaps": a["forced_swaps"] - b["forced_swaps"],
            "drops": {k: a["drops"][k] - b["drops"][k] for k in a["drops"]},
            "epochs": after["epochs"] - before["epochs"]}


def same(stamp, want, what):
    for k, v in want.items():
        if stamp[k] != v:
            fail("%s: %s = %r, want %r (stamp %r)" % (what, k, stamp[k], v, stamp))


def stamp_problem(kv, whole, what):
    """What is wrong with a file's stamp (its "key: value" lines) against the stamp of
    everything drained (every report here covers all of it), or None."""
    line = kv.get("integrity of the time covered", "")
    want = {"complete": "false", "dp_restarts": str(whole["dp_restarts"]),
            "epochs_missing": str(whole["epochs_missing"]),
            "lost_updates": str(whole["lost_updates"]), "packets": str(whole["packets"]),
            "epochs": str(whole["epochs"])}
    bad = {k: kv.get(k) for k in want if kv.get(k) != want[k]}
    if bad:
        return "%s: %r, want %r" % (what, bad, want)
    if not line.startswith("INCOMPLETE") or "%d dataplane restarts" % whole["dp_restarts"] not in line:
        return "%s: the first line does not say why it is incomplete: %r" % (what, line)
    cov = kv.get("covers", "").split(" ")
    if len(cov) < 3 or cov[1] != ".." or not cov[0] < cov[2] or not cov[0].startswith("2023-11-14T22"):
        return "%s: no time covered: %r" % (what, kv.get("covers"))
    return None


def kv_lines(lines):
    return dict(x.split(": ", 1) for x in lines if ": " in x)


def csv_stamp_problem(path, whole):
    """A CSV's stamp: its leading '# ' lines, as many as the first says (what
    read_csv(skiprows=N) skips), then a header and rows of one width with no '#' line
    among them."""
    lines = open(path).read().split("\n")
    n = 0
    while n < len(lines) and lines[n].startswith("# "):
        n += 1
    if n == 0:
        return "no leading '# ' lines"
    first = lines[0].split(": ", 1)
    if first[0] != "# obscura loss stamp" or not first[1].startswith("%d lines (" % n):
        return "the first line does not say how many lines to skip (%d): %r" % (n, lines[0])
    rest = [x for x in lines[n:] if x]
    if any(x.startswith("#") for x in rest):
        return "a '#' line after the header"
    rows = list(csv.reader(rest))
    if not rows or any(len(r) != len(rows[0]) for r in rows):
        return "not a header and rows of one width after the stamp"
    return stamp_problem(kv_lines([x[2:] for x in lines[:n]]), whole, "the '#' lines")


def svg_stamp_problem(path, whole):
    """An SVG's stamp: well-formed XML whose <desc> and <metadata> hold the stamp and
    whose visible text says it."""
    ns = "{http://www.w3.org/2000/svg}"
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return "not well-formed XML: %s" % e
    desc = root.find(ns + "desc")
    if desc is None or not desc.text:
        return "no <desc>"
    why = stamp_problem(kv_lines(desc.text.split("\n")), whole, "<desc>")
    if why:
        return why
    meta = root.find(ns + "metadata")
    if meta is None or "".join(meta.itertext()) != desc.text:
        return "<metadata> does not hold the stamp"
    shown = [t.text or "" for t in root.iter(ns + "text") if t.get("class") == "integrity"]
    if len(shown) != 2 or not shown[0].startswith("integrity of the time covered: INCOMPLETE") \
            or not shown[1].startswith("covers: "):
        return "the visible stamp lines are missing: %r" % shown
    h = float(root.get("height"))
    if any(float(t.get("y")) > h for t in root.iter(ns + "text") if t.get("class") == "integrity"):
        return "the visible stamp is outside the picture (height %s)" % h
    return None


def periods(c, by):
    data = c.data("integrity", {"by": by})
    check(data["by"] == by, "integrity by %s" % by)
    return {p["period"]: p for p in data["periods"]}, data["total"]


try:
    c = dm.conn()
    check(c.data("status")["metrics"] is None, "status: no /metrics listener configured")
    s0 = c.data("stats")
    check(s0["integrity"]["complete"] is False and s0["integrity"]["epochs"] == 0,
          "an empty store is not complete (nothing measured)")

    boot("a", 1, T1, ["--no-loss"])
    s1 = c.data("stats")
    ph, tot = periods(c, "hour")
    check(list(ph) == [H1], "one hour after boot A: %s" % list(ph))
    same(ph[H1], grown(s0, s1), "H1 after A")
    same(ph[H1], {"complete": True, "dp_restarts": 0, "epochs_missing": 0, "lost_updates": 0,
                  "imissed": 0, "rx_nombuf": 0}, "H1 after A")
    check(s1["integrity"]["complete"] is True, "stats: everything complete after a clean boot")
    sl = c.data("scan.list", argv=["--all"])
    check(sl["integrity"]["complete"] is True and [p["period"] for p in sl["integrity_periods"]] == [M],
          "scan list: the month covered is complete: %r" % sl["integrity_periods"])
    # (fake_dp's cells are not coverage cells, so there are no blocks here: the rows'
    # marks are checked on a real replay, tests/e2e/metrics_prom.sh)
    print("ok: a clean boot: its hour complete, frames/drops/epochs equal to stats")

    boot("b", 2, T2, ["--gap-at", "3"])
    s2 = c.data("stats")
    check(s2["total"]["lost_updates"] > s1["total"]["lost_updates"],
          "boot B lost updates (fake_dp's deltas)")
    ph, tot = periods(c, "hour")
    check(list(ph) == [H1, H2], "two hours: %s" % list(ph))
    g = grown(s1, s2)
    same(ph[H2], g, "H2 after B")
    same(ph[H2], {"complete": False, "dp_restarts": 0, "epochs_missing": 1}, "H2 after B")
    check(ph[H1]["complete"] is True, "H1 untouched by boot B")
    check(s2["integrity"]["complete"] is False and s2["integrity"]["epochs_missing"] == 1,
          "stats: the whole span incomplete, 1 epoch missing")
    sl = c.data("scan.list", argv=["--all"])
    check(sl["integrity"]["complete"] is False and sl["integrity_periods"][0]["complete"] is False
          and sl["integrity_periods"][0]["epochs_missing"] == 1,
          "scan list: the month is now incomplete, 1 epoch missing")
    print("ok: lost updates and a skipped seq: that hour incomplete, the other not")

    boot("c", 3, T1 + 600, ["--no-loss"])
    s3 = c.data("stats")
    ph, tot = periods(c, "hour")
    same(ph[H1], {"complete": False, "dp_restarts": 1, "lost_updates": 0}, "H1 after C")
    check(ph[H1]["epochs"] == grown(s0, s1)["epochs"] + grown(s2, s3)["epochs"],
          "H1 holds the epochs of A and C")
    same(tot, {"dp_restarts": 2, "epochs": s3["epochs"], "packets": s3["total"]["rx_packets"],
               "lost_updates": s3["total"]["lost_updates"], "complete": False}, "total")
    pd, dtot = periods(c, "day")
    check(list(pd) == ["2023-11-14"], "one day: %s" % list(pd))
    same(pd["2023-11-14"], {k: v for k, v in tot.items() if k != "period"}, "the day = the hours")
    check(s3["integrity"] == tot, "stats' stamp = integrity's total")
    print("ok: a restart inside an hour marks it; the day sums the hours exactly")

    # resip.top / resip.ports: the rows stay a bare list, the stamp of the span they cover
    # sits beside "data"; obscuractl (which reads "data") still prints the rows
    day = ["--from", "2023-11-14", "--to", "2023-11-14"]
    for cmd in ("resip.top", "resip.ports"):
        last = c.call(cmd)[-1]
        # (fake_dp publishes no RESIP records: the list is empty here, its shape is what
        # old clients rely on)
        check(last["ok"] is True and isinstance(last.get("data"), list),
              "%s: data is still the list of rows" % cmd)
        check(last.get("integrity") == tot, "%s: the stamp of all days = the total: %r" %
              (cmd, last.get("integrity")))
        last = c.call(cmd, argv=day)[-1]
        want = c.data("resip.summary", argv=day)["integrity"]
        check(last.get("integrity") == want and want["complete"] is False and
              want["dp_restarts"] == 2, "%s --from/--to the day: that day's stamp, incomplete" % cmd)
        out = subprocess.run([ctl_bin, "-c", dm.conf, "--json"] + cmd.split("."),
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 0 and json.loads(out.stdout) == c.data(cmd),
              "obscuractl --json %s prints the rows: %s" % (cmd, out.stderr.strip()))
    print("ok: resip top and ports carry the stamp of their span beside the rows")

    r = c.call("integrity", {"by": "fortnight"})[-1]
    check(r["ok"] is False and r["error"]["code"] == "bad_args", "by fortnight -> bad_args")

    rep = os.path.join(d, "rep")
    data = c.data("report.write", {"dir": rep})
    check("integrity.csv" in data["files"], "report lists integrity.csv: %s" % data["files"])
    md = open(os.path.join(rep, "summary.md")).read()
    head = md.split("\n## ")[0]
    check("INCOMPLETE" in head and "2 dataplane restarts" in head and "1 epochs missing" in head,
          "summary.md's header says the span is incomplete and why:\n%s" % head)
    mds = [f for f in data["files"] if f.endswith(".md")]
    check(len(mds) >= 10, "the analyses' Markdown files too: %s" % mds)
    for f in mds:
        head = open(os.path.join(rep, f)).read().split("\n|")[0]
        if "Integrity of the time covered: INCOMPLETE" not in head:
            fail("%s does not say in its header that the time is incomplete:\n%s" % (f, head))
    print("ok: every Markdown report file (%d) says so in its header" % len(mds))
    whole = c.data("stats")["integrity"]
    unstamped = []
    kinds = {}
    for f in data["files"]:
        path = os.path.join(rep, f)
        kind = os.path.splitext(f)[1]
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == ".md":
            continue                       # checked above
        if kind == ".csv":
            why = csv_stamp_problem(path, whole)
        elif kind == ".svg":
            why = svg_stamp_problem(path, whole)
        else:
            why = "a report file of a kind no stamp is defined for"
        if why:
            unstamped.append("%s: %s" % (f, why))
    check(kinds.get(".csv", 0) >= 10 and kinds.get(".svg", 0) >= 8,
          "report files of every kind: %s" % kinds)
    if unstamped:
        fail("report files without the stamp of their time:\n  " + "\n  ".join(unstamped))
    print("ok: every CSV (%d) and SVG (%d) report file carries the stamp, complete: false"
          % (kinds[".csv"], kinds[".svg"]))
    with open(os.path.join(rep, "integrity.csv"), newline="") as f:
        rows = list(csv.DictReader(x for x in f if not x.startswith("#")))
    got = {(r["unit"], r["period"]): r for r in rows}
    check(got[("hour", H2)]["complete"] == "false" and got[("hour", H2)]["epochs_missing"] == "1",
          "integrity.csv: H2 incomplete, 1 epoch missing")
    check(int(got[("hour", H1)]["dp_restarts"]) == 1, "integrity.csv: H1 one restart")
    print("ok: report.write: summary.md header and integrity.csv")

    before = c.data("integrity", {"by": "hour"})
    c.close()
    dm.stop()
    dm.start()
    c = dm.conn()
    check(c.data("integrity", {"by": "hour"}) == before, "same stamps after a clean restart")
    boot("d", 4, T2 + 900, ["--no-loss"])
    before = c.data("integrity", {"by": "hour"})
    c.close()
    dm.kill()   # SIGKILL: the last boot only in the journal
    dm.start()
    c = dm.conn()
    check(c.data("integrity", {"by": "hour"}) == before,
          "same stamps after SIGKILL (snapshot + journal replay)")
    print("ok: stamps survive a restart and a SIGKILL")
    ok = True
finally:
    dm.stop()
    if not ok:
        print(dm.logtext()[-3000:])
    shutil.rmtree(d, ignore_errors=True)
sys.exit(0 if ok else 1)
