#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""fleet_truth.py OBSCURA_GEN OBSCURA_DP OBSCURA_CP OBSCURACTL

`obscura-cp --fleet` (control/fleet.h, docs/export.md "Fleet") against one appliance that
saw all the traffic.  obscura-gen writes a capture for two sensors (scanners, Mirai,
RESIP, payload, backscatter); two clickhouse-server instances are started on loopback as
the two shards of one cluster (each with the cluster in its remote_servers).  Two cases:

  sensors: appliance A replays the frames to sensor east, B those to sensor west;
  time:    A replays the first half of the capture's time span, B the second;

each appliance (obscura-dp --replay, obscura-cp exporting) into its own shard, then a
`Distributed` table per export table over both shards, and `obscura-cp --fleet` on it.
The fleet's `scan list --all --periods`, `scan show` of every block, `scan ports 0`,
`scan cells`, `resip summary/daily/top 0/ports 0`, `life summary/sensors/categories/
continuity/show`, `stats` totals, the report files, and the tool labels (every appliance
labels with conf/fingerprints.txt: `sources top --tool T` per tool of the file, `sources
show` of the labelled sources it lists, `scan show`'s per-period tool shares) must equal field by field those
of one appliance that replayed the whole capture, but for what counts how the traffic was
cut into epochs (strip_meta, report_norm).  Then bad input: a database that does not
exist and ClickHouse down at the fleet's start are a clear error and exit 1, not a crash;
the commands a fleet refuses answer `unavailable`; ClickHouse stopped under a running
fleet changes no answer.

FLEET_KEEP=1 keeps the temporary directory (the logs, the reports) for a look after a failure.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, os.path.join(src, "tests", "cp"))
from cplib import check, fail  # noqa: E402
import chlib  # noqa: E402
sys.path.insert(0, here)
from jsoncmp import diff  # noqa: E402

gen, dp, cp, ctl = (os.path.realpath(p) for p in sys.argv[1:5])
tmp = __import__("tempfile").mkdtemp(prefix="obscura-fleet2.")
prefix = "obs-fleet2-%d" % os.getpid()
procs = []
SENSORS = {"east": (0xC6120000, 27), "west": (0xC6121000, 27)}   # 198.18.0.0/27, 198.18.16.0/27


def run(args, what, timeout=600, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if r.returncode != 0:
        fail("%s: exit %d: %s %s" % (what, r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    return r.stdout


def split_pcap(path, outs, pick):
    """Each frame of path to outs[pick(ts_ns, dst)] (dst None: not IPv4)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xa1b2c3d4, 0xa1b23c4d):
        fail("%s: not a little-endian pcap (magic %x)" % (path, magic))
    mult = 1000 if magic == 0xa1b2c3d4 else 1
    fhs = [open(o, "wb") for o in outs]
    for fh in fhs:
        fh.write(data[:24])
    off, counts = 24, [0] * len(outs)
    while off + 16 <= len(data):
        sec, sub, incl, _ = struct.unpack_from("<IIII", data, off)
        frame = data[off + 16:off + 16 + incl]
        et, l3 = struct.unpack_from(">H", frame, 12)[0] if len(frame) >= 14 else 0, 14
        while et in (0x8100, 0x88a8) and len(frame) >= l3 + 4:
            et = struct.unpack_from(">H", frame, l3 + 2)[0]
            l3 += 4
        dst = struct.unpack_from(">I", frame, l3 + 16)[0] if et == 0x0800 and len(frame) >= l3 + 20 else None
        k = pick(sec * 1000000000 + sub * mult, dst)
        fhs[k].write(data[off:off + 16 + incl])
        counts[k] += 1
        off += 16 + incl
    for fh in fhs:
        fh.close()
    return counts


def pcap_times(path):
    with open(path, "rb") as f:
        data = f.read()
    mult = 1000 if struct.unpack("<I", data[:4])[0] == 0xa1b2c3d4 else 1
    off, ts = 24, []
    while off + 16 <= len(data):
        sec, sub, incl, _ = struct.unpack_from("<IIII", data, off)
        ts.append(sec * 1000000000 + sub * mult)
        off += 16 + incl
    return ts


def conf(d, name, ch=None, db="obs", fleet=False):
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    exp = ("export:\n  clickhouse:\n    url: %s\n    database: %s\n    appliance: %s\n"
           % (ch.url, db, name)) if ch is not None else ""
    with open(os.path.join(d, "obscura.yaml"), "w") as f:
        f.write("""dataplane:
  workers: 1
  hugepages: no
  file_prefix: %(prefix)s-%(name)s
telescope:
  sensors:
    - name: east
      prefixes: [198.18.0.0/27]
    - name: west
      prefixes: [198.18.16.0/27]
exchange:
  path: %(d)s/exchange
  epoch_ms: 1000
  event_capacity: 65536
  drain_wait_s: 5
control:
  state_dir: %(d)s/state
  socket: %(d)s/ctl.sock
  socket_ro: ""
  socket_group: ""
  user: ""
  metrics_listen: ""
resip:
  table: %(tmp)s/resip.csv
rules:
  files: [%(src)s/conf/rules/obscura.rules]
tables:
  fingerprint_file: %(src)s/conf/fingerprints.txt
%(exp)s""" % {"prefix": prefix, "name": name, "d": d, "tmp": tmp, "src": src, "exp": exp})
    return os.path.join(d, "obscura.yaml")


def start_cp(c, log, fleet=False):
    p = subprocess.Popen([cp, "-c", c] + (["--fleet"] if fleet else []),
                         stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    procs.append(p)
    for _ in range(600):
        if p.poll() is not None:
            fail("obscura-cp%s exited at start (rc %s): %s" % (
                " --fleet" if fleet else "", p.returncode, open(log).read()[-3000:]))
        if subprocess.run([ctl, "-t", "5", "-c", c, "status"], capture_output=True).returncode == 0:
            return p
        time.sleep(0.1)
    fail("obscura-cp socket not up within 60 s")


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def ctlj(c, *words):
    return json.loads(run([ctl, "-t", "120", "-c", c, "--json"] + list(words), "obscuractl %s" % " ".join(words)))


def appliance(name, pcap, ch, db):
    d = os.path.join(tmp, name)
    c = conf(d, name, ch, db)
    p = start_cp(c, os.path.join(d, "cp.log"))
    run([dp, "-c", c, "--replay", pcap, "--drain-timeout", "120"], "%s: obscura-dp --replay" % name)
    if ch is not None:
        deadline = time.time() + 120
        while True:
            x = ctlj(c, "status")["export"]
            if x["spool_files"] == 0 and x["batches_sent"] > 0 and x["state"] == "ok":
                break
            if time.time() > deadline:
                fail("%s: the export did not drain: %r" % (name, x))
            time.sleep(0.2)
    return c, p


# what the fleet must equal, and the fields that are about the appliance, not the traffic
ANSWERS = [("scan", "list", "--all", "--periods"), ("scan", "ports", "0"), ("scan", "cells"),
           ("resip", "summary"), ("resip", "daily"), ("resip", "top", "0"), ("resip", "ports", "0"),
           ("life", "summary"), ("life", "sensors"), ("life", "categories"),
           ("life", "continuity"), ("dos", "list")]


def strip_meta(v, integ=False):
    """What differs by design: the appliance's own bookkeeping (META), and inside a loss
    stamp (docs/ctl-v1.md) the counters an epoch books in the hour of its first packet
    (all but INTEG_KEEP): two appliances cut the traffic into other epochs, so those sums land
    in other hours (their totals are compared in `stats`).  Whether a span is complete,
    restarts, epochs missing and lost updates stay compared."""
    if isinstance(v, dict):
        return {k: strip_meta(x, integ or k.startswith("integrity")) for k, x in v.items()
                if k not in META and not (integ and k not in INTEG_KEEP)}
    if isinstance(v, list):
        return [strip_meta(x, integ) for x in v]
    return v


# src_records / port_records (resip summary), src_/event_/excluded_records (life summary)
# count the per-epoch records the store was handed: one (day, proto, port) seen in ten
# epochs is ten records.  Two appliances cut the
# traffic into other epochs than one appliance does, so these differ by design (the
# fleet's port_records is checked against the rows ClickHouse holds instead); the packets,
# hosts, days and ports they add up to stay compared.
META = {"epochs", "overlap_epochs", "boots", "forced_swaps", "generated", "written",
        "computed_at", "job", "dir", "path", "elapsed_ms", "appliances", "memory_bytes",
        "src_records", "port_records", "event_records", "excluded_records"}
INTEG_KEEP = {"complete", "restarts", "epochs_missing", "lost_updates", "period", "from", "to",
              "integrity", "integrity_periods"}


def compare(single, fleet, what):
    n = 0
    for words in ANSWERS:
        a, b = strip_meta(ctlj(single, *words)), strip_meta(ctlj(fleet, *words))
        if words == ("scan", "cells"):   # the store's cell order is its hash table's
            a, b = (sorted(x, key=lambda c: json.dumps(c, sort_keys=True)) for x in (a, b))
        r = diff(a, b)
        if r:
            fail("%s: `%s`: the fleet differs from the single appliance: %s" % (what, " ".join(words), r))
        n += 1
    attacks = ctlj(single, "dos", "list")
    check(len(attacks) > 0, "%s: the capture has DoS attacks (%d), compared above" % (what, len(attacks)))
    for v in sorted({x["victim"] for x in attacks}):
        r = diff(strip_meta(ctlj(single, "dos", "show", v)), strip_meta(ctlj(fleet, "dos", "show", v)))
        if r:
            fail("%s: `dos show %s`: %s" % (what, v, r))
    blocks = [b["block"] for b in ctlj(single, "scan", "list", "--all")["blocks"]]
    check(len(blocks) > 0, "%s: the capture has scanner blocks (%d)" % (what, len(blocks)))
    tooled = 0
    for blk in blocks:
        a = ctlj(single, "scan", "show", blk)
        r = diff(strip_meta(a), strip_meta(ctlj(fleet, "scan", "show", blk)))
        if r:
            fail("%s: `scan show %s`: %s" % (what, blk, r))
        tooled += per_tool_rows(a)
    # scan show's per-period tool shares (docs/fingerprints.md), compared above: not all empty
    check(tooled > 0, "%s: scan show's per-period tool rows, compared above: %d" % (what, tooled))
    top = ctlj(single, "resip", "top", "10")
    for a in life_addrs(single):
        r = diff(strip_meta(ctlj(single, "life", "show", a)), strip_meta(ctlj(fleet, "life", "show", a)))
        if r:
            fail("%s: `life show %s`: %s" % (what, a, r))
    s1, s2 = ctlj(single, "stats")["total"], ctlj(fleet, "stats")["total"]
    for k in ("tel_packets", "rx_packets", "resip_packets", "scanner_packets", "cov_syns",
              "rule_matches", "payload_packets", "protocols", "drops", "dropped", "excluded_packets",
              "lost_updates", "time_backwards", "rx_bytes", "tel_bytes", "fragments",
              "backscatter_packets"):
        check(s1[k] == s2[k], "%s: stats total.%s: fleet %r == single %r" % (what, k, s2[k], s1[k]))
    nt, ns = tools(single, fleet, what)
    print("ok: %s: %d answers, %d blocks shown, life show of %d sources, %d tools' top lists, "
          "sources show of %d labelled sources: the fleet equals the "
          "single appliance (resip top: %d rows)" % (what, n, len(blocks), len(life_addrs(single)), nt, ns,
                                                     len(top) if isinstance(top, list) else len(top.get("sources", top.get("rows", [])))))


# the tool labels (conf/fingerprints.txt; obscura-gen's scanners send ZMap-shaped SYNs, its
# Mirai bots seq == dst): per tool `sources top --tool T`, then `sources show` of the
# labelled sources it lists, field by field (the fleet's come from obscura_source_tools)
def tool_names():
    names = []
    with open(os.path.join(src, "conf", "fingerprints.txt")) as f:
        for ln in f:
            w = ln.split()
            if len(w) > 2 and w[0] == "fp" and w[2] not in names:
                names.append(w[2])
    return names


def rows_of(j):
    return j if isinstance(j, list) else j.get("sources", j.get("rows", []))


def per_tool_rows(v):
    """The rows of every `tools.per_tool` list in a `scan show` answer."""
    if isinstance(v, dict):
        n = len(v["tools"]["per_tool"]) if isinstance(v.get("tools"), dict) else 0
        return n + sum(per_tool_rows(x) for k, x in v.items() if k != "tools")
    if isinstance(v, list):
        return sum(per_tool_rows(x) for x in v)
    return 0


def tools(single, fleet, what, show_max=25):
    labelled, addrs = [], []
    for t in tool_names():
        a, b = ctlj(single, "sources", "top", "1000", "--tool", t), ctlj(fleet, "sources", "top", "1000", "--tool", t)
        r = diff(strip_meta(a), strip_meta(b))
        if r:
            fail("%s: `sources top 1000 --tool %s`: the fleet differs from the single appliance: %s" % (what, t, r))
        rows = rows_of(a)
        if rows:
            labelled.append(t)
        addrs += [x.get("addr", x.get("address")) for x in rows[:show_max]]
    check(len(labelled) >= 2, "%s: the capture has sources of %d tools (%s), compared above"
          % (what, len(labelled), ", ".join(labelled)))
    for x in addrs:
        a, b = ctlj(single, "sources", "show", x), ctlj(fleet, "sources", "show", x)
        if not (a["known"] and a["tool"] is not None and a["tool"]["labelled_syns"] > 0):
            fail("%s: `sources show %s` on the single appliance names no tool: %r" % (what, x, a))
        r = diff(strip_meta(a), strip_meta(b))
        if r:
            fail("%s: `sources show %s`: the fleet differs from the single appliance: %s" % (what, x, r))
    return len(labelled), len(addrs)


# what a fleet does not answer (control/fleet.c fl_refused): a clear ctl error, and the
# fleet goes on answering
REFUSED = [("capture", "stop"), ("tables", "reload"), ("rules", "reload"), ("snapshot", "now")]


def refused(c, p):
    for words in REFUSED:
        r = subprocess.run([ctl, "-t", "30", "-c", c] + list(words), capture_output=True, text=True)
        check(r.returncode == 1 and "error unavailable" in r.stderr and "not answered by obscura-cp --fleet" in r.stderr,
              "fleet: `%s` refused: %s" % (" ".join(words), r.stderr.strip()))
    check(p.poll() is None and ctlj(c, "status")["fleet"]["appliances"] == 2,
          "fleet: still answering after the refused commands")


def life_addrs(c):
    out = run([ctl, "-t", "60", "-c", c, "--json", "sources", "top", "15"], "sources top")
    return [s["addr"] for s in json.loads(out)][:15]


# integrity.csv: per period, the columns that do not depend on how the traffic was cut
# into epochs (see strip_meta); integrity.md renders the same rows with the per-epoch
# sums, so it is left to integrity.csv.  summary.*: the store's boot count is the
# appliance's, and so are the epoch counts (strip_meta).
INTEG_COLS = ("unit", "period", "from", "to", "complete", "lost_updates", "dp_restarts",
              "epochs_missing")
SUMMARY_SKIP = (b"store,boots,", b"store,epochs,", b"integrity,epochs,", b"integrity,overlap_epochs,",
                b"| dataplane boots |", b"| epochs |", b"| overlap epochs", b"| forced swaps |")
SUMMARY_SWAPS = __import__("re").compile(rb"^[a-z0-9_]+,forced_swaps,")   # every scope's (STAMP_CUT)


# the loss stamp's lines (docs/ctl-v1.md) that count how the traffic was cut into epochs:
# epochs and overlap_epochs (META), and forced_swaps: a forced swap is an appliance
# publishing an epoch early because a table filled (where it cut, not a loss of traffic:
# integrity.h), so one appliance and two halves swap at other times.  Every other stamp
# line (covers, complete, packets, drops, losses, restarts) stays compared.
STAMP_CUT = __import__("re").compile(rb"(?m)^(# )?(epochs|overlap_epochs|forced_swaps): \d+$")


def report_norm(fn, data):
    # every page's integrity line counts the epochs: the appliance's cut, not the traffic
    data = __import__("re").sub(rb"\((\d+) epochs, ", b"(N epochs, ", data)
    data = STAMP_CUT.sub(rb"\1\2: N", data)
    if fn == "integrity.csv":
        rows = data.decode().splitlines()
        # the loss stamp above the table: its first line says how many lines it holds
        m = __import__("re").match(r"# obscura loss stamp: (\d+) lines", rows[0])
        rows = rows[int(m.group(1)):] if m else rows
        head = rows[0].split(",")
        idx = [head.index(c) for c in INTEG_COLS]
        return "\n".join(",".join(r.split(",")[i] for i in idx) for r in rows).encode()
    if fn == "integrity.md":
        return b""
    if fn.startswith("summary."):
        return b"\n".join(ln for ln in data.splitlines()
                          if not ln.lower().startswith(SUMMARY_SKIP) and not SUMMARY_SWAPS.match(ln))
    return data


def reports(single, fleet, what):
    ra, rb = os.path.join(tmp, what + "-rep-single"), os.path.join(tmp, what + "-rep-fleet")
    ctlj(single, "report", "write", ra)
    ctlj(fleet, "report", "write", rb)
    fa, fb = sorted(os.listdir(ra)), sorted(os.listdir(rb))
    check(fa == fb and len(fa) > 5, "%s: the report has the same %d files" % (what, len(fa)))
    same = differ = 0
    for fn in fa:
        x, y = (report_norm(fn, open(os.path.join(r, fn), "rb").read()) for r in (ra, rb))
        if x == y:
            same += 1
        else:
            differ += 1
            print("  report %s differs" % fn)
            import difflib
            for ln in list(difflib.unified_diff(x.decode(errors="replace").splitlines(),
                                                y.decode(errors="replace").splitlines(),
                                                "single", "fleet", n=0, lineterm=""))[:8]:
                print("    " + ln)
    check(differ == 0, "%s: every report file equal (%d same, %d differ)" % (what, same, differ))


try:
    pcap = os.path.join(tmp, "traffic.pcap")
    run([gen, "--packets", "150000", "--seed", "16", "--start", "2024-03-01T00:00:00Z", "--span", "60d",
         "--sensor", "east=198.18.0.0/27", "--sensor", "west=198.18.16.0/27",
         "--mix", "background=0.2,backscatter=0.08,mirai=0.1,scanner=0.4,resip=0.15,payload=0.07",
         "--backwards-share", "0", "--resip-table", os.path.join(tmp, "resip.csv"), "--quiet",
         "--out", pcap, "--truth", os.path.join(tmp, "truth.json")], "obscura-gen")

    def sensor_of(dst):
        for i, (net, ln) in enumerate(SENSORS.values()):
            if dst is not None and dst >> (32 - ln) == net >> (32 - ln):
                return i
        return 0

    halves = {"sensors": [os.path.join(tmp, "east.pcap"), os.path.join(tmp, "west.pcap")],
              "time": [os.path.join(tmp, "t1.pcap"), os.path.join(tmp, "t2.pcap")]}
    n = split_pcap(pcap, halves["sensors"], lambda ts, dst: sensor_of(dst))
    check(min(n) > 1000, "split by sensor: %d + %d frames" % tuple(n))
    ts = sorted(pcap_times(pcap))
    mid = (ts[0] + ts[-1]) // 2
    n = split_pcap(pcap, halves["time"], lambda t, dst: 0 if t < mid else 1)
    check(min(n) > 1000, "split by time at the span's middle: %d + %d frames" % tuple(n))

    sh = chlib.shards([os.path.join(tmp, "ch1"), os.path.join(tmp, "ch2")])
    for s in sh:
        s.start()

    TABLES = ("obscura_sources", "obscura_cells", "obscura_events", "obscura_resip_ports",
              "obscura_dos", "obscura_resp_sessions", "obscura_resp_periods",
              "obscura_source_tools", "obscura_epochs")
    single, sp = appliance("single", pcap, None, None)
    for case, files in halves.items():
        db = "obs_" + case
        ca, pa = appliance(case + "-a", files[0], sh[0], db)
        cb, pb = appliance(case + "-b", files[1], sh[1], db)
        stop(pa)
        stop(pb)
        fdb = "fleet_" + case
        for s in sh:   # the Distributed tables (on both: either answers the fleet)
            s.query("CREATE DATABASE IF NOT EXISTS %s" % fdb)
            for t in TABLES:
                s.query("CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s ENGINE = Distributed(obscura_fleet, %s, %s)"
                        % (fdb, t, db, t, db, t))
        (na,), = sh[0].rows("SELECT count() FROM %s.obscura_epochs" % db)
        (nb,), = sh[1].rows("SELECT count() FROM %s.obscura_epochs" % db)
        (nall,), = sh[0].rows("SELECT count() FROM %s.obscura_epochs FINAL" % fdb)
        check(int(na) > 0 and int(nb) > 0 and int(nall) == int(na) + int(nb),
              "%s: shard 1 holds %s epochs, shard 2 %s; the Distributed table %s" % (case, na, nb, nall))
        fc = conf(os.path.join(tmp, "fleet-" + case), "fleet", sh[0], fdb)
        fp = start_cp(fc, os.path.join(tmp, "fleet-" + case, "cp.log"), fleet=True)
        st = ctlj(fc, "status")
        check(st["fleet"]["appliances"] == 2 and st["fleet"]["epochs"] == int(nall) and
              st["fleet"]["rows_without_epoch"] == 0 and st["fleet"]["rows_bad"] == 0,
              "%s: the fleet read %d epochs of 2 appliances, no row left out: %r" % (case, int(nall), st["fleet"]))
        (nrp,), = sh[0].rows("SELECT count() FROM %s.obscura_resip_ports FINAL" % fdb)
        rs = ctlj(fc, "resip", "summary")
        rs = rs.get("total", rs)
        check(rs["port_records"] == int(nrp),
              "%s: the fleet's resip port_records %r == the %s RESIP port rows in ClickHouse"
              % (case, rs["port_records"], nrp))
        compare(single, fc, case)
        reports(single, fc, case)
        if case == "sensors":   # bad input: a database without the tables
            fx = conf(os.path.join(tmp, "fleet-nodb"), "fleet", sh[0], "fleet_nosuchdb")
            r = subprocess.run([cp, "-c", fx, "--fleet"], capture_output=True, text=True, timeout=60)
            check(r.returncode == 1 and "fleet: cannot read the fleet's rows from ClickHouse" in r.stderr
                  and "fleet_nosuchdb" in r.stderr,
                  "no such database: obscura-cp --fleet exits 1 saying why: %s" % r.stderr.strip().splitlines()[-1:])
            # an older appliance's export, without obscura_dos: it loads, dos says there
            # is no DoS data; the table made, `fleet reload` sees its rows
            for s in sh:
                s.query("CREATE DATABASE IF NOT EXISTS fleet_nodos")
                for t in TABLES:
                    if t != "obscura_dos":
                        s.query("CREATE TABLE IF NOT EXISTS fleet_nodos.%s AS %s.%s ENGINE = "
                                "Distributed(obscura_fleet, %s, %s)" % (t, db, t, db, t))
            fx = conf(os.path.join(tmp, "fleet-nodos"), "fleet", sh[0], "fleet_nodos")
            fxp = start_cp(fx, os.path.join(tmp, "fleet-nodos", "cp.log"), fleet=True)
            st = ctlj(fx, "status")["fleet"]
            check(st["tables_missing"] == 1 and st["dos_table"] is False and st["appliances"] == 2,
                  "no obscura_dos: the fleet loads, counting the table missing: %r" % st)
            r = subprocess.run([ctl, "-t", "30", "-c", fx, "dos", "list"], capture_output=True, text=True)
            check(r.returncode == 1 and "no DoS data" in r.stderr and "obscura_dos" in r.stderr,
                  "no obscura_dos: `dos list` says there is no DoS data: %s" % r.stderr.strip())
            check(diff(strip_meta(ctlj(single, "scan", "list", "--all", "--periods")),
                       strip_meta(ctlj(fx, "scan", "list", "--all", "--periods"))) is None,
                  "no obscura_dos: the scan answers are still the single appliance's")
            for s in sh:
                s.query("CREATE TABLE IF NOT EXISTS fleet_nodos.obscura_dos AS %s.obscura_dos ENGINE = "
                        "Distributed(obscura_fleet, %s, obscura_dos)" % (db, db))
            rl = ctlj(fx, "fleet", "reload")
            check(rl["fleet"]["tables_missing"] == 0 and rl["fleet"]["dos_table"] is True and
                  rl["epochs"] == rl["epochs_before"] and rl["fleet"]["loads"] == 2,
                  "fleet reload: the new table's rows seen: %r" % rl)
            check(diff(strip_meta(ctlj(single, "dos", "list")), strip_meta(ctlj(fx, "dos", "list"))) is None,
                  "fleet reload: dos list now equals the single appliance's")
            compare(single, fx, case + " (after fleet reload)")
            stop(fxp)
        if case == "time":
            refused(fc, fp)
            # ClickHouse stopped under a running fleet: its answers are the state it read
            # at start, so they go on, unchanged (ClickHouse is asked only at start)
            before = ctlj(fc, "scan", "list", "--all", "--periods")
            for s in sh:
                s.stop()
            # a reload with ClickHouse down: a clear error, the last load's answers kept
            r = subprocess.run([ctl, "-t", "60", "-c", fc, "fleet", "reload"], capture_output=True, text=True)
            check(r.returncode == 1 and "error unavailable" in r.stderr and "kept" in r.stderr,
                  "fleet reload, ClickHouse down: refused saying the answers are kept: %s" % r.stderr.strip())
            check(ctlj(fc, "status")["fleet"]["reload_failures"] == 1, "fleet reload failure counted")
            check(diff(before, ctlj(fc, "scan", "list", "--all", "--periods")) is None and fp.poll() is None,
                  "ClickHouse down under a running fleet: it still answers, unchanged, from what it read")
            compare(single, fc, case + " (ClickHouse down)")
        stop(fp)

    # bad input: ClickHouse down when the fleet starts: a clear error and exit, no crash
    fc = conf(os.path.join(tmp, "fleet-down"), "fleet", sh[0], "fleet_sensors")
    r = subprocess.run([cp, "-c", fc, "--fleet"], capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "fleet: cannot read the fleet's rows from ClickHouse" in r.stderr,
          "ClickHouse down: obscura-cp --fleet exits 1 saying why: %s" % r.stderr.strip().splitlines()[-1:])
    print("ok: all fleet checks passed")
finally:
    for p in procs:
        stop(p)
    for s in locals().get("sh", []):
        s.stop()
    shutil.rmtree(tmp, ignore_errors=True) if not os.environ.get("FLEET_KEEP") else None
