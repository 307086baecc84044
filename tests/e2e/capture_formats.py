#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""capture_formats.py — the same capture in the other formats obscura-dp --replay reads.

  capture_formats.py pcapng IN.pcap OUT.pcapng    one section, one Ethernet interface with
                                                  nanosecond timestamps (if_tsresol 9), an
                                                  Enhanced Packet Block per record
  capture_formats.py gzip IN OUT [MEMBERS]        gzip (RFC 1952), the data cut into MEMBERS
                                                  members one after the other (default 1)
  capture_formats.py cut IN OUT FRACTION          the first FRACTION of IN's bytes (truncation)
  capture_formats.py flip IN OUT FRACTION         IN with 64 bytes inverted at FRACTION of it
  capture_formats.py repeat IN.pcap OUT.pcap N    IN's records N times over (a larger file
                                                  whose damage can come after whole chunks)
  capture_formats.py badtime IN.pcap OUT.pcapng   as pcapng, plus copies of two frames at
                                                  impossible times (2^64-1 ns, 1.5e19 ns:
                                                  past the year 2286)

Stdlib only; the pcapng writer follows the pcapng draft (IETF opsawg-pcapng) 4.1-4.3.
"""
import gzip
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    else:
        end = ">"
        magic = struct.unpack(">I", data[:4])[0]
    nano = magic == 0xA1B23C4D
    _, _, _, _, snaplen, linktype = struct.unpack(end + "HHiIII", data[4:24])
    off, recs = 24, []
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        ns = sec * 1000000000 + (frac if nano else frac * 1000)
        recs.append((ns, wirelen, data[off:off + caplen]))
        off += caplen
    return linktype, snaplen, recs


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def block(btype, body):
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def to_pcapng(src, dst, badtime=False):
    linktype, snaplen, recs = read_pcap(src)
    if badtime:
        recs = list(recs)
        recs.insert(10, (2**64 - 1, recs[3][1], recs[3][2]))
        recs.insert(20, (15 * 10**18, recs[5][1], recs[5][2]))
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    # if_tsresol (option 9) = 9: timestamps in nanoseconds; then opt_endofopt
    opts = struct.pack("<HH", 9, 1) + pad4(b"\x09") + struct.pack("<HH", 0, 0)
    out.append(block(1, struct.pack("<HHI", linktype, 0, snaplen) + opts))
    for ns, wirelen, frame in recs:
        body = struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(frame), wirelen)
        out.append(block(6, body + pad4(frame)))
    with open(dst, "wb") as f:
        f.write(b"".join(out))


def main():
    cmd, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd in ("pcapng", "badtime"):
        to_pcapng(src, dst, cmd == "badtime")
        return
    data = open(src, "rb").read()
    if cmd == "repeat":
        open(dst, "wb").write(data[:24] + data[24:] * int(sys.argv[4]))
    elif cmd == "gzip":
        members = int(sys.argv[4]) if len(sys.argv) > 4 else 1
        step = -(-len(data) // members)
        with open(dst, "wb") as f:
            for i in range(0, len(data), step):
                f.write(gzip.compress(data[i:i + step], mtime=0))
    elif cmd == "cut":
        open(dst, "wb").write(data[:int(len(data) * float(sys.argv[4]))])
    elif cmd == "flip":
        at = int(len(data) * float(sys.argv[4]))
        open(dst, "wb").write(data[:at] + bytes(b ^ 0xFF for b in data[at:at + 64]) +
                              data[at + 64:])
    else:
        sys.exit("capture_formats.py: unknown command %s" % cmd)


if __name__ == "__main__":
    main()
