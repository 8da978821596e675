/* l4.c: transport headers. TCP (RFC 9293): |sport|dport|seq|ack|doff4 rsv3 NS|flags8|win|csum|urg|opts
 * UDP (RFC 768): |sport|dport|len|csum|. ICMP/ICMPv6 mark the packet so that TCP headers quoted inside
 * ICMP errors are never fingerprinted. IP-in-IP (4) and 6in4 (41) and GRE (47) recurse into tunnels. */
#include "decode_int.h"
#include <string.h>

static int tcp(cp_cur *c, cp_pkt *o) {
    if (!cp_need(c, 20)) { o->anomalies |= CP_AN(CP_AN_TCP_BAD_DOFF); return 0; }
    const uint8_t *h = cp_here(c);
    unsigned doff = (unsigned)(h[12] >> 4) * 4u;
    if (doff < 20 || !cp_need(c, doff)) { o->anomalies |= CP_AN(CP_AN_TCP_BAD_DOFF); return 0; }
    o->sport = cp_rd16(h);
    o->dport = cp_rd16(h + 2);
    o->seq = cp_rd32(h + 4);
    o->ack = cp_rd32(h + 8);
    o->tcp_flags = (uint16_t)(((h[12] & 1) << 8) | h[13]);
    o->window = cp_rd16(h + 14);
    o->urg_ptr = cp_rd16(h + 18);
    o->tcp_opt_len = (uint8_t)(doff - 20);
    o->tcp_opts = h + 20;
    cp_skip(c, doff);
    o->payload = cp_here(c);
    o->payload_len = (uint32_t)cp_left(c);
    o->has_l4 = 1;
    uint16_t f = o->tcp_flags & 0x3f;
    if (((f & CP_TH_SYN) && (f & (CP_TH_FIN | CP_TH_RST))) || f == 0 ||
        (f & (CP_TH_FIN | CP_TH_PSH | CP_TH_URG)) == (CP_TH_FIN | CP_TH_PSH | CP_TH_URG))
        o->anomalies |= CP_AN(CP_AN_TCP_FLAGS_ODD);
    return 1;
}

static int udp(cp_cur *c, cp_pkt *o, int depth) {
    if (!cp_need(c, 8)) { o->anomalies |= CP_AN(CP_AN_UDP_BAD_LEN); return 0; }
    const uint8_t *h = cp_here(c);
    uint16_t len = cp_rd16(h + 4);
    cp_skip(c, 8);
    size_t avail = cp_left(c);
    size_t plen = avail;
    if (len < 8) o->anomalies |= CP_AN(CP_AN_UDP_BAD_LEN);
    else if ((size_t)(len - 8) > avail) o->anomalies |= CP_AN(CP_AN_UDP_BAD_LEN);
    else plen = (size_t)(len - 8);
    uint16_t sport = cp_rd16(h), dport = cp_rd16(h + 2);
    if (cp_decode_udp_tunnel(cp_here(c), plen, sport, dport, o, depth)) return 1;
    o->sport = sport;
    o->dport = dport;
    o->payload = cp_here(c);
    o->payload_len = (uint32_t)plen;
    o->has_l4 = 1;
    return 1;
}

int cp_decode_l4(cp_cur *c, uint8_t proto, cp_pkt *o, int depth) {
    switch (proto) {
    case 6: return tcp(c, o);
    case 17: return udp(c, o, depth);
    case 1: case 58: o->is_icmp = 1; return 0;
    case 4: case 41: case 47: {
        if (depth + 1 > CP_MAX_TUNNEL_DEPTH) { o->anomalies |= CP_AN(CP_AN_TUNNEL_DEPTH); return 0; }
        /* Decode the inner packet into a scratch view; keep the outer one if the inner is not usable. */
        cp_pkt in = *o;
        in.has_l4 = 0;
        in.tunnel_depth = (uint8_t)(depth + 1);
        int ok = proto == 4 ? cp_decode_ipv4(c, &in, depth + 1)
               : proto == 41 ? cp_decode_ipv6(c, &in, depth + 1)
               : cp_decode_gre(c, &in, depth + 1);
        if (ok && in.ip_version) { uint64_t a = o->anomalies | in.anomalies; *o = in; o->anomalies = a; return 1; }
        o->anomalies |= in.anomalies;
        return 0;
    }
    default:
        return 0;
    }
}
