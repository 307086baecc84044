"""cplib — shared helpers for the obscura-cp tests (stdlib only; run with /usr/bin/python3).

Starts obscura-cp on a private config in a temporary directory, talks ctl v1 to it, runs
fake_dp, and merges fake_dp's expected-totals files the way the period store must.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def wait_for(pred, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    fail("timed out waiting for " + what)


class Conn:
    """One ctl v1 connection."""

    def __init__(self, path, timeout=10.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.hello = None

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                if self.buf:
                    l, self.buf = self.buf, b""
                    return l
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l

    def greet(self):
        l = self.line()
        self.hello = json.loads(l) if l is not None else None
        return self.hello

    def send_raw(self, data):
        self.s.sendall(data)

    def reply(self):
        """All lines of one reply (up to and including the end line)."""
        lines = []
        while True:
            l = self.line()
            if l is None:
                raise EOFError("connection closed mid-reply")
            m = json.loads(l)
            lines.append(m)
            if m.get("end") is True:
                return lines

    def call(self, cmd, args=None, argv=None, rid=1):
        req = {"id": rid, "cmd": cmd}
        if args is not None:
            req["args"] = args
        if argv is not None:
            req["argv"] = argv
        self.send_raw(json.dumps(req).encode() + b"\n")
        return self.reply()

    def data(self, cmd, args=None, argv=None):
        lines = self.call(cmd, args, argv)
        last = lines[-1]
        if not last.get("ok"):
            fail("%s failed: %s" % (cmd, last))
        if "data" in last:
            return last["data"]
        out = []
        for m in lines[:-1]:
            out += m["chunk"]
        return out

    def closed(self, timeout=5.0):
        """True when the server closes the connection (EOF) within timeout."""
        self.s.settimeout(timeout)
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.s.close()


class Daemon:
    """obscura-cp on a private config under dir."""

    def __init__(self, cp_bin, dir, **over):
        self.cp_bin = cp_bin
        self.dir = dir
        self.conf = os.path.join(dir, "cp.yaml")
        self.sock = os.path.join(dir, "ctl.sock")
        self.sock_ro = os.path.join(dir, "ctl-ro.sock")
        self.state = os.path.join(dir, "state")
        self.xpath = os.path.join(dir, "x.exchange")
        self.log = os.path.join(dir, "cp.log")
        ctl = {"state_dir": self.state, "socket": self.sock, "socket_ro": self.sock_ro,
               "snapshot_interval_s": 1, "max_clients": 32, "max_request": 65536,
               "idle_timeout_s": 300, "metrics_listen": '""'}
        ctl.update(over)
        with open(self.conf, "w") as f:
            f.write("exchange:\n  path: %s\ncontrol:\n" % self.xpath)
            for k, v in ctl.items():
                f.write("  %s: %s\n" % (k, v))
            f.write("telescope:\n  sensors:\n"
                    "    - name: alpha\n      prefixes: [10.0.0.0/16]\n"
                    "    - name: beta\n      prefixes: [10.1.0.0/16]\n")
        self.p = None

    def start(self, wait=True):
        logf = open(self.log, "ab")
        self.p = subprocess.Popen([self.cp_bin, "-c", self.conf], stdout=logf, stderr=logf)
        logf.close()
        if wait:
            deadline = time.time() + 15
            while time.time() < deadline:
                if self.p.poll() is not None:
                    fail("obscura-cp exited early (rc %s); log:\n%s" % (self.p.returncode, self.logtext()))
                try:
                    c = Conn(self.sock, 2)
                    c.greet()
                    c.close()
                    return
                except OSError:
                    time.sleep(0.05)
            fail("obscura-cp did not come up")

    def conn(self, ro=False):
        c = Conn(self.sock_ro if ro else self.sock)
        h = c.greet()
        if h is None or "hello" not in h:
            fail("no greeting: %r" % h)
        return c

    def kill(self, sig=signal.SIGKILL):
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                fail("obscura-cp did not stop on signal %d" % sig)
        rc = self.p.returncode if self.p is not None else None
        self.p = None
        return rc

    def stop(self):
        return self.kill(signal.SIGTERM)

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def logtext(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def fake_dp(fake_bin, xpath, seed, expect, wait=True, extra=()):
    args = [fake_bin, "--path", xpath, "--seed", str(seed), "--expect", expect] + list(extra)
    p = subprocess.Popen(args)
    if wait:
        if p.wait(180) != 0:
            fail("fake_dp %s failed rc %d" % (args, p.returncode))
    return p


def merge_expected(files):
    """Merge fake_dp expected files: counters sum, sources min/max/sum/or."""
    tot = None
    workers = []
    epochs = 0
    srcs = {}

    def add(a, b):
        if a is None:
            return json.loads(json.dumps(b))
        for k, v in b.items():
            if isinstance(v, dict):
                for kk, vv in v.items():
                    a[k][kk] += vv
            else:
                a[k] += v
        return a

    for fn in files:
        with open(fn) as f:
            e = json.load(f)
        epochs += e["epochs"]
        tot = add(tot, e["total"])
        for i, w in enumerate(e["workers"]):
            if i < len(workers):
                workers[i] = add(workers[i], w)
            else:
                workers.append(add(None, w))
        for s in e["sources"]:
            o = srcs.get(s["addr"])
            if o is None:
                srcs[s["addr"]] = dict(s)
            else:
                o["first_ns"] = min(o["first_ns"], s["first_ns"])
                o["last_ns"] = max(o["last_ns"], s["last_ns"])
                o["packets"] += s["packets"]
                o["sensor_mask"] |= s["sensor_mask"]
    return {"epochs": epochs, "total": tot, "workers": workers, "sources": srcs}


SENSORS = ["alpha", "beta"]


def compare(conn, exp, what):
    """stats and the full sources.top against merged expectations, exactly."""
    st = conn.data("stats")
    check(st["epochs"] == exp["epochs"], "%s: epochs %d == expected %d" % (what, st["epochs"], exp["epochs"]))
    for k, v in exp["total"].items():
        if st["total"][k] != v:
            fail("%s: total.%s = %r, expected %r" % (what, k, st["total"][k], v))
    for i, w in enumerate(exp["workers"]):
        for k, v in w.items():
            if st["workers"][i][k] != v:
                fail("%s: worker %d %s = %r, expected %r" % (what, i, k, st["workers"][i][k], v))
    print("ok: %s: totals and per-worker counters equal the expected ones" % what)
    # every source (399 k in test_background): allow for a sanitizer build on a busy
    # machine; the latency of small requests is checked where it matters, not here
    old = conn.s.gettimeout()
    conn.s.settimeout(120)
    try:
        top = conn.data("sources.top", {"n": 0})
    finally:
        conn.s.settimeout(old)
    check(len(top) == len(exp["sources"]), "%s: %d sources == expected %d" % (what, len(top), len(exp["sources"])))
    for r in top:
        e = exp["sources"].get(r["addr"])
        if e is None:
            fail("%s: unexpected source %s" % (what, r["addr"]))
        names = [SENSORS[i] for i in range(len(SENSORS)) if e["sensor_mask"] >> i & 1]
        if (r["packets"], r["first_ns"], r["last_ns"], r["sensors"]) != (e["packets"], e["first_ns"], e["last_ns"], names):
            fail("%s: source %s = %r, expected %r" % (what, r["addr"], r, e))
    order = [(-r["packets"], tuple(int(x) for x in r["addr"].split("."))) for r in top]
    check(order == sorted(order), "%s: sources ordered by packets desc, address asc" % what)


def wait_for(pred, what, timeout=20):
    """Poll pred every 0.1 s until it holds (returns the seconds it took) or fail."""
    t0 = time.time()
    while time.time() < t0 + timeout:
        if pred():
            return time.time() - t0
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def cleanup(dm, d):
    """A test's end, however it ends: the daemon killed, its directory removed (kept
    when CP_TEST_KEEP is set)."""
    if dm.alive():
        dm.kill()
    if os.environ.get("CP_TEST_KEEP") is None:
        shutil.rmtree(d, ignore_errors=True)


def tmpdir(name):
    base = os.environ.get("MESON_BUILD_ROOT") or tempfile.gettempdir()
    d = tempfile.mkdtemp(prefix="cp-%s-" % name, dir="/tmp")
    return d


def cp_test(name, **over):
    """A cp test's start: (cp_bin, fake_bin) from argv, its directory, its Daemon, and
    exp(k), the path of fake_dp's expected totals k."""
    d = tmpdir(name)
    return (sys.argv[1], sys.argv[2], d, Daemon(sys.argv[1], d, **over),
            lambda k: os.path.join(d, "exp%d.json" % k))
