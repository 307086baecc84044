#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
pcap_truth.py PCAP TRUTH.json -- recompute the ground truth from the pcap alone and
compare it with what obscura-gen wrote.

An independent, deliberately plain reference of the parser rules in dataplane/parse.h
and exchange.h (one drop reason per frame, checks in header order), so the generator's
bookkeeping is checked against the bytes it actually wrote.  stdlib only; run it with
/usr/bin/python3.  Exit 0 when everything matches, 1 with the differences otherwise.
"""
import ipaddress
import json
import struct
import sys

DROPS = ["trunc_l2", "not_ipv4", "vlan_depth", "trunc_ip", "bad_version", "bad_ihl",
         "bad_totlen", "fragment", "trunc_l4", "bad_l4", "not_telescope"]


def parse(f, tel):
    """Return (drop reason, None) or (None, (src, dst, proto, sensor))."""
    n = len(f)
    if n < 14:
        return "trunc_l2", None
    off = 12
    et = struct.unpack_from("!H", f, off)[0]
    tags = 0
    while et in (0x8100, 0x88a8):
        tags += 1
        if tags > 2:
            return "vlan_depth", None
        if n < off + 6:
            return "trunc_l2", None
        off += 4
        et = struct.unpack_from("!H", f, off)[0]
    l3 = off + 2
    if et != 0x0800:
        return "not_ipv4", None
    if n < l3 + 20:
        return "trunc_ip", None
    ver, ihl = f[l3] >> 4, f[l3] & 15
    if ver != 4:
        return "bad_version", None
    if ihl < 5:
        return "bad_ihl", None
    if n < l3 + ihl * 4:
        return "trunc_ip", None
    tot = struct.unpack_from("!H", f, l3 + 2)[0]
    if tot < ihl * 4 or tot > n - l3:
        return "bad_totlen", None
    frag = struct.unpack_from("!H", f, l3 + 6)[0]
    offset, mf = (frag & 0x1fff) * 8, frag & 0x2000
    if offset + tot > 65535:
        return "fragment", None             # malformed: the datagram ends past 65535
    proto = f[l3 + 9]
    src, dst = struct.unpack_from("!II", f, l3 + 12)
    l4, l4len = l3 + ihl * 4, tot - ihl * 4
    need = {6: 20, 17: 8, 1: 8}.get(proto, 0)
    if offset:
        pass                                # a later fragment: no L4 header to check
    elif mf and l4len < need:
        return "fragment", None             # malformed: first fragment, L4 header cut
    elif proto == 6:
        if l4len < 20:
            return "trunc_l4", None
        doff = f[l4 + 12] >> 4
        if doff < 5:
            return "bad_l4", None
        if doff * 4 > l4len:
            return ("fragment" if mf else "bad_l4"), None
    elif proto == 17:
        if l4len < 8:
            return "trunc_l4", None
        ulen = struct.unpack_from("!H", f, l4 + 4)[0]
        if ulen < 8 or (ulen > l4len and not mf):
            return "bad_l4", None
    elif proto == 1:
        if l4len < 8:
            return "trunc_l4", None
    for net, size, sensor in tel:
        if net <= dst < net + size:
            return None, (src, dst, proto, sensor)
    return "not_telescope", None


def main():
    pcap, truth_path = sys.argv[1], sys.argv[2]
    with open(truth_path) as fh:
        truth = json.load(fh)
    names = truth["sensors"]
    tel = []
    for s in truth["params"]["sensors"]:
        for p in s["prefixes"]:
            net = ipaddress.ip_network(p)
            tel.append((int(net.network_address), net.num_addresses, names.index(s["name"])))
    with open(pcap, "rb") as fh:
        data = fh.read()
    magic, vmaj, vmin, _, _, snap, link = struct.unpack_from("<IHHiIII", data, 0)
    errs = []
    if magic != 0xa1b23c4d or (vmaj, vmin) != (2, 4) or link != 1:
        errs.append("pcap header: magic %#x version %d.%d linktype %d" % (magic, vmaj, vmin, link))
    tot = {"rx_packets": 0, "rx_bytes": 0, "tel_packets": 0, "tel_bytes": 0,
           "proto": {"tcp": 0, "udp": 0, "icmp": 0, "other": 0},
           "drops": {d: 0 for d in DROPS}, "time_backwards": 0}
    src = {}
    pos, prev = 24, None
    while pos < len(data):
        sec, nsec, incl, orig = struct.unpack_from("<IIII", data, pos)
        pos += 16
        f = data[pos:pos + incl]
        pos += incl
        if incl != orig or len(f) != incl or nsec >= 10**9:
            errs.append("record at %d: incl %d orig %d nsec %d" % (pos, incl, orig, nsec))
            break
        t = sec * 10**9 + nsec
        if prev is not None and t < prev:
            tot["time_backwards"] += 1
        prev = t
        tot["rx_packets"] += 1
        tot["rx_bytes"] += incl
        why, meta = parse(f, tel)
        if why:
            tot["drops"][why] += 1
            continue
        s, d, proto, sensor = meta
        tot["tel_packets"] += 1
        tot["tel_bytes"] += incl
        tot["proto"][{6: "tcp", 17: "udp", 1: "icmp"}.get(proto, "other")] += 1
        r = src.get(s)
        if r is None:
            src[s] = r = [0, 0, t, t, 0]
        r[0] += 1
        r[1] += incl
        r[2] = min(r[2], t)
        r[3] = max(r[3], t)
        r[4] |= 1 << sensor
    if tot != truth["totals"]:
        for k in tot:
            if tot[k] != truth["totals"].get(k):
                errs.append("totals.%s: pcap %s truth %s" % (k, tot[k], truth["totals"].get(k)))
    if truth["params"]["packets"] != tot["rx_packets"]:
        errs.append("params.packets %d but %d frames" % (truth["params"]["packets"], tot["rx_packets"]))
    if truth["sources_total"] != len(src):
        errs.append("sources_total %d, pcap has %d" % (truth["sources_total"], len(src)))
    seen = set()
    for e in truth["sources"]:
        a = int(ipaddress.ip_address(e["addr"]))
        seen.add(a)
        r = src.get(a)
        if r is None:
            errs.append("source %s in truth, not in pcap" % e["addr"])
            continue
        got = {"packets": r[0], "bytes": r[1], "first_ns": r[2], "last_ns": r[3],
               "sensors": [names[i] for i in range(len(names)) if r[4] >> i & 1]}
        for k, v in got.items():
            if e[k] != v:
                errs.append("source %s %s: pcap %s truth %s" % (e["addr"], k, v, e[k]))
        for p in tel:
            if p[0] <= a < p[0] + p[1]:
                errs.append("source %s lies inside the telescope" % e["addr"])
    if len(truth["sources"]) == truth["sources_total"] and len(seen) != len(src):
        errs.append("%d pcap sources missing from the truth" % (len(src) - len(seen)))
    for e in errs[:50]:
        print("pcap_truth: " + e)
    if errs:
        print("pcap_truth: %d differences" % len(errs))
        return 1
    print("pcap_truth: %d frames, %d sources: truth matches the pcap" % (tot["rx_packets"], len(src)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
