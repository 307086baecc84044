#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""life_pcap.py OUT_DIR [--sources N] [--seed K] — traffic with known lifetimes for
tests/e2e/life_truth.sh (stdlib only).

Writes OUT_DIR/traffic.pcap (nanosecond pcap, one Ethernet/IPv4 packet per event, in time
order) and OUT_DIR/events.jsonl (the same events in tests/reference/life_ref.py's input
format, with the event type ids of dataplane/events.h), plus OUT_DIR/expect.json (counters
the dataplane must show: payload packets, rule matches, excluded packets).

Sensors: five, sensor i = 198.18.i.0/24 (names s0..s4).  Event kinds and their type ids:
  syn/P      TCP SYN to port P            -> 0x80000000 | 1 << 16 | P   (tcp-syn/P, Scan)
  udp/P      UDP, no payload, to port P   -> 0x80000000 | 5 << 16 | P   (udp/P, Scan)
  echo       ICMP echo request            -> 0x80000000 | 6 << 16       (icmp-echo, Scan)
  sip        UDP/5060 "OPTIONS sip:"      -> sid 1000001 (Scan)          conf/rules/obscura.rules
  sqli       TCP/80 "UNION SELECT"        -> sid 1000101 (SQL Injection)
  xss        TCP/80 "<script"             -> sid 1000201 (XSS)
  junk/P     UDP with a payload no rule matches -> udp/P (Scan)
Boundary sources (10.0.0.x) have observation periods of exactly / just under 60 s, 24 h
and 30 d and a gap of exactly 24 h.  Sources in 192.0.2.0/24 are in the exclusion list:
their packets are in the pcap but not in events.jsonl.
"""
import argparse
import json
import os
import random
import struct

NS = 10**9
H = 3600 * NS
DAY = 86400 * NS
T0 = 1700000000 * NS
CLS = 0x80000000
CATS = {"sip": 0, "sqli": 2, "xss": 3}
SIDS = {"sip": 1000001, "sqli": 1000101, "xss": 1000201}
PAYLOAD = {
    "sip": b"OPTIONS sip:100@198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060\r\n"
           b"Content-Length: 0\r\n\r\n",
    "sqli": b"GET /item.php?id=1 UNION SELECT password FROM users HTTP/1.1\r\nHost: x\r\n\r\n",
    "xss": b"GET /?q=<script>alert(1)</script> HTTP/1.1\r\nHost: x\r\n\r\n",
    "junk": b"\x17\x03\x03\x00\x10" + bytes(range(16)),
}


def ip2i(s):
    a = [int(x) for x in s.split(".")]
    return a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def frame(src, dst, kind, port, sport):
    if kind in ("syn", "sqli", "xss"):
        payload = PAYLOAD.get(kind, b"")
        dport = port if kind == "syn" else 80
        flags = 0x02 if kind == "syn" else 0x18          # SYN, or PSH|ACK with data
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 12345, 0 if kind == "syn" else 1,
                         5 << 4, flags, 65535, 0, 0) + payload
        proto = 6
    elif kind in ("udp", "sip", "junk"):
        payload = PAYLOAD.get(kind, b"")
        dport = 5060 if kind == "sip" else port
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        proto = 17
    else:   # echo
        l4 = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"
        l4 = l4[:2] + struct.pack("!H", csum(l4)) + l4[4:]
        proto = 1
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00"
    f = eth + ip + l4
    return f + b"\0" * max(0, 60 - len(f))


def type_of(kind, port):
    if kind in SIDS:
        return SIDS[kind], CATS[kind]
    if kind == "syn":
        return CLS | 1 << 16 | port, 0
    if kind in ("udp", "junk"):
        return CLS | 5 << 16 | port, 0
    return CLS | 6 << 16, 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--sources", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    ev = []   # (t, src, sensor, kind, port)

    def add(src, t, sensor, kind, port=0):
        ev.append((t, src, sensor, kind, port))
    # boundaries by construction
    add("10.0.0.1", T0, 0, "syn", 23)
    add("10.0.0.2", T0, 0, "syn", 23); add("10.0.0.2", T0 + 60 * NS - 1, 0, "syn", 23)
    add("10.0.0.3", T0, 0, "syn", 23); add("10.0.0.3", T0 + 60 * NS, 1, "syn", 2323)
    add("10.0.0.4", T0, 0, "syn", 23); add("10.0.0.4", T0 + DAY, 0, "sip")        # gap = 24 h
    add("10.0.0.5", T0, 0, "syn", 23); add("10.0.0.5", T0 + DAY - 1, 2, "sqli")   # 24 h - 1 ns
    for k in range(31):                                                            # 30 d, daily
        add("10.0.0.6", T0 + k * DAY, k % 5, "syn" if k % 2 else "xss", 80)
    for k in range(60):                                                            # 30 d - 1 ns
        add("10.0.0.7", T0 + k * 12 * H, 0, "udp", 53)
    add("10.0.0.7", T0 + 30 * DAY - 1, 4, "udp", 53)
    # excluded sources: in the pcap only
    excluded = []
    for k in range(5):
        src = "192.0.2.%d" % (k + 1)
        for j in range(3):
            excluded.append((T0 + k * H + j * NS, src, 1, "sqli", 80))
    kinds = ["syn", "syn", "syn", "udp", "echo", "sip", "sqli", "xss", "junk"]
    for s in range(a.sources):
        src = "100.64.%d.%d" % (s // 250, s % 250 + 1)
        t = T0 + rnd.randrange(0, 40 * DAY)
        style = rnd.random()
        for _ in range(rnd.randrange(1, 10)):
            if style < 0.3:
                t += rnd.randrange(0, 30 * NS)
            elif style < 0.6:
                t += rnd.randrange(0, 6 * H)
            else:
                t += rnd.choice([rnd.randrange(0, 3 * DAY), DAY, DAY - 1, 2 * DAY])
            add(src, t, rnd.randrange(0, 5), rnd.choice(kinds), rnd.choice([22, 23, 445, 8080]))
    allev = sorted(ev + excluded, key=lambda e: e[0])
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "traffic.pcap"), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))
        for i, (t, src, sensor, kind, port) in enumerate(allev):
            dst = ip2i("198.18.%d.%d" % (sensor, 1 + i % 250))
            fr = frame(ip2i(src), dst, kind, port, 40000 + i % 20000)
            f.write(struct.pack("<IIII", t // NS, t % NS, len(fr), len(fr)) + fr)
    with open(os.path.join(a.out, "events.jsonl"), "w") as f:
        for t, src, sensor, kind, port in ev:
            typ, cat = type_of(kind, port)
            f.write(json.dumps({"t": t, "src": src, "sensor": sensor, "type": typ,
                                "cat": cat}) + "\n")
    # every kind but SYN and bare UDP carries L4 payload (the echo request has "ping")
    payload = sum(1 for e in allev if e[3] in ("sip", "sqli", "xss", "junk", "echo"))
    matches = sum(1 for e in ev if e[3] in SIDS)
    with open(os.path.join(a.out, "expect.json"), "w") as f:
        # excluded sources skip the event stage: their payloads are not scanned
        json.dump({"packets": len(allev), "payload_packets": payload - len(excluded),
                   "rule_matches": matches,
                   "excluded_packets": len(excluded), "excluded_sources": 5}, f)
    with open(os.path.join(a.out, "exclude.txt"), "w") as f:
        f.write("# test exclusion list (SPEC C)\n192.0.2.0/24 assessment-vendor\n")


if __name__ == "__main__":
    main()
