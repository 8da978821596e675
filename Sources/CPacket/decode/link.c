/* link.c: link layers: Ethernet II (802.3 length frames skipped), 802.1Q / 802.1ad QinQ stacks,
 * Linux SLL (16-byte header, protocol at 14) and SLL2 (20-byte, protocol at 0), BSD NULL/LOOP
 * (4-byte address family) and raw IP link types. Hands the network layer to decode_ether(). */
#include "decode_int.h"

/* Ethertype dispatch shared by every link layer and by GRE/VXLAN/Geneve inner frames. */
int cp_decode_ethertype(cp_cur *c, uint16_t et, cp_pkt *o, int depth) {
    switch (et) {
    case 0x0800: return cp_decode_ipv4(c, o, depth);
    case 0x86DD: return cp_decode_ipv6(c, o, depth);
    default: return 0;
    }
}

/* Ethernet frame starting at the cursor: dst, src, [VLAN tags], ethertype. */
int cp_decode_eth(cp_cur *c, cp_pkt *o, int depth) {
    cp_skip(c, 12);
    uint16_t et = cp_u16be(c);
    int tags = 0;
    while (!c->bad && (et == 0x8100 || et == 0x88A8 || et == 0x9100 || et == 0x9200)) {
        if (++tags > 4) { o->anomalies |= CP_AN(CP_AN_VLAN_DEPTH); return 0; }
        cp_skip(c, 2);           /* TCI */
        et = cp_u16be(c);
    }
    if (c->bad) { o->anomalies |= CP_AN(CP_AN_L2_TRUNCATED); return 0; }
    if (et < 0x0600) return 0;   /* 802.3 length field: LLC, not IP */
    return cp_decode_ethertype(c, et, o, depth);
}

static int from_family(cp_cur *c, uint32_t fam, cp_pkt *o) {
    /* AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24/28/30 (BSDs, macOS). */
    if (fam == 2) return cp_decode_ipv4(c, o, 0);
    if (fam == 10 || fam == 24 || fam == 28 || fam == 30) return cp_decode_ipv6(c, o, 0);
    return 0;
}

static int raw_ip(cp_cur *c, cp_pkt *o) {
    if (!cp_need(c, 1)) { o->anomalies |= CP_AN(CP_AN_L2_TRUNCATED); return 0; }
    uint8_t v = cp_here(c)[0] >> 4;
    if (v == 4) return cp_decode_ipv4(c, o, 0);
    if (v == 6) return cp_decode_ipv6(c, o, 0);
    o->anomalies |= CP_AN(CP_AN_IP_BAD_VERSION);
    return 0;
}

int cp_decode(const uint8_t *data, uint32_t caplen, uint32_t linktype, cp_pkt *o) {
    cp_cur c = cp_cur_make(data, caplen);
    switch (linktype) {
    case 1: return cp_decode_eth(&c, o, 0);
    case 113: {
        cp_skip(&c, 14);
        uint16_t et = cp_u16be(&c);
        if (c.bad) { o->anomalies |= CP_AN(CP_AN_L2_TRUNCATED); return 0; }
        return cp_decode_ethertype(&c, et, o, 0);
    }
    case 276: {
        uint16_t et = cp_u16be(&c);
        cp_skip(&c, 18);
        if (c.bad) { o->anomalies |= CP_AN(CP_AN_L2_TRUNCATED); return 0; }
        return cp_decode_ethertype(&c, et, o, 0);
    }
    case 0: {   /* NULL: family in host byte order of the capturing machine: accept both */
        if (!cp_need(&c, 4)) { o->anomalies |= CP_AN(CP_AN_L2_TRUNCATED); return 0; }
        const uint8_t *q = cp_here(&c);
        uint32_t le = q[0] | (q[1] << 8) | (q[2] << 16) | ((uint32_t)q[3] << 24);
        cp_skip(&c, 4);
        return from_family(&c, le < 256 ? le : __builtin_bswap32(le), o);
    }
    case 108: {  /* LOOP: network byte order */
        uint32_t fam = cp_u32be(&c);
        if (c.bad) { o->anomalies |= CP_AN(CP_AN_L2_TRUNCATED); return 0; }
        return from_family(&c, fam, o);
    }
    case 12: case 14: case 101: case 228: case 229:
        return raw_ip(&c, o);
    default:
        return 0;
    }
}
