#!/usr/bin/python3
"""ctl v1 limits of obscura-cp (docs/ctl-v1.md "Limits"): nobody can starve the admin socket.

usage: test_ctl_limits.py OBSCURA_CP FAKE_DP

40 read-only clients trickling bytes while admin `status` answers at once (each socket
has its own pool); a client trickling a byte every 2 s without finishing a request is
closed after the request deadline (5 s from its first byte) with `timeout`, although
idle_timeout_s is 300, while one sending whole requests as slowly stays; 100 more
refused connections make one log line at the first and one with the count 10 s later;
the read-only socket has its own group (control.socket_ro_group), both mode 0660;
sources.top n over 1000000 is bad_args naming the range; a list of ~20 000 sources to
4 clients that do not read is produced in steps, so the server holds a bounded backlog
(status ctl.backlog_bytes, not the whole replies), and each then gets it all, in order;
a 5th list on the read-only socket meanwhile is `busy` (4 per socket) while the admin
socket still gets one.
"""
import grp
import json
import os
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Conn, Daemon, check, cleanup, fail, fake_dp, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
d = tmpdir("limits")
# two groups the sockets may be given: any as root, else our own
if os.geteuid() == 0:
    names = [g.gr_name for g in grp.getgrall() if g.gr_gid != 0]
else:
    names = [grp.getgrgid(x).gr_name for x in os.getgroups()]
names = [n for n in ("daemon", "nogroup") if n in names] + sorted(set(names) - {"daemon", "nogroup"})
groups = {}
if len(names) >= 2:
    groups = {"socket_group": names[0], "socket_ro_group": names[1]}
dm = Daemon(cp_bin, d, max_clients=32, idle_timeout_s=300, **groups)
dm.start()
stop = threading.Event()


def trickle(conns, every):
    """One byte of a request that never ends, to each connection, every `every` s."""
    while not stop.wait(every):
        for k in conns:
            try:
                k.send_raw(b" ")
            except OSError:
                pass


try:
    if groups:
        for path, key in ((dm.sock, "socket_group"), (dm.sock_ro, "socket_ro_group")):
            st = os.stat(path)
            check(stat.S_IMODE(st.st_mode) == 0o660 and grp.getgrgid(st.st_gid).gr_name == groups[key],
                  "%s: mode %o group %s (control.%s %s)" % (os.path.basename(path),
                  stat.S_IMODE(st.st_mode), grp.getgrgid(st.st_gid).gr_name, key, groups[key]))
    else:
        print("SKIP socket groups (needs root or membership of two groups)")

    # a flood of read-only clients: the read-only pool fills, the admin one stays free
    ro, busy = [], 0
    for i in range(40):
        k = Conn(dm.sock_ro)
        g = k.greet()
        if g is not None and "hello" in g:
            ro.append(k)
            k.send_raw(b'{"id":1,')
            if len(ro) == 1:
                t_first = time.time()
        elif g is not None and g.get("error", {}).get("code") == "busy":
            busy += 1
            k.close()
        else:
            fail("unexpected greeting %r" % g)
    check(len(ro) == 32 and busy == 8, "40 read-only clients, max_clients 32: %d served, %d busy"
          % (len(ro), busy))
    # refusals: logged at the first, then counted (8 so far, 100 more now)
    for i in range(100):
        k = Conn(dm.sock_ro)
        g = k.greet()
        if g is None or g.get("error", {}).get("code") != "busy":
            fail("connection %d to the full read-only pool: %r" % (i, g))
        k.close()
    print("ok: 100 more read-only connections answered busy")
    tr = threading.Thread(target=trickle, args=(ro, 2.0))
    tr.start()
    for i in range(5):
        t0 = time.time()
        a = Conn(dm.sock)
        g = a.greet()
        if g is None or "hello" not in g:
            fail("admin connection %d while the read-only pool is full: %r" % (i, g))
        st = a.data("status")
        dt = time.time() - t0
        check(st["cp"]["version"] and dt < 1.0,
              "admin status answers at once with 32 read-only clients trickling (%.3f s)" % dt)
        a.close()
        time.sleep(0.3)
    # admin clients up to their own pool, still with the read-only pool full
    adm = [Conn(dm.sock) for _ in range(32)]
    check(all("hello" in (k.greet() or {}) for k in adm), "32 admin clients beside 32 read-only ones")
    for k in adm:
        k.close()
    time.sleep(0.3)   # the server sees the closes on its next turn

    # the request deadline: the tricklers go after 5 s however often they send a byte;
    # a client sending whole requests (status every 2 s) stays
    slow = dm.conn()
    slow_ok = 0
    while time.time() - t_first < 4.0:
        slow_ok += "cp" in slow.data("status")
        time.sleep(0.5)
    alive = sum(not k.closed(0.01) for k in ro)
    check(alive == 32, "4 s after their first byte the 32 tricklers are still connected (%d)" % alive)
    last = []
    for k in ro:
        k.s.settimeout(max(0.1, t_first + 9.0 - time.time()))
        try:
            last.append(k.line())
        except OSError:
            last.append(b"(no close)")
    dt = time.time() - t_first
    codes, msgs = set(), set()
    for l in last:
        try:
            codes.add(json.loads(l)["error"]["code"])
            msgs.add(json.loads(l)["error"]["msg"])
        except (TypeError, ValueError, KeyError):
            codes.add(repr(l))
    # the text names the deadline the server enforces (CP_REQUEST_DEADLINE_NS: 5 s)
    check(msgs == {"request line not completed within 5 s of its first byte; closing"},
          "the timeout says the deadline: %s" % msgs)
    for _ in range(50):     # the log line of the last close may still be on its way
        n_closed = dm.logtext().count("closed: request deadline (5 s) passed")
        if n_closed >= 32:
            break
        time.sleep(0.1)
    check(n_closed >= 32, "the log gives each close the deadline as its reason (%d)" % n_closed)
    check(codes == {"timeout"} and all(k.closed(1.0) for k in ro),
          "32 trickling clients got timeout and were closed %.1f s after their first byte "
          "(idle_timeout_s 300): %s" % (dt, codes))
    for i in range(3):
        slow_ok += "cp" in slow.data("status")
        time.sleep(2.0)
    check(slow_ok >= 4 and not slow.closed(0.01),
          "a client sending a whole request every 2 s stays (%d answers)" % slow_ok)
    slow.close()
    again = Conn(dm.sock_ro)
    check("hello" in (again.greet() or {}), "the read-only pool is free again")
    again.close()
    while time.time() - t_first < 11.0:
        time.sleep(0.2)
    log = dm.logtext().splitlines()
    first = [l for l in log if "refusing connection" in l]
    summary = [l for l in log if "refused " in l and " more connection(s) on " + dm.sock_ro in l]
    check(len(first) == 1 and dm.sock_ro in first[0],
          "108 refused connections: one 'refusing' log line (%d)" % len(first))
    check(len(summary) == 1 and "refused 107 more connection(s)" in summary[0],
          "then one line with the count after 10 s: %s" % summary)

    # per-request budgets: the size cap, then a long list produced in steps
    fake_dp(fake_bin, dm.xpath, 5, os.path.join(d, "exp.json"),
            extra=["--sources", "20000", "--per-epoch", "10000", "--src-capacity", "16384",
                   "--epochs", "12", "--interval-ms", "0", "--wait-drained", "60"])
    a = dm.conn()
    n_src = a.data("status")["sources"]
    for args, argv in (({"n": 100000000}, None), ({"n": 1000001}, None), (None, ["100000000"])):
        m = a.call("sources.top", args, argv)[-1]
        check(m.get("ok") is False and m["error"]["code"] == "bad_args" and "0..1000000" in m["error"]["msg"],
              "sources.top %s: bad_args naming the range (%s)" % (args or argv, m.get("error")))
    for cmd in ("resip.top", "resip.ports"):
        m = a.call(cmd, None, ["100000000"])[-1]
        check(m.get("ok") is False and m["error"]["code"] == "bad_args" and "0..1000000" in m["error"]["msg"],
              "%s 100000000: bad_args naming the same range (%s)" % (cmd, m.get("error")))
    full = a.call("sources.top", {"n": 1000000}, rid=9)
    rows = sum((m["chunk"] for m in full[:-1]), [])
    size = sum(len(json.dumps(m)) + 1 for m in full)
    check(len(rows) == n_src and n_src > 15000 and full[-1]["chunks"] == len(full) - 1,
          "sources.top 1000000: all %d sources, %d chunks, %.1f MB" % (n_src, len(full) - 1, size / 1e6))
    readers = [dm.conn(ro=True) for _ in range(4)]
    for k in readers:
        k.send_raw(b'{"id":3,"cmd":"sources.top","args":{"n":0}}\n')
    time.sleep(1.0)
    ctl = a.data("status").get("ctl", {})
    check(ctl.get("replies_in_steps") == 4 and ctl.get("backlog_bytes", 1 << 40) < 2 * 1024 * 1024
          and 4 * size > 12 * 1024 * 1024,
          "4 unread lists of %.1f MB each: the server holds %s bytes for them, %s replies in steps"
          % (size / 1e6, ctl.get("backlog_bytes"), ctl.get("replies_in_steps")))
    fifth = dm.conn(ro=True)
    m = fifth.call("sources.top", {"n": 0}, rid=6)[-1]
    check(m.get("ok") is False and m["error"]["code"] == "busy",
          "a 5th long list on the read-only socket meanwhile: busy (%s)" % m.get("error"))
    adm_list = dm.conn()
    check(adm_list.data("sources.top", {"n": 0}) == rows,
          "the admin socket still gets its list (its own budget)")
    adm_list.close()
    for k in readers:
        got = k.reply()
        r2 = sum((m["chunk"] for m in got[:-1]), [])
        if r2 != rows or got[-1].get("chunks") != len(got) - 1 or got[-1].get("id") != 3:
            fail("a list produced in steps differs: %d rows, end %r" % (len(r2), got[-1]))
    print("ok: each of the 4 then read the whole list, identical to the one read at once")
    check(len(fifth.data("sources.top", {"n": 0})) == n_src, "once they ended, the 5th gets it")
    fifth.close()
    quit_ = dm.conn(ro=True)
    quit_.send_raw(b'{"id":5,"cmd":"sources.top","args":{"n":0}}\n')
    quit_.line()
    quit_.close()
    time.sleep(0.3)
    ctl = a.data("status")["ctl"]
    check(ctl["replies_in_steps"] == 0 and dm.alive(),
          "a client gone mid-list: its list is dropped, the server goes on")
    for k in readers:
        k.close()
    a.close()
    # one more list left unread at the end: shutting down frees it (ASan builds check)
    left = dm.conn(ro=True)
    left.send_raw(b'{"id":7,"cmd":"sources.top","args":{"n":0}}\n')
    left.line()
    check(dm.stop() == 0, "SIGTERM with a list in steps unsent: clean exit")
    left.close()
    stop.set()
    tr.join()
    for k in ro:
        k.close()
finally:
    stop.set()
    cleanup(dm, d)

# idle while a list is sent: taking it slowly is not idle, never taking it is
d = tmpdir("limits-idle")
dm = Daemon(cp_bin, d, idle_timeout_s=2)
dm.start()
try:
    fake_dp(fake_bin, dm.xpath, 6, os.path.join(d, "exp.json"),
            extra=["--sources", "3000", "--per-epoch", "2000", "--src-capacity", "4096",
                   "--epochs", "12", "--interval-ms", "0", "--wait-drained", "60"])
    a = dm.conn()
    n_src = a.data("status")["sources"]
    never, taker = dm.conn(ro=True), dm.conn(ro=True)
    for k in (never, taker):
        k.send_raw(b'{"id":8,"cmd":"sources.top","args":{"n":0}}\n')
    t0 = time.time()
    got, checked = b"", False
    while b'"end":true' not in got:
        d_ = taker.s.recv(32768)
        if not d_:
            fail("the slow taker was closed after %.1f s (%d bytes)" % (time.time() - t0, len(got)))
        got += d_
        ctl = a.data("status")["ctl"]   # (a status every turn keeps this one busy)
        if not checked and time.time() - t0 > 3.0:
            check(ctl["clients"]["read_only"] == 1 and b'"end":true' not in got,
                  "3 s on (idle_timeout_s 2): the client that never reads its list is closed, "
                  "the one taking it slowly (%d bytes so far) is not (%s)"
                  % (len(got), ctl["clients"]))
            checked = True
        time.sleep(0.3)
    lines = [json.loads(l) for l in got.split(b"\n") if l]
    rows = sum((m.get("chunk", []) for m in lines), [])
    check(checked and len(rows) == n_src and time.time() - t0 > 3.0,
          "the slow taker got all %d rows in %.1f s" % (len(rows), time.time() - t0))
    never.s.settimeout(5)
    left = b""
    while True:
        d_ = never.s.recv(65536)
        if not d_:
            break
        left += d_
    check(b'"end":true' not in left, "the one that never read finds its list cut off, then EOF")
    a.close()
    check(dm.stop() == 0, "SIGTERM: clean exit")
finally:
    cleanup(dm, d)
print("PASS")
