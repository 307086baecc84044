#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
fake_cp.py SOCKET [--proto N] [--greeting normal|busy|garbage|none]

A tiny stand-in for obscura-cp that speaks docs/ctl-v1.md, for testing obscuractl
without the daemons.  Besides the documented commands it has misbehaving ones, so the
client's handling of a broken server is tested too:

  help, status, stats, sources, sources.top [n] (streamed, 2 per chunk), echo [...]
  (returns id/cmd/argv/args it got), empty.stream (zero chunks), fail (bad_args),
  bad.json (a non-JSON line), bad.id (reply for another id), bad.chunk (chunk not a
  list), bad.nul (NUL inside a line), cut (closes mid-reply), snapshot.now (admin).
stdlib only; run with /usr/bin/python3.  Exits on SIGTERM.
"""
import json
import os
import socket
import sys
import threading

COMMANDS = [
    {"cmd": "help", "args": [], "access": "read", "help": "list commands"},
    {"cmd": "status", "args": [], "access": "read", "help": "daemon status"},
    {"cmd": "stats", "args": [], "access": "read", "help": "capture counters"},
    {"cmd": "sources", "args": ["what"], "access": "read", "help": "sources overview"},
    {"cmd": "sources.top", "args": ["n"], "access": "read", "help": "top sources by packets"},
    {"cmd": "echo", "args": ["a", "b"], "access": "read", "help": "echo the request"},
    {"cmd": "empty.stream", "args": [], "access": "read", "help": "zero chunks"},
    {"cmd": "fail", "args": [], "access": "read", "help": "always bad_args"},
    {"cmd": "bad.json", "args": [], "access": "read", "help": "garbage line"},
    {"cmd": "bad.id", "args": [], "access": "read", "help": "wrong id"},
    {"cmd": "bad.chunk", "args": [], "access": "read", "help": "chunk not a list"},
    {"cmd": "cut", "args": [], "access": "read", "help": "close mid-reply"},
    {"cmd": "bad.nul", "args": [], "access": "read", "help": "valid JSON, then a NUL and junk"},
    {"cmd": "snapshot.now", "args": [], "access": "admin", "help": "write a snapshot"},
]

SOURCES = [
    {"addr": "192.0.2.%d" % i, "packets": 1000 - i * 37, "first_ns": 1704067200000000000 + i,
     "last_ns": 1704153600123456789, "sensors": ["east", "west"] if i % 2 else ["east"]}
    for i in range(1, 8)
]


def send(conn, obj):
    conn.sendall((json.dumps(obj) + "\n").encode())


def handle(conn, opts):
    if opts["greeting"] == "busy":
        send(conn, {"id": None, "ok": False, "error": {"code": "busy", "msg": "too many clients"},
                    "end": True})
        return
    if opts["greeting"] == "garbage":
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\n")
        return
    if opts["greeting"] != "none":
        send(conn, {"hello": {"proto": opts["proto"], "server": "fake-cp", "version": "0.0.1",
                              "access": "admin", "max_request": 65536}})
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                req = json.loads(line)
            except ValueError:
                send(conn, {"id": None, "ok": False, "error": {"code": "bad_json", "msg": "bad"},
                            "end": True})
                continue
            rid, cmd = req.get("id"), req.get("cmd")
            argv = req.get("argv", [])
            if cmd == "help":
                send(conn, {"id": rid, "ok": True, "data": COMMANDS, "end": True})
            elif cmd == "status":
                send(conn, {"id": rid, "ok": True, "data": {
                    "server": "fake-cp", "uptime_s": 12, "boot_wall_ns": 1704067200000000000,
                    "dataplane": {"state": "running", "workers": 2, "lag_ms": 3.5},
                    "workers": [{"worker": 0, "packets": 5, "state": "ok"},
                                {"worker": 1, "packets": 12345, "state": "ok"}]}, "end": True})
            elif cmd == "stats":
                send(conn, {"id": rid, "ok": True, "data": {
                    "rx_packets": 100, "tel_packets": 90,
                    "proto": {"tcp": 80, "udp": 10, "icmp": 0, "other": 0},
                    "drops": {"trunc_l2": 1, "not_telescope": 9}}, "end": True})
            elif cmd == "sources":
                send(conn, {"id": rid, "ok": True, "data": {"which": "sources", "argv": argv},
                            "end": True})
            elif cmd == "sources.top":
                n = int(argv[0]) if argv else 10
                rows = SOURCES[:n]
                chunks = [rows[i:i + 2] for i in range(0, len(rows), 2)]
                for c in chunks:
                    send(conn, {"id": rid, "ok": True, "chunk": c})
                send(conn, {"id": rid, "ok": True, "end": True, "chunks": len(chunks)})
            elif cmd == "echo":
                send(conn, {"id": rid, "ok": True, "data": {"id": rid, "cmd": cmd, "argv": argv,
                                                            "args": req.get("args")}, "end": True})
            elif cmd == "empty.stream":
                send(conn, {"id": rid, "ok": True, "end": True, "chunks": 0})
            elif cmd == "fail":
                send(conn, {"id": rid, "ok": False, "error": {"code": "bad_args",
                                                              "msg": "n must be a number"},
                            "end": True})
            elif cmd == "bad.json":
                conn.sendall(b'{"id": 2, "ok": tru\n')
            elif cmd == "bad.id":
                send(conn, {"id": 999, "ok": True, "data": 1, "end": True})
            elif cmd == "bad.chunk":
                send(conn, {"id": rid, "ok": True, "chunk": {"not": "a list"}})
            elif cmd == "bad.nul":
                conn.sendall(('{"id": %d, "ok": true, "data": 1, "end": true}' % rid).encode() + b"\0junk\n")
            elif cmd == "cut":
                send(conn, {"id": rid, "ok": True, "chunk": [1, 2]})
                return
            elif cmd == "snapshot.now":
                send(conn, {"id": rid, "ok": True, "data": {"written": "/tmp/x.snap"}, "end": True})
            else:
                send(conn, {"id": rid, "ok": False, "error": {
                    "code": "unknown_command", "msg": "no command '%s'; try 'help'" % cmd},
                    "end": True})


def main():
    path = sys.argv[1]
    opts = {"proto": 1, "greeting": "normal"}
    args = sys.argv[2:]
    while args:
        if args[0] == "--proto":
            opts["proto"] = int(args[1])
        elif args[0] == "--greeting":
            opts["greeting"] = args[1]
        args = args[2:]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)

    def serve(conn):
        try:
            handle(conn, opts)
        except OSError:
            pass
        finally:
            conn.close()

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
