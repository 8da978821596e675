/* dtls_handshake.c: DTLS records (RFC 6347 §4.1) and handshake fragments (§4.2.2).
 *   record: type (1) | version (2: 0xfeff 1.0, 0xfefd 1.2, 0xfefc 1.3) | epoch (2) | seq (6) | length (2)
 *   handshake: msg_type (1) | length (3) | message_seq (2) | fragment_offset (3) | fragment_length (3)
 * Only epoch-0 handshake records are readable; fragments of the wanted message type are handed to
 * the caller's reassembly callback (offset relative to the message body). */
#include "cp_parse.h"
#include "cp_anomaly.h"
#include "../util/cp_cursor.h"

static int dtls_version(uint16_t v) { return v == 0xfeff || v == 0xfefd || v == 0xfefc || v == 0x0100; }

int cp_dtls_looks_like_handshake(const uint8_t *p, size_t n) {
    return n >= 13 && p[0] == 22 && dtls_version(cp_rd16(p + 1)) && p[3] == 0 && p[4] == 0;
}

cp_status cp_dtls_datagram(const uint8_t *p, size_t n, uint8_t want_type, cp_crypto_cb cb, void *ctx,
                           uint32_t *msg_len, uint64_t *anom) {
    cp_cur c = cp_cur_make(p, n);
    int found = 0;
    while (cp_left(&c) >= 13) {
        uint8_t type = cp_u8(&c);
        uint16_t ver = cp_u16be(&c);
        uint16_t epoch = cp_u16be(&c);
        cp_skip(&c, 6);
        cp_cur rec = cp_sub(&c, cp_u16be(&c));
        if (c.bad || !dtls_version(ver)) { *anom |= CP_AN(CP_AN_DTLS_BAD); return found ? CP_OK : CP_INVALID; }
        if (type != 22 || epoch != 0) continue;
        while (cp_left(&rec) >= 12) {
            uint8_t mt = cp_u8(&rec);
            uint32_t len = cp_u24be(&rec);
            cp_u16be(&rec);
            uint32_t foff = cp_u24be(&rec), flen = cp_u24be(&rec);
            cp_cur frag = cp_sub(&rec, flen);
            if (rec.bad || foff > len || flen > len - foff) { *anom |= CP_AN(CP_AN_DTLS_BAD); return found ? CP_OK : CP_INVALID; }
            if (mt == want_type) {
                *msg_len = len;
                cb(ctx, foff, frag.p, flen);
                found = 1;
            }
        }
    }
    return found ? CP_OK : CP_INVALID;
}
