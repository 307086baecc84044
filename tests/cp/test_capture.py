#!/usr/bin/python3
"""capture.start/stop/status never make the control plane wait (control/capture.h).

usage: test_capture.py OBSCURA_CP FAKE_DP

fake_dp answers the command mailbox as a dataplane built before capture would: each
request takes 1.5 s and a capture command is "unknown command" (-ENOSYS).
1. without a dataplane: what the control plane checks itself is answered first (a filter
   that does not compile, a relative path, a missing directory, an existing file, an
   unknown option or sensor: bad_args), then unavailable; status says idle;
2. with fake_dp: capture.start's reply is held until the dataplane answered (the refusal
   comes back as unavailable with its message); while it is held another connection is
   served (status, capture.status with pending true) and a second start is busy;
3. a start whose dataplane is replaced before it answers is answered unavailable
   ("restarted before answering").
"""
import atexit
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cplib import Daemon, check, cleanup, fail, fake_dp, tmpdir  # noqa: E402

cp_bin, fake_bin = sys.argv[1], sys.argv[2]
d = tmpdir("capture")
dm = Daemon(cp_bin, d)
atexit.register(cleanup, dm, d)
dm.start()
c = dm.conn()
out = os.path.join(d, "cap.pcapng")


def error(cmd, argv=None, conn=None):
    last = (conn or c).call(cmd, argv=argv)[-1]
    check(not last["ok"], "%s %s fails" % (cmd, argv))
    return last["error"]


# ---- 1: the control plane's own checks, then no dataplane ----
open(os.path.join(d, "exists.pcapng"), "w").close()
for argv, code, text in (
        (["--filter", "tcp and and", out], "bad_args", "does not compile"),
        (["rel.pcapng"], "bad_args", "must be absolute"),
        ([os.path.join(d, "nodir", "x.pcapng")], "bad_args", "does not exist"),
        ([os.path.join(d, "exists.pcapng")], "bad_args", "exists"),
        (["--max-packets", "-3", out], "bad_args", "not a number"),
        (["--snaplen", "8", out], "bad_args", "at least 14"),
        (["--bogus", "1", out], "bad_args", "unknown option"),
        (["--sensor", "gamma", out], "bad_args", "no sensor 'gamma'"),
        (["--filter"], "bad_args", "needs a value"),
        ([out, out + "2"], "bad_args", "one file only"),
        ([], "bad_args", "which file"),
        ([out], "unavailable", "no running dataplane")):
    e = error("capture.start", argv)
    check(e["code"] == code and text in e["msg"],
          "capture start %s: %s (%s)" % (argv, e["code"], e["msg"]))
check(not os.path.exists(out), "nothing refused left a file")

# ---- 2: the held reply, the server serving meanwhile ----
fake = fake_dp(fake_bin, dm.xpath, 3, os.path.join(d, "exp.json"), wait=False,
               extra=["--epochs", "3", "--serve-s", "60", "--cmd-ms", "1500"])
deadline = time.time() + 20
while c.data("status")["dp"].get("state") != "running":
    if time.time() > deadline:
        fail("the control plane did not attach to fake_dp")
    time.sleep(0.05)
st = c.data("capture.status")
check(st["state"] == "idle" and st["pending"] is False, "capture.status before any: idle")

t0 = time.time()
c.send_raw(json.dumps({"id": 7, "cmd": "capture.start",
                       "argv": ["--filter", "udp", "--max-packets", "10", out]}).encode() + b"\n")
c2 = dm.conn()
served = 0
while True:
    st = c2.data("capture.status")
    c2.data("status")
    if not st["pending"]:
        break
    served += 1
    if served == 1:
        e = error("capture.start", [out + ".second"], conn=c2)
        check(e["code"] == "busy", "a second start while one is posted: busy (%s)" % e["msg"])
        check(st["request"]["filter"] == "udp" and st["request"]["max_packets"] == 10,
              "capture.status shows the request posted: %s" % st["request"])
    time.sleep(0.05)
check(served >= 5, "another connection was served %d times while the start was held" % served)
last = c.reply()[-1]
held = time.time() - t0
check(last["id"] == 7 and not last["ok"] and last["error"]["code"] == "unavailable"
      and "unknown command 2" in last["error"]["msg"],
      "the held reply is the dataplane's answer after %.1f s: %s" % (held, last["error"]))
check(held >= 1.0, "the reply waited for the dataplane (%.1f s)" % held)
st = c2.data("capture.status")
check(st["last_refusal"] == "unknown command 2" and st["state"] == "idle",
      "capture.status: the refusal kept, still idle")
e = error("capture.stop", conn=c2)
check(e["code"] == "bad_args" and "no capture running" in e["msg"], "stop: none running")

# ---- 3: a dataplane replaced before it answers ----
c.send_raw(json.dumps({"id": 8, "cmd": "capture.start", "argv": [out]}).encode() + b"\n")
time.sleep(0.3)
fake.kill()
fake.wait()
fake = fake_dp(fake_bin, dm.xpath, 4, os.path.join(d, "exp2.json"), wait=False,
               extra=["--epochs", "2", "--serve-s", "10", "--boot-id", "b0070bad"])
last = c.reply()[-1]
check(last["id"] == 8 and not last["ok"] and last["error"]["code"] == "unavailable"
      and "restarted" in last["error"]["msg"],
      "a start its dataplane never answered: %s" % last["error"])
fake.wait()
c.close()
c2.close()
check(dm.stop() == 0, "SIGTERM: clean exit")
print("ok: test_capture")
