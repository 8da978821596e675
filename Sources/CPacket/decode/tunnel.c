/* tunnel.c: encapsulations unwrapped to reach the innermost IP header.
 *  GRE (RFC 2784/2890, v1 RFC 2637): |C R K S rsv|ver3|proto16| [csum+rsv] [key] [seq] ([ack] v1)
 *    proto 0x0800/0x86DD IP, 0x6558 Ethernet, 0x880B PPP (PPTP), 0x88BE ERSPAN I (no S) / II (S set:
 *    8-byte header), 0x22EB ERSPAN III (12-byte header, +8 platform subheader when O is set).
 *  VXLAN (RFC 7348, UDP 4789): |flags I=0x08|rsv24|VNI24|rsv8| then Ethernet.
 *  Geneve (RFC 8926, UDP 6081): |ver2 optlen6|O C rsv|proto16|VNI24|rsv8| options(optlen*4). */
#include "decode_int.h"

/* GRE / Geneve protocol field: an ethertype, where 0x6558 means a whole Ethernet frame follows. */
static int payload_proto(cp_cur *c, uint16_t proto, cp_pkt *o, int depth) {
    return proto == 0x6558 ? cp_decode_eth(c, o, depth) : cp_decode_ethertype(c, proto, o, depth);
}

int cp_decode_gre(cp_cur *c, cp_pkt *o, int depth) {
    uint16_t fl = cp_u16be(c), proto = cp_u16be(c);
    if (c->bad) { o->anomalies |= CP_AN(CP_AN_TUNNEL_BAD); return 0; }
    unsigned ver = fl & 7;
    if (fl & 0x8000) cp_skip(c, 4);
    if (fl & 0x2000) cp_skip(c, 4);
    if (fl & 0x1000) cp_skip(c, 4);
    if (ver == 1 && (fl & 0x0080)) cp_skip(c, 4);
    if (c->bad || ver > 1) { o->anomalies |= CP_AN(CP_AN_TUNNEL_BAD); return 0; }
    switch (proto) {
    case 0x88BE:
        if (fl & 0x1000) cp_skip(c, 8);          /* ERSPAN II header; type I has none */
        break;
    case 0x22EB: {
        if (!cp_need(c, 12)) { o->anomalies |= CP_AN(CP_AN_TUNNEL_BAD); return 0; }
        uint8_t last = cp_here(c)[11];
        cp_skip(c, 12);
        if (last & 1) cp_skip(c, 8);
        break;
    }
    case 0x880B: {                               /* PPP: optional FF 03, then protocol */
        if (cp_need(c, 2) && cp_here(c)[0] == 0xff && cp_here(c)[1] == 0x03) cp_skip(c, 2);
        uint16_t pp = cp_need(c, 1) && (cp_here(c)[0] & 1) ? cp_u8(c) : cp_u16be(c);
        if (c->bad) { o->anomalies |= CP_AN(CP_AN_TUNNEL_BAD); return 0; }
        if (pp == 0x21) return cp_decode_ipv4(c, o, depth);
        if (pp == 0x57) return cp_decode_ipv6(c, o, depth);
        return 0;
    }
    default:
        return payload_proto(c, proto, o, depth);
    }
    if (c->bad) { o->anomalies |= CP_AN(CP_AN_TUNNEL_BAD); return 0; }
    return cp_decode_eth(c, o, depth);
}

int cp_decode_udp_tunnel(const uint8_t *p, size_t n, uint16_t sport, uint16_t dport, cp_pkt *o, int depth) {
    /* Encapsulators pick the source port freely, so either port may name the tunnel. */
    if (dport != 4789 && dport != 6081) dport = sport;
    if (dport != 4789 && dport != 6081) return 0;
    if (depth + 1 > CP_MAX_TUNNEL_DEPTH) { o->anomalies |= CP_AN(CP_AN_TUNNEL_DEPTH); return 0; }
    cp_cur c = cp_cur_make(p, n);
    cp_pkt in = *o;
    in.has_l4 = 0;
    in.tunnel_depth = (uint8_t)(depth + 1);
    int ok = 0;
    if (dport == 4789) {
        uint8_t flags = cp_u8(&c);
        cp_skip(&c, 7);
        if (c.bad || !(flags & 0x08)) return 0;   /* not VXLAN after all: leave it as UDP */
        ok = cp_decode_eth(&c, &in, depth + 1);
    } else {
        uint8_t b0 = cp_u8(&c);
        cp_skip(&c, 1);
        uint16_t proto = cp_u16be(&c);
        cp_skip(&c, 4);
        if (c.bad || (b0 >> 6) != 0) return 0;
        cp_skip(&c, (size_t)(b0 & 0x3f) * 4);
        if (c.bad) { o->anomalies |= CP_AN(CP_AN_TUNNEL_BAD); return 0; }
        ok = payload_proto(&c, proto, &in, depth + 1);
    }
    if (ok && in.ip_version) {
        uint64_t a = o->anomalies | in.anomalies;
        *o = in;
        o->anomalies = a;
        return 1;
    }
    o->anomalies |= in.anomalies;
    return 0;
}
