/* tls_server_hello.c: ServerHello (RFC 8446 §4.1.3; RFC 5246 §7.4.1.3), HelloRetryRequest included.
 *   Body: legacy_version (2) | random (32) | session_id <0..32> | cipher_suite (2) |
 *         compression (1) | extensions <0..2^16-1> (optional before TLS 1.2)
 *   A HelloRetryRequest is a ServerHello whose random is SHA-256("HelloRetryRequest"). */
#include "tls_common.h"
#include <string.h>

static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

cp_status cp_tls_server_hello(const uint8_t *msg, size_t n, int dtls, cp_tls_hello_rec *h,
                              cp_out *o, uint64_t *anom, int *is_hrr) {
    size_t hdr = dtls ? 12 : 4;
    if (n < hdr) return CP_NEED_MORE;
    if (msg[0] != 2) return CP_INVALID;
    size_t len = ((size_t)msg[1] << 16) | ((size_t)msg[2] << 8) | msg[3];
    if (n - hdr < len) return CP_NEED_MORE;
    cp_cur c = cp_cur_make(msg + hdr, len);
    h->legacy_version = cp_u16be(&c);
    *is_hrr = cp_need(&c, 32) && memcmp(cp_here(&c), hrr_random, 32) == 0;
    cp_skip(&c, 32);
    cp_skip(&c, cp_u8(&c));
    h->cipher = cp_u16be(&c);
    cp_skip(&c, 1);
    if (c.bad) { *anom |= CP_AN(CP_AN_TLS_HELLO_BAD); return CP_INVALID; }
    h->ciphers.off = cp_out_put(o, &h->cipher, 2, 2);
    h->ciphers.len = o->full ? 0 : 2;
    if (cp_left(&c) >= 2) {
        cp_cur ex = cp_sub(&c, cp_u16be(&c));
        if (c.bad || !cp_tls_extensions(&ex, 0, h, o, anom)) { *anom |= CP_AN(CP_AN_TLS_HELLO_BAD); return CP_INVALID; }
    } else {
        h->extensions.off = (uint16_t)o->len; h->extensions.len = 0;
    }
    if (cp_left(&c) > 0) *anom |= CP_AN(CP_AN_TLS_HELLO_BAD);
    return CP_OK;
}
