#!/usr/bin/python3
"""ctl v1 limits of obscura-cp (docs/ctl-v1.md "Limits"): nobody can starve the admin socket.

usage: test_ctl_limits.py OBSCURA_CP FAKE_DP

40 read-only clients trickling bytes while admin `status` answers at once (each socket
has its own pool).
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Conn, Daemon, check, cleanup, fail, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
d = tmpdir("limits")
dm = Daemon(cp_bin, d, max_clients=32, idle_timeout_s=300)
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
    # a flood of read-only clients: the read-only pool fills, the admin one stays free
    ro, busy = [], 0
    for i in range(40):
        k = Conn(dm.sock_ro)
        g = k.greet()
        if g is not None and "hello" in g:
            ro.append(k)
            k.send_raw(b'{"id":1,')
        elif g is not None and g.get("error", {}).get("code") == "busy":
            busy += 1
            k.close()
        else:
            fail("unexpected greeting %r" % g)
    check(len(ro) == 32 and busy == 8, "40 read-only clients, max_clients 32: %d served, %d busy"
          % (len(ro), busy))
    tr = threading.Thread(target=trickle, args=(ro, 0.5))
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
    stop.set()
    tr.join()
    for k in ro:
        k.close()
finally:
    stop.set()
    cleanup(dm, d)
print("PASS")
