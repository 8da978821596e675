#!/usr/bin/env python3
"""null2eth.py IN OUT: a BSD-loopback (DLT_NULL) pcap or pcapng as a classic Ethernet pcap, so tcpreplay
can put it on a veth (tcprewrite's DLT_NULL plugin writes ethertype 0 on this Debian). Standard library
only; the 4-byte AF header becomes 02:00:00:00:00:01 -> 02:00:00:00:00:02 with ethertype IPv4/IPv6."""
import struct, sys

def packets(data):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        le = magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        e = "<" if le else ">"
        off = 24
        while off + 16 <= len(data):
            s, frac, cap, _ = struct.unpack(e + "IIII", data[off:off + 16])
            yield s, (frac // 1000 if nano else frac), data[off + 16:off + 16 + cap]
            off += 16 + cap
        return
    if magic != b"\x0a\x0d\x0d\x0a":
        raise SystemExit("not a pcap/pcapng file")
    e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    off, tsres = 0, []
    while off + 12 <= len(data):
        btype, blen = struct.unpack(e + "II", data[off:off + 8])
        body = data[off + 8:off + blen - 4]
        if btype == 0x0A0D0D0A:
            tsres = []
        elif btype == 1:
            res, o = 6, 8
            while o + 4 <= len(body):
                code, ln = struct.unpack(e + "HH", body[o:o + 4])
                if code == 0: break
                if code == 9: res = body[o + 4]
                o += 4 + ((ln + 3) & ~3)
            tsres.append(res)
        elif btype == 6:
            ifc, hi, lo, cap, _ = struct.unpack(e + "IIIII", body[:20])
            ts = (hi << 32) | lo
            r = tsres[ifc] if ifc < len(tsres) else 6
            unit = 10 ** (r & 0x7f) if not r & 0x80 else 2 ** (r & 0x7f)
            yield ts // unit, (ts % unit) * 1_000_000 // unit, body[20:20 + cap]
        off += blen

def main():
    data = open(sys.argv[1], "rb").read()
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for s, us, pkt in packets(data):
        if len(pkt) < 4: continue
        fam = struct.unpack("<I", pkt[:4])[0]
        if fam > 0xFFFF: fam = struct.unpack(">I", pkt[:4])[0]
        et = 0x0800 if fam == 2 else 0x86DD
        frame = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack(">H", et) + pkt[4:]
        out += struct.pack("<IIII", s, us, len(frame), len(frame)) + frame
    open(sys.argv[2], "wb").write(out)

main()
