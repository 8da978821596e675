#!/usr/bin/env python3
"""gen_capture.py: deterministic large capture from the real-traffic seed (shared/bench/seed.pcap.gz).

Recipe of shared/bench/README.md: the seed is copied N times; copy k rewrites the benchmark addresses
(198.18.0.x -> 198.(18 + k//256).(k%256).x, 2001:db8::x -> 2001:db8:k::x) so flows stay distinct and
fixes the IPv4 header and TCP/UDP/ICMPv6 checksums incrementally (RFC 1624); every fifth copy is
802.1Q-tagged; copy k is shifted by k * SHIFT seconds and all copies are merged in time order.
Only real handshake bytes are used: nothing is invented. Same arguments, same output bytes.

usage: gen_capture.py SEED.pcap[.gz] OUT.pcap [--copies N] [--shift-us US]
"""
import argparse, gzip, heapq, struct, sys


def read_pcap(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic != 0xA1B2C3D4:
        sys.exit("seed must be a little-endian microsecond pcap")
    linktype = struct.unpack_from("<I", data, 20)[0]
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, off)
        pkts.append((sec * 1000000 + usec, data[off + 16: off + 16 + incl], orig))
        off += 16 + incl
    return linktype, pkts


def csum_adjust(csum, old, new):
    """RFC 1624 eqn 3: HC' = ~(~HC + ~m + m') over 16-bit words."""
    s = (~csum) & 0xFFFF
    for i in range(0, len(old), 2):
        s += (~((old[i] << 8) | old[i + 1])) & 0xFFFF
        s += (new[i] << 8) | new[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def rewrite(frame, k):
    b = bytearray(frame)
    if len(b) < 14:
        return b
    et = (b[12] << 8) | b[13]
    ip = 14
    if et == 0x0800 and len(b) >= ip + 20:
        ihl = (b[ip] & 15) * 4
        changed = False
        for a in (ip + 12, ip + 16):
            if b[a] == 198 and b[a + 1] == 18 and b[a + 2] == 0:
                old = bytes(b[a:a + 4])
                b[a + 1] = 18 + (k >> 8)
                b[a + 2] = k & 0xFF
                new = bytes(b[a:a + 4])
                hc = (b[ip + 10] << 8) | b[ip + 11]
                hc = csum_adjust(hc, old, new)
                b[ip + 10], b[ip + 11] = hc >> 8, hc & 0xFF
                proto, l4 = b[ip + 9], ip + ihl
                frag = ((b[ip + 6] << 8) | b[ip + 7]) & 0x1FFF
                pos = {6: 16, 17: 6}.get(proto)
                if pos is not None and frag == 0 and len(b) >= l4 + pos + 2:
                    c = (b[l4 + pos] << 8) | b[l4 + pos + 1]
                    if not (proto == 17 and c == 0):
                        c = csum_adjust(c, old, new)
                        if proto == 17 and c == 0:
                            c = 0xFFFF
                        b[l4 + pos], b[l4 + pos + 1] = c >> 8, c & 0xFF
                changed = True
        return b
    if et == 0x86DD and len(b) >= ip + 40:
        nxt = b[ip + 6]
        for a in (ip + 8, ip + 24):
            if b[a:a + 4] == b"\x20\x01\x0d\xb8" and b[a + 4:a + 6] == b"\x00\x00":
                old = bytes(b[a + 4:a + 6])
                new = bytes([k >> 8, k & 0xFF])
                b[a + 4:a + 6] = new
                pos = {6: 16, 17: 6, 58: 2}.get(nxt)
                l4 = ip + 40
                if pos is not None and len(b) >= l4 + pos + 2:
                    c = (b[l4 + pos] << 8) | b[l4 + pos + 1]
                    c = csum_adjust(c, old, new)
                    b[l4 + pos], b[l4 + pos + 1] = c >> 8, c & 0xFF
    return b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("seed")
    ap.add_argument("out")
    ap.add_argument("--copies", type=int, default=300)
    ap.add_argument("--shift-us", type=int, default=100000)
    a = ap.parse_args()
    if not 1 <= a.copies <= 512:
        sys.exit("--copies must be 1..512 (address plan)")
    linktype, seed = read_pcap(a.seed)
    t0 = seed[0][0]

    def copy(k):
        tag = k % 5 == 4
        vlan = struct.pack(">HH", 0x8100, 100 + k % 4000)
        for ts, frame, orig in seed:
            f = rewrite(frame, k)
            if tag and len(f) >= 14:
                f = f[:12] + vlan + f[12:]
                orig += 4
            yield (ts - t0 + k * a.shift_us, k, bytes(f), orig)

    n = 0
    with open(a.out, "wb", buffering=1 << 22) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        base = 1_700_000_000 * 1000000
        for ts, _, f, orig in heapq.merge(*(copy(k) for k in range(a.copies))):
            t = base + ts
            out.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(f), orig))
            out.write(f)
            n += 1
    print(f"gen_capture: {n} packets, {a.copies} copies -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
