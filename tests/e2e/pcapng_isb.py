#!/usr/bin/python3
"""pcapng_isb — the interface statistics of a pcapng file, for capture_truth.sh.

usage: pcapng_isb.py FILE

Prints "ifrecv N ifdrop M" from the file's Interface Statistics Block (pcapng spec 4.6:
block type 5, options isb_ifrecv = 4 and isb_ifdrop = 5, little-endian as obscura-dp
writes it); exit status 1 when the file has no such block or a block is cut short.
"""
import struct
import sys

data = open(sys.argv[1], "rb").read()
off, found = 0, None
while off + 12 <= len(data):
    btype, blen = struct.unpack_from("<II", data, off)
    if blen < 12 or off + blen > len(data):
        sys.exit("block at %d: length %d past the end (%d bytes)" % (off, blen, len(data)))
    if btype == 5:
        stats, o = {}, off + 20          # type, length, interface id, timestamp hi/lo
        while o + 4 <= off + blen - 4:
            code, olen = struct.unpack_from("<HH", data, o)
            if code == 0:
                break
            if code in (4, 5) and olen == 8:
                stats[code] = struct.unpack_from("<Q", data, o + 4)[0]
            o += 4 + (olen + 3) // 4 * 4
        found = stats
    off += blen
if found is None or 4 not in found or 5 not in found:
    sys.exit("no interface statistics block with ifrecv and ifdrop")
print("ifrecv %d ifdrop %d" % (found[4], found[5]))
