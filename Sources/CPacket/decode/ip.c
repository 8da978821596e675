/* ip.c: IPv4 (RFC 791) and IPv6 (RFC 8200) with extension headers.
 * Each call overwrites the packet view's IP fields, so after tunnels the view holds the innermost
 * header. Ethernet padding is removed by trusting the IP length fields, not the captured length.
 *
 *  IPv4: |ver4 ihl4|tos|totlen16|id16|flags3 frag13|ttl|proto|csum16|src32|dst32|options...
 *  IPv6: |ver4 tc8 flow20|paylen16|next8|hlim8|src128|dst128|  then extension headers:
 *        hop-by-hop 0, routing 43, fragment 44 (8 bytes), dest-opts 60, AH 51 (len*4+8), mobility 135 */
#include "decode_int.h"
#include <string.h>

int cp_decode_ipv4(cp_cur *c, cp_pkt *o, int depth) {
    if (!cp_need(c, 20)) { o->anomalies |= CP_AN(CP_AN_IP_TRUNCATED); return 0; }
    const uint8_t *h = cp_here(c);
    if ((h[0] >> 4) != 4) { o->anomalies |= CP_AN(CP_AN_IP_BAD_VERSION); return 0; }
    unsigned ihl = (unsigned)(h[0] & 0x0f) * 4u;
    uint16_t tot = cp_rd16(h + 2);
    if (ihl < 20 || !cp_need(c, ihl)) { o->anomalies |= CP_AN(CP_AN_IP_BAD_HLEN); return 0; }
    size_t avail = cp_left(c);
    if (tot < ihl) { o->anomalies |= CP_AN(CP_AN_IP_BAD_TOTLEN); return 0; }
    if (tot > avail) { o->anomalies |= CP_AN(CP_AN_IP_BAD_TOTLEN); tot = (uint16_t)avail; }  /* snaplen cut */
    o->ip_version = 4;
    o->tos = h[1];
    o->ip_id = cp_rd16(h + 4);
    uint16_t ff = cp_rd16(h + 6);
    o->ipv4_flags = (uint8_t)(((ff & 0x8000) ? 1 : 0) | ((ff & 0x4000) ? 2 : 0) | ((ff & 0x2000) ? 4 : 0));
    o->ttl = h[8];
    if (depth == 0) o->outer_ttl = h[8];
    o->proto = h[9];
    memset(o->src, 0, 16); memset(o->dst, 0, 16);
    memcpy(o->src, h + 12, 4);
    memcpy(o->dst, h + 16, 4);
    o->ip_hdr_len = (uint8_t)ihl;
    o->flow_label = 0;
    o->has_l4 = 0;
    uint16_t fragoff = ff & 0x1fff;
    if (fragoff || (ff & 0x2000)) o->anomalies |= CP_AN(CP_AN_IP_FRAGMENT);
    o->fragment = fragoff != 0;
    cp_skip(c, ihl);
    cp_cur pl = cp_sub(c, tot - ihl);
    if (o->fragment) return 1;       /* no L4 header in a non-first fragment */
    cp_decode_l4(&pl, o->proto, o, depth);
    return 1;
}

int cp_decode_ipv6(cp_cur *c, cp_pkt *o, int depth) {
    if (!cp_need(c, 40)) { o->anomalies |= CP_AN(CP_AN_IP_TRUNCATED); return 0; }
    const uint8_t *h = cp_here(c);
    if ((h[0] >> 4) != 6) { o->anomalies |= CP_AN(CP_AN_IP_BAD_VERSION); return 0; }
    uint32_t w0 = cp_rd32(h);
    uint16_t plen = cp_rd16(h + 4);
    o->ip_version = 6;
    o->tos = (uint8_t)((w0 >> 20) & 0xff);
    o->flow_label = w0 & 0xfffff;
    o->ttl = h[7];
    if (depth == 0) o->outer_ttl = h[7];
    memcpy(o->src, h + 8, 16);
    memcpy(o->dst, h + 24, 16);
    o->ip_hdr_len = 40;
    o->ipv4_flags = 0;
    o->ip_id = 0;
    o->fragment = 0;
    o->has_l4 = 0;
    uint8_t next = h[6];
    cp_skip(c, 40);
    size_t avail = cp_left(c);
    if (plen > avail) { o->anomalies |= CP_AN(CP_AN_IP_BAD_TOTLEN); plen = (uint16_t)avail; }
    /* plen 0 with hop-by-hop = jumbogram; treat the rest of the capture as payload. */
    cp_cur pl = cp_sub(c, plen == 0 ? avail : plen);
    for (int n = 0; n < 8; n++) {
        switch (next) {
        case 0: case 43: case 60: case 135: {
            if (!cp_need(&pl, 2)) { o->anomalies |= CP_AN(CP_AN_IPV6_EXT_BAD); o->proto = next; return 1; }
            uint8_t nx = cp_here(&pl)[0];
            size_t len = ((size_t)cp_here(&pl)[1] + 1) * 8;
            cp_skip(&pl, len);
            if (pl.bad) { o->anomalies |= CP_AN(CP_AN_IPV6_EXT_BAD); o->proto = next; return 1; }
            next = nx;
            continue;
        }
        case 51: {
            if (!cp_need(&pl, 2)) { o->anomalies |= CP_AN(CP_AN_IPV6_EXT_BAD); o->proto = next; return 1; }
            uint8_t nx = cp_here(&pl)[0];
            size_t len = ((size_t)cp_here(&pl)[1] + 2) * 4;
            cp_skip(&pl, len);
            if (pl.bad) { o->anomalies |= CP_AN(CP_AN_IPV6_EXT_BAD); o->proto = next; return 1; }
            next = nx;
            continue;
        }
        case 44: {
            if (!cp_need(&pl, 8)) { o->anomalies |= CP_AN(CP_AN_IPV6_EXT_BAD); o->proto = next; return 1; }
            const uint8_t *fh = cp_here(&pl);
            uint16_t offm = cp_rd16(fh + 2);
            o->anomalies |= CP_AN(CP_AN_IP_FRAGMENT);
            next = fh[0];
            cp_skip(&pl, 8);
            if ((offm & 0xfff8) != 0) { o->fragment = 1; o->proto = next; return 1; }
            continue;
        }
        default:
            o->proto = next;
            cp_decode_l4(&pl, next, o, depth);
            return 1;
        }
    }
    o->anomalies |= CP_AN(CP_AN_IPV6_EXT_BAD);
    o->proto = next;
    return 1;
}
