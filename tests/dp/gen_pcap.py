#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Test traffic for the dp tests, with its answer known by construction.

  gen_pcap.py cases OUT.pcap EXPECTED.json   scapy-built frames: good TCP/UDP/ICMP/other
                                             to the telescope, not_telescope, every
                                             malformation, VLAN/QinQ, time going back,
                                             caplen < len; EXPECTED is what xchg_dump
                                             must print (counters and source records)
  gen_pcap.py cases-live OUT.pcap EXPECTED.json
                                             the same without the frames that cannot
                                             reach a net_af_packet port through a veth:
                                             shorter than an Ethernet header (a packet
                                             socket refuses to send them), a truncated
                                             VLAN tag (the kernel drops it in
                                             skb_vlan_untag before packet taps), and IP
                                             fragments (DPDK 22.11 net_af_packet joins a
                                             PACKET_FANOUT_FLAG_DEFRAG group, so the
                                             kernel holds lone fragments for reassembly)
  gen_pcap.py bulk OUT.pcap N [SOURCES]      N frames (raw bytes, no scapy: fast), for the
                                             replay rate; SOURCES distinct sources
  gen_pcap.py garbage OUT.pcap N             N random frames (0..1600 bytes, many with an
                                             IPv4 or VLAN ethertype and a plausible
                                             header start), fixed seed: nothing may crash,
                                             every frame must be counted
  gen_pcap.py sources OUT.pcap N             one TCP SYN from each of N distinct sources
                                             within one epoch (forces early swaps)

Telescope assumed (tests/dp/*.yaml): sensor 0 'east' 198.18.0.0/20, sensor 1 'west'
198.18.16.0/20.  Pcap files are written by hand (nanosecond format) so caplen and len
can differ.
"""
import json
import struct
import sys

T0 = 1_700_000_000 * 10**9          # packet time base, ns
DROPS = ["trunc_l2", "not_ipv4", "vlan_depth", "trunc_ip", "bad_version", "bad_ihl",
         "bad_totlen", "fragment", "trunc_l4", "bad_l4", "not_telescope"]
PROTOS = ["tcp", "udp", "icmp", "other"]


class PcapWriter:
    def __init__(self, path):
        self.f = open(path, "wb")
        # nanosecond-resolution pcap, Ethernet
        self.f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))

    def add(self, t_ns, frame, wire_len=None):
        wire = len(frame) if wire_len is None else wire_len
        self.f.write(struct.pack("<IIII", t_ns // 10**9, t_ns % 10**9, len(frame), wire))
        self.f.write(frame)

    def close(self):
        self.f.close()


def ip2int(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return a << 24 | b << 16 | c << 8 | d


def cases(out, expected_path, live=False):
    from scapy.all import ARP, Dot1Q, Dot1AD, Ether, GRE, ICMP, IP, IPv6, TCP, UDP, raw

    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    frames = []  # (t_ns, bytes, wire_len or None, outcome)

    def good(pkt, src, sensor, proto):
        return (bytes(pkt), None, ("ok", src, sensor, proto))

    def bad(b, reason, wire=None):
        return (b, wire, ("drop", reason))

    ipv4 = bytes(eth / IP(src="10.9.9.9", dst="198.18.0.1") / TCP(dport=80, flags="S"))
    L = []
    # good packets: S1 to both sensors
    for i in range(3):
        L.append(good(eth / IP(src="10.0.0.1", dst="198.18.0.5") / TCP(sport=40000 + i, dport=23, flags="S"),
                      "10.0.0.1", 0, "tcp"))
    for i in range(2):
        L.append(good(eth / IP(src="10.0.0.1", dst="198.18.16.9") / UDP(sport=5000, dport=5060) / (b"x" * 20),
                      "10.0.0.1", 1, "udp"))
    # single VLAN, ICMP echo
    L.append(good(eth / Dot1Q(vlan=100) / IP(src="10.0.0.2", dst="198.18.1.1") / ICMP(type=8),
                  "10.0.0.2", 0, "icmp"))
    # QinQ (802.1ad S-tag, 802.1Q C-tag), TCP
    L.append(good(eth / Dot1AD(vlan=10) / Dot1Q(vlan=20) / IP(src="10.0.0.3", dst="198.18.17.1") / TCP(dport=443, flags="S"),
                  "10.0.0.3", 1, "tcp"))
    # another protocol (GRE) to the telescope
    L.append(good(eth / IP(src="10.0.0.4", dst="198.18.2.3") / GRE(), "10.0.0.4", 0, "other"))
    # an ACK, with payload, from a source in an odd place of the address space
    L.append(good(eth / IP(src="255.255.255.254", dst="198.18.31.255") / TCP(dport=8080, flags="A") / (b"y" * 100),
                  "255.255.255.254", 1, "tcp"))
    L.append(good(eth / IP(src="0.0.0.0", dst="198.18.0.0") / UDP(dport=53), "0.0.0.0", 0, "udp"))
    # not in the telescope
    L.append(bad(bytes(eth / IP(src="10.0.0.9", dst="8.8.8.8") / TCP(dport=80)), "not_telescope"))
    L.append(bad(bytes(eth / IP(src="10.0.0.9", dst="198.18.32.0") / TCP(dport=80)), "not_telescope"))
    # malformations
    L.append(bad(bytes(eth)[:10], "trunc_l2"))
    L.append(bad(b"", "trunc_l2"))
    L.append(bad(bytes(eth / Dot1Q(vlan=5))[:16], "trunc_l2"))
    L.append(bad(bytes(eth / ARP(pdst="198.18.0.1")), "not_ipv4"))
    L.append(bad(bytes(eth / IPv6(dst="2001:db8::1") / UDP()), "not_ipv4"))
    L.append(bad(bytes(eth / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP(src="10.0.0.5", dst="198.18.0.1")), "vlan_depth"))
    L.append(bad(ipv4[:14 + 10], "trunc_ip"))
    b = bytearray(ipv4); b[14] = 0x65
    L.append(bad(bytes(b), "bad_version"))
    b = bytearray(ipv4); b[14] = 0x44
    L.append(bad(bytes(b), "bad_ihl"))
    b = bytearray(ipv4); b[16:18] = struct.pack(">H", 1000)
    L.append(bad(bytes(b), "bad_totlen"))
    # caplen < len: a 600-byte datagram captured on its first 100 bytes (a short snaplen)
    # is a whole packet on the wire: accepted, its wire length counts in the bytes
    big = bytes(eth / IP(src="10.0.0.6", dst="198.18.0.7") / UDP(dport=9) / (b"z" * 558))
    L.append((big[:100], len(big), ("ok", "10.0.0.6", 0, "udp")))
    # ... but one cut inside its UDP header cannot be read: trunc_l4
    L.append(bad(big[:14 + 20 + 4], "trunc_l4", wire=len(big)))
    # fragments: a first one with its whole UDP header and a later one are packets of
    # their source ("frag" marks them: counted in fragments, and not sent live); the
    # malformed ones are dropped as "fragment" (docs/DESIGN.md)
    L.append((bytes(eth / IP(src="10.0.0.7", dst="198.18.0.1", flags="MF") / UDP()), None,
              ("ok", "10.0.0.7", 0, "udp", "frag")))
    L.append((bytes(eth / IP(src="10.0.0.7", dst="198.18.0.1", frag=100) / raw(b"q" * 16)), None,
              ("ok", "10.0.0.7", 0, "other", "frag")))
    L.append(bad(bytes(eth / IP(src="10.0.0.7", dst="198.18.0.1", frag=8190, proto=17) / raw(b"p" * 40)), "fragment"))
    L.append(bad(bytes(eth / IP(src="10.0.0.7", dst="198.18.0.1", flags="MF", proto=6) / raw(b"t" * 10)), "fragment"))
    L.append(bad(bytes(eth / IP(src="10.0.0.8", dst="198.18.0.1", proto=6) / raw(b"t" * 10)), "trunc_l4"))
    L.append(bad(bytes(eth / IP(src="10.0.0.8", dst="198.18.0.1", proto=17) / raw(b"u" * 4)), "trunc_l4"))
    L.append(bad(bytes(eth / IP(src="10.0.0.8", dst="198.18.0.1", proto=1) / raw(b"i" * 4)), "trunc_l4"))
    b = bytearray(bytes(eth / IP(src="10.0.0.8", dst="198.18.0.1") / TCP(dport=1))); b[14 + 20 + 12] = 0x40
    L.append(bad(bytes(b), "bad_l4"))
    b = bytearray(bytes(eth / IP(src="10.0.0.8", dst="198.18.0.1") / UDP(dport=1))); b[14 + 20 + 4:14 + 20 + 6] = struct.pack(">H", 200)
    L.append(bad(bytes(b), "bad_l4"))
    # garbage
    L.append(bad(bytes(range(256)) * 2, "not_ipv4"))

    t = T0
    for fr in L:
        frames.append((t, fr[0], fr[1], fr[2]))
        t += 3_000_000   # 3 ms apart: several epochs at epoch_ms 10
    # time going backwards: S4's packets, the third one 50 ms before the second
    for dt, dport in ((0, 1), (20_000_000, 2), (-50_000_000, 3), (30_000_000, 4)):
        fr = bytes(eth / IP(src="192.0.2.44", dst="198.18.2.2") / UDP(dport=dport))
        frames.append((t + dt, fr, None, ("ok", "192.0.2.44", 0, "udp")))
    t_back = t

    w = PcapWriter(out)
    exp = {"rx_packets": 0, "rx_bytes": 0, "tel_packets": 0, "tel_bytes": 0,
           "lost_updates": 0, "forced_swaps": 0, "fragments": 0,
           "proto": {p: 0 for p in PROTOS}, "drops": {d: 0 for d in DROPS}}
    srcs = {}
    last = 0
    backwards = 0
    for t_ns, fr, wire, oc in frames:
        # live: a veth carries only what is sent, so a short-snaplen frame (wire set)
        # would arrive as a short packet; net_pcap ports likewise report caplen as length
        if live and (len(fr) < 14 or (len(fr) < 18 and fr[12:14] in (b"\x81\x00", b"\x88\xa8"))
                     or oc == ("drop", "fragment") or oc[-1] == "frag" or wire is not None):
            continue
        w.add(t_ns, fr, wire)
        wl = len(fr) if wire is None else wire
        if t_ns < last:
            backwards += 1
        last = max(last, t_ns)
        exp["rx_packets"] += 1
        exp["rx_bytes"] += wl
        if oc[0] == "drop":
            exp["drops"][oc[1]] += 1
            continue
        _, src, sensor, proto = oc[:4]
        exp["fragments"] += oc[-1] == "frag"
        exp["tel_packets"] += 1
        exp["tel_bytes"] += wl
        exp["proto"][proto] += 1
        r = srcs.setdefault(src, {"src": src, "first_ns": t_ns, "last_ns": t_ns, "packets": 0, "sensor_mask": 0})
        r["first_ns"] = min(r["first_ns"], t_ns)
        r["last_ns"] = max(r["last_ns"], t_ns)
        r["packets"] += 1
        r["sensor_mask"] |= 1 << sensor
    w.close()
    exp["time_backwards"] = backwards
    assert backwards == 1 and t_back
    expected = {"counters": exp,
                "n_sources": len(srcs),
                "sources": sorted(srcs.values(), key=lambda r: ip2int(r["src"]))}
    with open(expected_path, "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)


def tcp_syn_frame(src, dst, sport, dport):
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
    ip = struct.pack(">BBHHHBBHII", 0x45, 0, 40, 0, 0, 64, 6, 0, src, dst)
    tcp = struct.pack(">HHIIBBHHH", sport, dport, dst, 0, 0x50, 0x02, 1024, 0, 0)
    return eth + ip + tcp + b"\x00" * 6   # padded to the 60-byte minimum


def bulk(out, n, n_src):
    w = PcapWriter(out)
    base_dst = ip2int("198.18.0.0")
    # a prebuilt frame per source, patched per packet would be faster, but writing
    # 1M 60-byte records this way takes a few seconds, which is fine
    hdrs = struct.Struct("<IIII")
    f = w.f
    for i in range(n):
        src = 0x0B000000 + (i * 2654435761) % n_src
        dst = base_dst + (i % 8192)
        fr = tcp_syn_frame(src, dst, 1024 + i % 60000, (i * 7) % 1024)
        t = T0 + i * 1000   # 1 Mpps of packet time: 1000 epochs of 1 s ... at 1 ms each
        f.write(hdrs.pack(t // 10**9, t % 10**9, len(fr), len(fr)))
        f.write(fr)
    w.close()


def sources(out, n):
    w = PcapWriter(out)
    base_dst = ip2int("198.18.0.0")
    for i in range(n):
        src = ip2int("20.0.0.0") + i
        w.add(T0 + i * 10, tcp_syn_frame(src, base_dst + i % 4096, 1000, 23))
    w.close()


def garbage(out, n):
    import random
    rnd = random.Random(20240601)
    w = PcapWriter(out)
    for i in range(n):
        ln = rnd.choice((0, 1, 13, 14, 15, 17, 18, 33, 34, 35, 53, 54, 60, 64, 200, 1514,
                         rnd.randrange(0, 1600)))
        fr = bytearray(rnd.getrandbits(8) for _ in range(ln))
        if ln >= 14 and rnd.random() < 0.8:
            off = 12
            for _ in range(rnd.choice((0, 0, 1, 2, 3))):
                if off + 4 > ln:
                    break
                fr[off:off + 2] = rnd.choice((b"\x81\x00", b"\x88\xa8"))
                off += 4
            if off + 2 <= ln:
                fr[off:off + 2] = b"\x08\x00"
            ip = off + 2
            if ip < ln:
                fr[ip] = rnd.choice((0x45, 0x45, 0x46, 0x4f, 0x44, 0x65, rnd.getrandbits(8)))
            if ip + 4 <= ln and rnd.random() < 0.7:
                fr[ip + 2:ip + 4] = struct.pack(">H", max(0, min(65535, ln - ip + rnd.randrange(-30, 30))))
            if ip + 8 <= ln and rnd.random() < 0.7:
                fr[ip + 6:ip + 8] = b"\x00\x00"
            if ip + 10 <= ln:
                fr[ip + 9] = rnd.choice((1, 6, 17, 47, rnd.getrandbits(8)))
            if ip + 20 <= ln and rnd.random() < 0.7:
                fr[ip + 16:ip + 18] = b"\xc6\x12"   # into the telescope now and then
        wire = ln if rnd.random() < 0.9 else ln + rnd.randrange(0, 1000)
        w.add(T0 + i * 1000, bytes(fr), wire)
    w.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] in ("cases", "cases-live"):
        cases(sys.argv[2], sys.argv[3], live=sys.argv[1] == "cases-live")
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "bulk":
        bulk(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) == 5 else 65536)
    elif len(sys.argv) == 4 and sys.argv[1] == "garbage":
        garbage(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "sources":
        sources(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
