/* decode_int.h: internal entry points between the per-header decoders. */
#ifndef CP_DECODE_INT_H
#define CP_DECODE_INT_H
#include "cp_decode.h"
#include "cp_anomaly.h"
#include "../util/cp_cursor.h"

#define CP_MAX_TUNNEL_DEPTH 8

int cp_decode_ethertype(cp_cur *c, uint16_t et, cp_pkt *o, int depth);
int cp_decode_eth(cp_cur *c, cp_pkt *o, int depth);
int cp_decode_ipv4(cp_cur *c, cp_pkt *o, int depth);
int cp_decode_ipv6(cp_cur *c, cp_pkt *o, int depth);
/* L4 over the IP payload `c` (already narrowed to the IP payload length). */
int cp_decode_l4(cp_cur *c, uint8_t proto, cp_pkt *o, int depth);
int cp_decode_gre(cp_cur *c, cp_pkt *o, int depth);
/* UDP tunnels: returns 1 if the datagram was a tunnel and the inner packet decoded, 0 if not a tunnel. */
int cp_decode_udp_tunnel(const uint8_t *p, size_t n, uint16_t sport, uint16_t dport, cp_pkt *o, int depth);
#endif
