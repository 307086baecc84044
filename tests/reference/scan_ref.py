#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""
scan_ref.py -- the independent, obviously-correct reference of SPEC.md part A
("Continuous Internet-wide scanning"), for the tests.  Simple and slow on purpose:
plain Python sets, no cleverness, stdlib only (run it with /usr/bin/python3).

    scan_ref.py PCAP --prefix 198.18.0.0/27 [--prefix ...] [--sample-cap 4096]
                [--block-len 16] [--period month|week|day|hour] [--alpha 0.8] [--n 30]
                [--m 6] [--jstar 0.8] [--sstar 0.7] [--top 20]
                [--country-map FILE] [--scanner-file FILE] [--out FILE.json]

Reads a pcap (microsecond or nanosecond, either byte order, LINKTYPE_ETHERNET, up to
two VLAN tags) and writes one JSON document:

  {"params": {...}, "telescope_size": |D|, "sample_size": |S|, "packets": frames,
   "syn_packets": N, "time_backwards": N,
   "cells":  [{"period", "block", "proto": 6, "dport", "hits", "syns", "mirai"}],
   "blocks": [{"block", "n_wide", "first", "last", "pmax", "pmin", "n_pairs", "j", "s",
               "class", "syns", "mirai", "mirai_share", "busiest24", "country",
               "scanner", "periods": [{"period", "ports": [...]}]}],     (T(A) only)
   "ports":  [{"port", "sets", "share"}], "port_sets": N}

"blocks" lists every block with at least one wide-area period; class "none" when it is
not a continuous scanner.  --country-map is a file of "a.b.c.d/len CC" lines (longest
match wins) standing in for the MMDB; --scanner-file is the scanner table (one CIDR a
line, optional label; '#' comments).
"""
import argparse
import datetime
import ipaddress
import json
import struct
import sys


# ---------------------------------------------------------------- the telescope, D and S

def sample_hash(x):
    """dataplane/common/telescope.c obs_tel_sample_hash (lowbias32), 32-bit arithmetic."""
    x &= 0xffffffff
    x ^= x >> 16
    x = (x * 0x7feb352d) & 0xffffffff
    x ^= x >> 15
    x = (x * 0x846ca68b) & 0xffffffff
    x ^= x >> 16
    return x


def coverage_sample(D, cap):
    """SPEC A: S = D when |D| <= cap, else a fixed hash-chosen subset of that size --
    telescope.c's rule: the cap addresses with the smallest (hash, address)."""
    if len(D) <= cap:
        return set(D)
    return set(sorted(D, key=lambda a: (sample_hash(a), a))[:cap])


# ---------------------------------------------------------------- periods (UTC calendar)

def period_label(unit, t_ns):
    d = datetime.datetime.fromtimestamp(t_ns // 10**9, tz=datetime.timezone.utc)
    if unit == "hour":
        return d.strftime("%Y-%m-%dT%H")
    if unit == "day":
        return d.strftime("%Y-%m-%d")
    if unit == "week":
        y, w, _ = d.date().isocalendar()      # ISO 8601 weeks, Monday first
        return "%04d-W%02d" % (y, w)
    return d.strftime("%Y-%m")


# ---------------------------------------------------------------- the pcap

def frames(path):
    """Yield (t_ns, frame bytes)."""
    with open(path, "rb") as fh:
        data = fh.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        endian = "<"
    else:
        magic = struct.unpack_from(">I", data, 0)[0]
        endian = ">"
    if magic == 0xa1b2c3d4:
        mult = 1000            # microseconds
    elif magic == 0xa1b23c4d:
        mult = 1               # nanoseconds
    else:
        raise SystemExit("scan_ref: %s: not a pcap file" % path)
    link = struct.unpack_from(endian + "I", data, 20)[0]
    if link != 1:
        raise SystemExit("scan_ref: %s: link type %d, not Ethernet" % (path, link))
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from(endian + "IIII", data, pos)
        pos += 16
        yield sec * 10**9 + frac * mult, data[pos:pos + incl]
        pos += incl


def parse(f):
    """(src, dst, proto, tcp_flags, seq) of a well-formed IPv4 packet, else None.
    The appliance's rules: Ethernet, at most two VLAN tags, IPv4 with sane IHL and total
    length, no fragments, complete L4 header."""
    n = len(f)
    if n < 14:
        return None
    off = 12
    et = struct.unpack_from("!H", f, off)[0]
    tags = 0
    while et in (0x8100, 0x88a8):
        tags += 1
        if tags > 2 or n < off + 6:
            return None
        off += 4
        et = struct.unpack_from("!H", f, off)[0]
    ip = off + 2
    if et != 0x0800 or n < ip + 20:
        return None
    ver, ihl = f[ip] >> 4, f[ip] & 15
    if ver != 4 or ihl < 5 or n < ip + 4 * ihl:
        return None
    tot = struct.unpack_from("!H", f, ip + 2)[0]
    if tot < 4 * ihl or tot > n - ip:
        return None
    if struct.unpack_from("!H", f, ip + 6)[0] & 0x3fff:
        return None
    proto = f[ip + 9]
    src, dst = struct.unpack_from("!II", f, ip + 12)
    l4, l4len = ip + 4 * ihl, tot - 4 * ihl
    flags = seq = None
    if proto == 6:
        if l4len < 20:
            return None
        doff = f[l4 + 12] >> 4
        if doff < 5 or 4 * doff > l4len:
            return None
        seq = struct.unpack_from("!I", f, l4 + 4)[0]
        flags = f[l4 + 13]
        dport = struct.unpack_from("!H", f, l4 + 2)[0]
    elif proto == 17:
        if l4len < 8:
            return None
        ulen = struct.unpack_from("!H", f, l4 + 4)[0]
        if ulen < 8 or ulen > l4len:
            return None
        dport = None
    elif proto == 1:
        if l4len < 8:
            return None
        dport = None
    else:
        dport = None
    return src, dst, proto, flags, seq, dport


# ---------------------------------------------------------------- small tables

def load_prefixes(path):
    """[(net, len, label)] from a CIDR-per-line file."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 1)
            if ":" in parts[0]:
                continue
            try:
                net = ipaddress.IPv4Network(parts[0], strict=True)
            except ValueError:
                continue
            out.append((int(net.network_address), net.prefixlen,
                        parts[1].strip() if len(parts) > 1 else ""))
    return out


def longest_match(table, addr):
    best = None
    for net, plen, label in table:
        mask = (0xffffffff << (32 - plen)) & 0xffffffff
        if addr & mask == net and (best is None or plen > best[0]):
            best = (plen, label)
    return best[1] if best else None


def overlaps(table, block, blen):
    """Label of the first scanner prefix (file order) that overlaps [block, block+2^(32-L))."""
    b_lo, b_hi = block, block + (1 << (32 - blen)) - 1
    for net, plen, label in table:
        lo, hi = net, net + (1 << (32 - plen)) - 1
        if lo <= b_hi and b_lo <= hi:
            return label
    return None


def ip(a):
    return str(ipaddress.IPv4Address(a))


def median(v):
    v = sorted(v)
    k = len(v)
    return v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2.0


# ---------------------------------------------------------------- SPEC A

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pcap")
    ap.add_argument("--prefix", action="append", required=True)
    ap.add_argument("--sample-cap", type=int, default=4096)
    ap.add_argument("--block-len", type=int, default=16)
    ap.add_argument("--period", default="month", choices=["hour", "day", "week", "month"])
    ap.add_argument("--alpha", type=float, default=0.8)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--m", type=int, default=6)
    ap.add_argument("--jstar", type=float, default=0.8)
    ap.add_argument("--sstar", type=float, default=0.7)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--country-map")
    ap.add_argument("--scanner-file")
    ap.add_argument("--out")
    a = ap.parse_args()

    # D: the union of the telescope prefixes
    D = set()
    for p in a.prefix:
        net = ipaddress.IPv4Network(p, strict=True)
        D.update(range(int(net.network_address), int(net.broadcast_address) + 1))
    S = coverage_sample(D, a.sample_cap)
    L = a.block_len
    bmask = (0xffffffff << (32 - L)) & 0xffffffff

    # Input: TCP packets with SYN set and ACK clear whose destination is in D.
    hits = {}       # (period, block, dport) -> set of sample addresses hit
    syns = {}       # (period, block, dport) -> [SYNs, Mirai SYNs]
    per24 = {}      # /24 of the source -> accepted telescope packets (A7)
    n_frames = n_syn = backwards = n_scanner = 0
    scan_table = load_prefixes(a.scanner_file) if a.scanner_file else None
    scan_hits = {}
    prev = None
    for t, f in frames(a.pcap):
        n_frames += 1
        if prev is not None and t < prev:
            backwards += 1          # counted; the packet still counts at its own time
        prev = t if prev is None else max(prev, t)
        m = parse(f)
        if m is None:
            continue
        src, dst, proto, flags, seq, dport = m
        if dst not in D:
            continue
        s24 = src & 0xffffff00
        per24[s24] = per24.get(s24, 0) + 1
        if scan_table is not None:
            hit = scan_hits.get(src)
            if hit is None:
                hit = scan_hits[src] = longest_match(scan_table, src) is not None
            n_scanner += hit            # packets from a scanner-table source
        if proto != 6 or not (flags & 0x02) or (flags & 0x10):
            continue
        n_syn += 1
        key = (period_label(a.period, t), src & bmask, dport)
        c = syns.setdefault(key, [0, 0])
        c[0] += 1
        if seq == dst:              # A10: the Mirai fingerprint
            c[1] += 1
        hs = hits.setdefault(key, set())
        if dst in S:
            hs.add(dst)             # D_t(A->p), measured on S

    # A1-A3: port sets P_t(A) and wide-area periods T(A)
    P = {}          # block -> {period -> set of ports}
    for (t, blk, port), hs in hits.items():
        # A2: p is a scan target port of A in t iff |D_t(A->p)| / |D| >= alpha (on S)
        if len(hs) / len(S) >= a.alpha:
            P.setdefault(blk, {}).setdefault(t, set()).add(port)
    blocks = []
    popularity = {}
    n_sets = 0
    for blk in sorted(P):
        T = sorted(t for t, ps in P[blk].items() if len(ps) >= a.n)   # A3
        if not T:
            continue
        # A5: Jaccard and Simpson over every unordered pair i != j of T(A); medians
        J, Sv = [], []
        for i in range(len(T)):
            for j in range(i + 1, len(T)):
                pi, pj = P[blk][T[i]], P[blk][T[j]]
                J.append(len(pi & pj) / len(pi | pj))
                Sv.append(len(pi & pj) / min(len(pi), len(pj)))
        jm = median(J) if J else None
        sm = median(Sv) if Sv else None
        # A4, A6
        if len(T) < a.m:
            cls = "none"
        elif not J:
            cls = "unclassified"            # a single wide-area period: no pairs
        elif sm <= a.sstar:
            cls = "ad-hoc"
        elif jm > a.jstar:
            cls = "routine"
        else:
            cls = "semi-routine"
        # A9: port sets of routine and semi-routine blocks
        if cls in ("routine", "semi-routine"):
            for t in T:
                n_sets += 1
                for p in P[blk][t]:
                    popularity[p] = popularity.get(p, 0) + 1
        # A10: Mirai share over all of A's SYNs
        s_all = sum(v[0] for k, v in syns.items() if k[1] == blk)
        m_all = sum(v[1] for k, v in syns.items() if k[1] == blk)
        # A7: country of the /24 inside A that sent the most packets (ties: lowest)
        busiest = None
        for s24 in sorted(per24):
            if s24 & bmask == blk and (busiest is None or per24[s24] > per24[busiest]):
                busiest = s24
        country = None
        if a.country_map and busiest is not None:
            country = longest_match(load_prefixes(a.country_map), busiest)
        scanner = overlaps(load_prefixes(a.scanner_file), blk, L) if a.scanner_file else None
        sizes = [len(P[blk][t]) for t in T]
        blocks.append({
            "block": "%s/%d" % (ip(blk), L), "n_wide": len(T), "first": T[0], "last": T[-1],
            "pmax": max(sizes), "pmin": min(sizes), "n_pairs": len(J), "j": jm, "s": sm,
            "class": cls, "syns": s_all, "mirai": m_all,
            "mirai_share": m_all / s_all if s_all else 0.0,
            "busiest24": ip(busiest) + "/24" if busiest is not None else None,
            "country": country, "scanner": scanner,
            "periods": [{"period": t, "ports": sorted(P[blk][t])} for t in T]})
    ports = sorted(popularity.items(), key=lambda kv: (-kv[1], kv[0]))[:a.top]
    out = {
        "params": {"alpha": a.alpha, "n": a.n, "m": a.m, "jstar": a.jstar, "sstar": a.sstar,
                   "block_len": L, "period": a.period, "sample_cap": a.sample_cap},
        "telescope_size": len(D), "sample_size": len(S), "packets": n_frames,
        "syn_packets": n_syn, "time_backwards": backwards, "scanner_packets": n_scanner,
        "cells": [{"period": k[0], "block": "%s/%d" % (ip(k[1]), L), "proto": 6, "dport": k[2],
                   "hits": len(hits[k]), "syns": syns[k][0], "mirai": syns[k][1]}
                  for k in sorted(hits)],
        "blocks": blocks,
        "port_sets": n_sets,
        "ports": [{"port": p, "sets": c, "share": c / n_sets} for p, c in ports],
    }
    text = json.dumps(out, indent=1, sort_keys=True)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
