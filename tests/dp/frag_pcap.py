#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""IP fragments through the dataplane, checked against tshark.

  frag_pcap.py gen OUT.pcap            UDP and ICMP datagrams of 600..9000 bytes from a
                                       few sources, cut by scapy's fragment() (some in
                                       reverse order, some fragments lost), whole
                                       datagrams between them, and malformed fragments
                                       (offset past 65535, first fragments too short for
                                       their L4 header); telescope of tests/dp/lib.sh
  frag_pcap.py check PCAP DUMP.json    recompute from tshark's dissection of PCAP alone
                                       (-o ip.defragment:FALSE; docs/DESIGN.md "IP
                                       fragments") the accepted packets per source, the
                                       fragments counter and the fragment drops, and
                                       compare them with xchg_dump's JSON; exit 1 on any
                                       difference
"""
import collections
import json
import random
import subprocess
import sys

EAST = (0xC6120000, 1 << 12)     # 198.18.0.0/20
WEST = (0xC6121000, 1 << 12)     # 198.18.16.0/20


def gen(out):
    from scapy.all import Ether, IP, UDP, ICMP, Raw, fragment, wrpcap
    rnd = random.Random(14)
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    frames = []
    for i in range(60):
        src = "10.14.0.%d" % (1 + i % 6)
        dst = "198.18.%d.%d" % (rnd.choice((0, 1, 16, 17)), rnd.randrange(1, 255))
        size = rnd.randrange(600, 9000)
        if i % 5 == 4:
            p = IP(src=src, dst=dst) / ICMP(type=0) / Raw(b"e" * size)   # echo reply
        else:
            p = IP(src=src, dst=dst) / UDP(sport=53, dport=rnd.randrange(1024, 65535)) / Raw(b"d" * size)
        fr = fragment(p, fragsize=rnd.choice((480, 1480)))
        if i % 7 == 3:
            fr = fr[::-1]             # arrive in reverse order
        if i % 11 == 5:
            fr = fr[1:]               # first fragment lost
        frames += fr
        frames.append(IP(src=src, dst=dst) / UDP(dport=9) / Raw(b"w" * 20))  # a whole one
    # malformed: past 65535 (offset 8190 * 8 + 20 + 40), tiny first fragments
    frames.append(IP(src="10.14.0.99", dst="198.18.0.1", frag=8190, proto=17) / Raw(b"p" * 40))
    frames.append(IP(src="10.14.0.99", dst="198.18.0.1", flags="MF", proto=6) / Raw(b"t" * 10))
    frames.append(IP(src="10.14.0.99", dst="198.18.0.1", flags="MF", proto=17) / Raw(b"u" * 5))
    # well-formed edge: ends exactly at 65535 (offset 8185 * 8 + 20 + 35)
    frames.append(IP(src="10.14.0.98", dst="198.18.0.1", frag=8185, proto=17) / Raw(b"q" * 35))
    # outside the telescope: not_telescope, not a fragment of anyone's
    frames.append(IP(src="10.14.0.1", dst="192.0.2.1", flags="MF") / UDP() / Raw(b"x" * 64))
    t = 1_700_000_000.0
    pk = []
    for k, f in enumerate(frames):
        e = eth / f
        e.time = t + k * 0.001
        pk.append(e)
    wrpcap(out, pk)


def tshark_rows(pcap):
    g = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True).stdout
    units = 8        # tshark 4.x gives the 13-bit field; older releases gave bytes
    for line in g.splitlines():
        c = line.split("\t")
        if len(c) > 6 and c[2] == "ip.frag_offset" and c[6] != "0x1fff":
            units = 1
    out = subprocess.run(["tshark", "-r", pcap, "-o", "ip.defragment:FALSE", "-T", "fields",
                          "-E", "separator=,", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.flags.mf",
                          "-e", "ip.frag_offset", "-e", "ip.len", "-e", "ip.hdr_len",
                          "-e", "ip.proto"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        src, dst, mf, off, ln, hl, proto = line.split(",")
        yield (src, dst, mf in ("1", "True"), int(off) * units, int(ln), int(hl), int(proto))


def in_tel(dst):
    a, b, c, d = (int(x) for x in dst.split("."))
    v = a << 24 | b << 16 | c << 8 | d
    return any(n <= v < n + s for n, s in (EAST, WEST))


def check(pcap, dump):
    need = {6: 20, 17: 8, 1: 8}
    per_src = collections.Counter()
    fragments = drops = tel = 0
    for src, dst, mf, off, ln, hl, proto in tshark_rows(pcap):
        is_frag = mf or off > 0
        if off + ln > 65535 or (mf and off == 0 and ln - hl < need.get(proto, 0)):
            drops += 1            # malformed fragment, checked before the telescope
            continue
        if not in_tel(dst):
            continue
        tel += 1
        fragments += is_frag
        per_src[src] += 1
    g = json.load(open(dump))
    c = g["counters"]
    errs = []
    for name, got, want in (("fragments", c["fragments"], fragments),
                            ("drops.fragment", c["drops"]["fragment"], drops),
                            ("tel_packets", c["tel_packets"], tel)):
        if got != want:
            errs.append("%s: dataplane %d, tshark %d" % (name, got, want))
    gs = {r["src"]: r["packets"] for r in g["sources"]}
    if gs != dict(per_src):
        errs.append("sources differ: dataplane %s, tshark %s" % (sorted(gs.items()), sorted(per_src.items())))
    if fragments < 100 or drops != 3:
        errs.append("the pcap does not exercise fragments (%d, %d malformed)" % (fragments, drops))
    for e in errs:
        print("FAIL: " + e)
    if not errs:
        print("ok: %d telescope packets, %d fragments, %d malformed, %d sources match tshark"
              % (tel, fragments, drops, len(gs)))
    return 1 if errs else 0


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit("usage: frag_pcap.py gen OUT.pcap | check PCAP DUMP.json")
