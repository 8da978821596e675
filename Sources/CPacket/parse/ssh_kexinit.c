/* ssh_kexinit.c: first binary packet after the banners (RFC 4253 §6) carrying SSH_MSG_KEXINIT (§7.1).
 *   packet: uint32 packet_length | byte padding_length | payload | padding   (no MAC before NEWKEYS)
 *   payload: byte 20 | cookie[16] | 10 x name-list (uint32 len + ASCII) | boolean first_kex_follows
 *            | uint32 reserved */
#include "cp_parse.h"
#include "cp_anomaly.h"
#include "../util/cp_cursor.h"

#define SSH_PACKET_MAX 35000u

cp_status cp_ssh_kexinit(const uint8_t *p, size_t n, cp_kexinit_rec *k, cp_out *o, size_t *used, uint64_t *anom) {
    if (n < 6) return CP_NEED_MORE;
    uint32_t plen = cp_rd32(p);
    uint8_t pad = p[4];
    if (plen > SSH_PACKET_MAX || plen < (uint32_t)pad + 2) { *anom |= CP_AN(CP_AN_SSH_KEXINIT_BAD); return CP_INVALID; }
    if (p[5] != 20) { *anom |= CP_AN(CP_AN_SSH_KEXINIT_BAD); return CP_INVALID; }
    if (n - 4 < plen) return CP_NEED_MORE;
    cp_cur c = cp_cur_make(p + 6, plen - pad - 2);
    cp_skip(&c, 16);
    for (int i = 0; i < 10; i++) {
        uint32_t l = cp_u32be(&c);
        cp_cur s = cp_sub(&c, l);
        if (c.bad) { *anom |= CP_AN(CP_AN_SSH_KEXINIT_BAD); return CP_INVALID; }
        for (size_t j = 0; j < l; j++)
            if (s.p[j] < 0x20 || s.p[j] > 0x7e) { *anom |= CP_AN(CP_AN_NONPRINTABLE); break; }
        k->lists[i].off = cp_out_put(o, s.p, l, 1);
        k->lists[i].len = o->full ? 0 : (uint16_t)l;
    }
    k->first_kex_follows = cp_u8(&c);
    cp_u32be(&c);
    if (c.bad) *anom |= CP_AN(CP_AN_SSH_KEXINIT_BAD);
    if (o->full) *anom |= CP_AN(CP_AN_SSH_KEXINIT_BAD);
    *used = 4 + (size_t)plen;
    return CP_OK;
}
