#!/usr/bin/python3
"""reload_wait — a table reload and its outcome, for the e2e scripts (lib.sh reload_wait).

usage: reload_wait.py OBSCURACTL [OPTIONS...] -- WORDS...   (e.g. -- tables reload resip)

`tables reload` and `rules reload` answer at once with the requests they posted
(control/reload.h); the dataplane's answer comes later.  This runs the reload with
--json, then polls `tables status` until every request it posted has an outcome, and
prints one line per request: "TABLE: loaded: MESSAGE", "TABLE: refused: REASON" or
"TABLE: unanswered: REASON".  Exit status 0 when every table loaded; 1 when one was
refused or unanswered, or when the reload itself failed (its error is printed: no running
dataplane, a rules file the control plane's copy refused, ...); 2 on a timeout (60 s).
"""
import json
import subprocess
import sys
import time

argv = sys.argv[1:]
if "--" not in argv:
    sys.exit("usage: reload_wait.py OBSCURACTL [OPTIONS...] -- WORDS...")
cut = argv.index("--")
ctl, words = argv[:cut], argv[cut + 1:]


def run(*w):
    return subprocess.run(ctl + ["--json"] + list(w), capture_output=True, text=True)


p = run(*words)
if p.returncode != 0:
    sys.stdout.write(p.stdout + p.stderr)
    sys.exit(1)
data = json.loads(p.stdout)
posted = data["requests"] if "requests" in data else [data["dataplane"]]
want = {q["id"]: q["table"] for q in posted}
done = {}
deadline = time.time() + 60
while len(done) < len(want):
    if time.time() > deadline:
        print("no answer within 60 s for request(s) %s" % sorted(set(want) - set(done)))
        sys.exit(2)
    p = run("tables", "status")
    if p.returncode != 0:
        sys.stdout.write(p.stdout + p.stderr)
        sys.exit(1)
    for row in json.loads(p.stdout):
        for q in row["requests"]:
            if q["id"] in want and q["state"] in ("loaded", "refused", "unanswered"):
                done[q["id"]] = q
    time.sleep(0.05)
for rid in sorted(done):
    q = done[rid]
    print("%s: %s: %s" % (q["table"], q["state"], q.get("result", q.get("reason", ""))))
sys.exit(0 if all(q["state"] == "loaded" for q in done.values()) else 1)
