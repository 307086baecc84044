#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""dos_pcap.py gen PCAP | check PCAP LIST_JSON [D_SIZE] — DoS backscatter end to end
(tests/e2e/dos_truth.sh, docs/dos.md).

gen: a scapy capture of spoofed-source attack backscatter arriving at the telescope
198.18.0.0/22 — victims answering with SYN-ACK, RST, ICMP echo reply, destination
unreachable and time exceeded — around the edges of the attack definition (a gap of
exactly 300 s and of 1 us less, a peak of 29 and of 30 packets per minute, 59 and 60 s),
many small victims below every threshold, and traffic that is not backscatter (SYN scans,
UDP, echo requests, a SYN-ACK to an address outside the telescope).

check: the attacks recomputed from the capture by tshark's fields alone, written from
docs/dos.md's definition, against `obscuractl --json dos list` (LIST_JSON): the same
victims, starts, ends (ns), packets, peak per minute, ports, protocols and extrapolated
rate; the distinct dark addresses within the linear-counting sketch's error.
"""
import json
from decimal import Decimal
import math
import random
import subprocess
import sys
from collections import defaultdict

NS = 10**9
T0 = 1700000040            # a UTC minute boundary
GAP = 300 * NS
MIN_PK, MIN_DUR, MIN_PEAK = 25, 60 * NS, 30
BS_ICMP = {0, 3, 4, 5, 11, 12, 14, 16, 18}      # Moore et al. Table I (docs/dos.md)


def gen(path):
    from scapy.all import Ether, IP, TCP, UDP, ICMP, Raw, wrpcap   # noqa: E402
    rnd = random.Random(14)
    pk = []                 # (t_us, packet)

    def dark():
        return "198.18.%d.%d" % (rnd.randrange(4), rnd.randrange(256))

    def synack(v, t_us, sport, flags="SA"):
        pk.append((t_us, IP(src=v, dst=dark()) / TCP(sport=sport, dport=rnd.randrange(1024, 65536),
                                                      flags=flags)))

    def icmp(v, t_us, typ, code=0):
        p = IP(src=v, dst=dark()) / ICMP(type=typ, code=code)
        if typ in (3, 11):      # the quoted header of the spoofed packet
            p = p / Raw(bytes(IP(src=p[IP].dst, dst=v) / UDP(sport=53, dport=53))[:28])
        pk.append((t_us, p))

    def burst(v, start_us, span_us, n, fn):
        for k in range(n):
            fn(v, start_us + (span_us * k) // max(1, n - 1))

    s = T0 * 10**6
    M = 60 * 10**6
    # a long SYN flood on a web server: 40 SYN-ACKs per minute for 10 minutes
    for m in range(10):
        burst("203.0.113.10", s + m * M, M - 1, 40, lambda v, t: synack(v, t, 80))
    # ICMP backscatter: echo replies, unreachables, time exceeded
    for m in range(3):
        burst("203.0.113.20", s + m * M + 5 * 10**6, 50 * 10**6, 50,
              lambda v, t: icmp(v, t, rnd.choice([0, 3, 11]), 3 if rnd.random() < .5 else 0))
    # RSTs from three ports
    for m in range(2):
        burst("203.0.113.30", s + m * M, 55 * 10**6, 45,
              lambda v, t: synack(v, t, rnd.choice([22, 443, 8080]), rnd.choice(["R", "RA"])))
    # gap of exactly 300 s between the last packet and the next: two attacks
    burst("203.0.113.40", s, 61 * 10**6, 70, lambda v, t: synack(v, t, 443))
    burst("203.0.113.40", s + 61 * 10**6 + 300 * 10**6, 61 * 10**6, 70,
          lambda v, t: synack(v, t, 443))
    # 1 us less: one attack
    burst("203.0.113.41", s, 61 * 10**6, 70, lambda v, t: synack(v, t, 443))
    burst("203.0.113.41", s + 61 * 10**6 + 300 * 10**6 - 1, 61 * 10**6, 70,
          lambda v, t: synack(v, t, 443))
    # a peak of 29 per minute for 3 minutes: no attack; 30 in one of them: an attack
    for m in range(3):
        burst("203.0.113.50", s + m * M + 10**6, 50 * 10**6, 29, lambda v, t: synack(v, t, 25))
        burst("203.0.113.51", s + m * M + 10**6, 50 * 10**6, 30 if m == 1 else 29,
              lambda v, t: synack(v, t, 25))
    # 59 s vs 60 s, 40 packets each, inside one minute's count
    burst("203.0.113.60", s + 10 * M, 59 * 10**6, 40, lambda v, t: synack(v, t, 53))
    burst("203.0.113.61", s + 10 * M, 60 * 10**6, 40, lambda v, t: synack(v, t, 53))
    # 300 small victims: a few packets each
    for i in range(300):
        v = "100.64.%d.%d" % (i // 200, 1 + i % 200)
        t = s + rnd.randrange(15 * M)
        for k in range(rnd.randrange(1, 6)):
            synack(v, t + k * 10**6, 80)
    # not backscatter: SYN scans, UDP, echo requests, a SYN-ACK outside the telescope
    for i in range(2000):
        t = s + rnd.randrange(15 * M)
        src = "192.0.2.%d" % (1 + i % 50)
        kind = i % 3
        if kind == 0:
            p = IP(src=src, dst=dark()) / TCP(sport=40000, dport=rnd.choice([22, 23, 80]), flags="S")
        elif kind == 1:
            p = IP(src=src, dst=dark()) / UDP(sport=40000, dport=53)
        else:
            p = IP(src=src, dst=dark()) / ICMP(type=8)
        pk.append((t, p))
    pk.append((s + 5 * M, IP(src="203.0.113.99", dst="198.19.0.1") / TCP(sport=80, flags="SA")))
    pk.sort(key=lambda x: x[0])
    out = []
    for t_us, p in pk:
        f = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p
        f.time = Decimal(t_us) / 10**6     # exact microseconds, not a float
        out.append(f)
    wrpcap(path, out)
    print("dos_pcap: %d packets" % len(out))


def ns_of(s):
    a, _, b = s.partition(".")
    return int(a) * NS + int((b + "000000000")[:9])


def in_telescope(a):
    o = [int(x) for x in a.split(".")]
    return o[0] == 198 and o[1] == 18 and o[2] < 4


def reference(path, dsize):
    fields = ["frame.time_epoch", "ip.src", "ip.dst", "ip.proto", "tcp.flags", "tcp.srcport",
              "icmp.type", "ip.frag_offset", "ip.flags.mf"]
    cmd = ["tshark", "-r", path, "-n", "-o", "ip.defragment:FALSE", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    rows = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
    per = defaultdict(list)
    bs_packets = 0
    for line in rows:
        t, src, dst, proto, flags, sport, itype, foff, mf = (line.split("\t") + [""] * 9)[:9]
        if not src or not in_telescope(dst) or (foff and int(foff) != 0):
            continue
        proto = int(proto)
        if proto == 6:
            fl = int(flags, 16)
            bs = (fl & 0x12) == 0x12 or (fl & 0x04) != 0
        elif proto == 1:
            bs = int(itype) in BS_ICMP
        else:
            bs = False
        if not bs:
            continue
        bs_packets += 1
        per[src].append((ns_of(t), dst, proto, int(sport) if proto == 6 else 0))
    attacks = []
    for v, ps in per.items():
        ps.sort()
        flows, cur = [], [ps[0]]
        for p in ps[1:]:
            if p[0] - cur[-1][0] >= GAP:
                flows.append(cur)
                cur = []
            cur.append(p)
        flows.append(cur)
        for f in flows:
            minutes = defaultdict(int)
            for p in f:
                minutes[p[0] // (60 * NS)] += 1
            peak = max(minutes.values())
            dur = f[-1][0] - f[0][0]
            if len(f) < MIN_PK or dur < MIN_DUR or peak < MIN_PEAK:
                continue
            rate = len(f) / max(1.0, dur / 1e9)
            attacks.append({
                "victim": v, "start_ns": f[0][0], "end_ns": f[-1][0], "packets": len(f),
                "peak_ppm": peak, "dark": len({p[1] for p in f}),
                "ports": sorted({p[3] for p in f if p[3]}),
                "protocols": sorted({{6: "tcp", 1: "icmp"}[p[2]] for p in f}),
                "extrapolated_pps": rate * 2**32 / dsize})
    attacks.sort(key=lambda a: (a["start_ns"], a["victim"]))
    return attacks, bs_packets


def check(path, list_json, dsize, stats_json=None):
    ref, bs_packets = reference(path, dsize)
    got = json.load(open(list_json))
    got = sorted(got, key=lambda a: (a["start_ns"], a["victim"]))
    bad = []
    if len(got) != len(ref):
        bad.append("%d attacks, the reference has %d: %s vs %s" % (
            len(got), len(ref), [(a["victim"], a["start_ns"]) for a in got],
            [(a["victim"], a["start_ns"]) for a in ref]))
    for g, r in zip(got, ref):
        for k in ("victim", "start_ns", "end_ns", "packets", "peak_ppm"):
            if g[k] != r[k]:
                bad.append("%s %s: %s, reference %s" % (r["victim"], k, g[k], r[k]))
        if sorted(g["protocols"]) != r["protocols"]:
            bad.append("%s protocols %s, reference %s" % (r["victim"], g["protocols"], r["protocols"]))
        if len(r["ports"]) <= 3 and (sorted(g["ports"]) != r["ports"] or not g["ports_exact"]):
            bad.append("%s ports %s, reference %s" % (r["victim"], g["ports"], r["ports"]))
        if abs(g["extrapolated_pps"] - r["extrapolated_pps"]) > 1e-6 * r["extrapolated_pps"]:
            bad.append("%s rate %s, reference %s" % (r["victim"], g["extrapolated_pps"],
                                                      r["extrapolated_pps"]))
        # linear counting over 192 bits (docs/dos.md): within 20 % or 3 below ~500
        if g["dark_saturated"] or abs(g["dark_addresses"] - r["dark"]) > max(3, 0.2 * r["dark"]):
            bad.append("%s dark addresses %s (saturated %s), exactly %d" % (
                r["victim"], g["dark_addresses"], g["dark_saturated"], r["dark"]))
    if stats_json:
        s = json.load(open(stats_json))
        t = s.get("total", s)
        if t["backscatter_packets"] != bs_packets:
            bad.append("backscatter_packets %d, tshark counts %d" % (t["backscatter_packets"],
                                                                    bs_packets))
    for b in bad:
        print("MISMATCH:", b)
    print("dos_pcap check: %d attacks, %d backscatter packets, %s" % (
        len(ref), bs_packets, "match" if not bad else "%d mismatches" % len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                       sys.argv[5] if len(sys.argv) > 5 else None))
    else:
        sys.exit("usage: dos_pcap.py gen PCAP | check PCAP LIST_JSON D_SIZE [STATS_JSON]")
