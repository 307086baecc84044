#!/usr/bin/python3
"""ctl v1 protocol test for obscura-cp (docs/ctl-v1.md).

usage: test_protocol.py OBSCURA_CP FAKE_DP

Greeting, help, unknown command, malformed and non-object JSON, argument checking,
oversize request (too_large then close), the read-only socket refusing snapshot.now with
denied while stats works, 40 clients at once against max_clients 32 (busy), idle
timeout, a streamed sources.top ending with the end marker, 1000 random garbage lines —
and the daemon still answers status after all of it.
"""
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Conn, Daemon, check, cleanup, fail, fake_dp, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
d = tmpdir("proto")
dm = Daemon(cp_bin, d, max_request=1024, idle_timeout_s=2, max_clients=32)
dm.start()
try:
    # data for the streamed reply: 1500 sources so sources.top spans several chunks
    fake_dp(fake_bin, dm.xpath, 7, os.path.join(d, "exp.json"),
            extra=["--sources", "1500", "--per-epoch", "400", "--epochs", "10",
                   "--interval-ms", "0", "--wait-drained", "30"])

    c = dm.conn()
    h = c.hello["hello"]
    check(h["proto"] == 1 and h["server"] == "obscura-cp" and h["access"] == "admin"
          and h["max_request"] == 1024, "greeting: proto 1, admin access, max_request")

    lines = c.call("help", rid=11)
    check(len(lines) == 1 and lines[0]["id"] == 11 and lines[0]["ok"] and lines[0]["end"] is True,
          "help: one line, id echoed, end marker")
    cmds = {x["cmd"]: x for x in lines[0]["data"]}
    check({"help", "status", "stats", "sources.top", "config.show", "snapshot.now"} <= set(cmds),
          "help lists the commands")
    check(cmds["snapshot.now"]["access"] == "admin" and cmds["stats"]["access"] == "read",
          "help shows access levels")
    check(cmds["sources.top"]["args"] == ["n", "tool", "OPTIONS..."], "help shows positional argument names")
    # free option words (--from X ...) are one OPTIONS... entry, never placeholder names
    import re
    leaked = [(n, a) for n, x in cmds.items() for a in x["args"] if re.fullmatch(r"w\d+", a)]
    check(not leaked, "help shows no placeholder argument names: %s" % leaked)
    check(all(isinstance(a.get("words"), bool) for x in cmds.values() for a in x["arg_spec"]),
          "every arg_spec entry says whether it is an option-word slot")
    if "resip.top" in cmds:
        check(cmds["resip.top"]["args"] == ["OPTIONS..."], "option words collapse to OPTIONS...")

    def err(lines, code):
        m = lines[-1]
        return len(lines) == 1 and m.get("ok") is False and m["error"]["code"] == code and m["end"] is True

    check(err(c.call("no.such", rid=3), "unknown_command"), "unknown command -> unknown_command")
    c.send_raw(b'{"id":4,"cmd":\n')
    check(err(c.reply(), "bad_json"), "malformed JSON -> bad_json")
    for raw in (b"[1,2,3]\n", b'"status"\n', b"42\n", b"null\n"):
        c.send_raw(raw)
        check(err(c.reply(), "bad_request"), "non-object JSON %r -> bad_request" % raw)
    c.send_raw(b'{"id":5}\n')
    r = c.reply()
    check(err(r, "bad_request") and r[0]["id"] == 5, "missing cmd -> bad_request, id echoed")
    c.send_raw(b'{"id":"x","cmd":"bogus"}\n')
    check(c.reply()[0]["id"] is None, "non-integer id echoed as null")
    check(err(c.call("sources.top", argv=["ten"]), "bad_args"), "non-integer argv -> bad_args")
    check(err(c.call("sources.top", argv=["1", "2"]), "bad_args"), "too many argv -> bad_args")
    check(err(c.call("sources.top", args={"m": 1}), "bad_args"), "unknown argument -> bad_args")
    check(err(c.call("sources.top", args={"n": "5"}), "bad_args"), "string for int arg -> bad_args")
    check(err(c.call("sources.top", args={"n": -3}), "bad_args"), "out of range -> bad_args")
    check(err(c.call("status", args=[1]), "bad_args"), "args not an object -> bad_args")
    check(err(c.call("status", args={"x": 1}), "bad_args"), "argument to a command taking none -> bad_args")
    check(c.data("sources.top", argv=["3"]) and len(c.data("sources.top", argv=["3"])) == 3,
          "argv mapped onto the declared argument")

    cfg = c.data("config.show")
    check(cfg["config"]["control"]["max_request"] == 1024 and cfg["config"]["exchange"]["path"] == dm.xpath,
          "config.show: the running normalised config as JSON")

    # streamed reply
    lines = c.call("sources.top", {"n": 1000}, rid=21)
    chunks = [m for m in lines if "chunk" in m]
    last = lines[-1]
    rows = sum((m["chunk"] for m in chunks), [])
    check(len(chunks) >= 2 and all(m["id"] == 21 and m["ok"] for m in chunks),
          "sources.top 1000: %d chunk lines" % len(chunks))
    check(last["end"] is True and last["ok"] and last["chunks"] == len(chunks) and "chunk" not in last,
          "streamed reply ends with the end marker and the chunk count")
    check(len(rows) == 1000 and rows[0]["packets"] >= rows[-1]["packets"], "1000 rows, by packets")
    check(rows[0]["first_seen"].endswith("Z") and len(rows[0]["first_seen"]) == 30,
          "first_seen is ISO-8601 UTC with ns: %s" % rows[0]["first_seen"])

    # read-only socket
    ro = dm.conn(ro=True)
    check(ro.hello["hello"]["access"] == "read", "read-only greeting says access read")
    check(err(ro.call("snapshot.now"), "denied"), "read-only socket: snapshot.now -> denied")
    check(ro.data("stats")["epochs"] == 20, "read-only socket: stats works")
    check(c.data("snapshot.now")["path"].endswith("/snapshot"), "admin socket: snapshot.now works")
    ro.close()

    # oversize request: too_large, then the server closes
    big = Conn(dm.sock)
    big.greet()
    big.send_raw(b'{"id":1,"cmd":"status","pad":"' + b"x" * 3000 + b'"}\n')
    r = big.reply()
    check(err(r, "too_large"), "oversize request -> too_large")
    check(big.closed(), "connection closed after too_large")
    big.close()
    # exactly at the limit is fine
    at = Conn(dm.sock)
    at.greet()
    pad = 1024 - len(b'{"id":1,"cmd":"help","x":""}')
    at.send_raw(b'{"id":1,"cmd":"help","x":"' + b"y" * pad + b'"}\n')
    check(err(at.reply(), "bad_args") is False, "a request of exactly max_request bytes is accepted")
    at.close()

    # many clients: max_clients 32, c is one of them
    conns, hello, busy = [], 0, 0
    for i in range(40):
        k = Conn(dm.sock)
        g = k.greet()
        if g is not None and "hello" in g:
            hello += 1
            conns.append(k)
        elif g is not None and g.get("error", {}).get("code") == "busy":
            busy += 1
            check(g["end"] is True, "busy line carries the end marker") if busy == 1 else None
            if not k.closed():
                fail("busy connection not closed")
            k.close()
        else:
            fail("unexpected greeting %r" % g)
    check(hello == 31 and busy == 9, "40 clients with max_clients 32: %d served, %d busy" % (hello, busy))
    for k in conns:
        if k.data("status")["cp"]["version"] != "0.1.0":
            fail("status on a concurrent client")
    print("ok: every admitted client is served")
    for k in conns:
        k.close()

    # idle timeout (2 s)
    idle = dm.conn()
    t0 = time.time()
    check(idle.closed(6.0) and time.time() - t0 >= 1.5, "idle connection closed after idle_timeout_s")
    idle.close()

    # pipelined: 20000 requests in one write, then half-close; every one answered.
    # A request whose reply is one short line (help's grows with every command and made
    # this a test of reply volume under ASan, not of pipelining).
    pl = dm.conn()
    import socket as _s
    import threading
    reqs = b"".join(b'{"id":%d,"cmd":"sources.topx"}\n' % i for i in range(20000))
    t = threading.Thread(target=lambda: (pl.s.sendall(reqs), pl.s.shutdown(_s.SHUT_WR)))
    t.start()
    ids = []
    while True:
        l = pl.line()
        if l is None:
            break
        m = json.loads(l)
        ids.append(m["id"] if m.get("end") is True and m.get("error", {}).get("code") == "unknown_command" else None)
    t.join()
    check(ids == list(range(20000)), "20000 pipelined requests then EOF: all answered in order, then closed")
    pl.close()

    # garbage
    rnd = random.Random(1234)
    g = dm.conn()
    n_err = 0
    for i in range(1000):
        n = rnd.randint(1, 200)
        line = bytes(rnd.choice(range(256)) for _ in range(n)).replace(b"\n", b" ")
        g.send_raw(line + b"\n")
        r = g.reply()
        if len(r) == 1 and r[0]["ok"] is False and r[0]["error"]["code"] in ("bad_json", "bad_request"):
            n_err += 1
    check(n_err == 1000, "1000 random garbage lines: 1000 error replies")
    # garbage without a newline and a half-open client
    g.send_raw(b"\x00\xff{{{")
    g.close()
    h2 = Conn(dm.sock)
    h2.greet()
    h2.s.close()
    time.sleep(0.2)

    c.close()
    k = dm.conn()
    st = k.data("status")
    check(dm.alive() and st["dp"]["attached"] and st["epochs_drained"] == 20,
          "daemon still answers status after all of it")
    k.close()
    rc = dm.stop()
    check(rc == 0, "SIGTERM: clean exit")
    log = dm.logtext()
    check("pid" in log and "uid" in log and "connection #" in log, "peer credentials logged")
finally:
    cleanup(dm, d)
print("PASS")
