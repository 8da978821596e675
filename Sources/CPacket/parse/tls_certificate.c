/* tls_certificate.c: Certificate handshake message (RFC 5246 §7.4.2; RFC 8446 §4.4.2).
 *   TLS 1.2: certificate_list <0..2^24-1> of ASN.1Cert <1..2^24-1> (3-byte length + DER)
 *   TLS 1.3: certificate_request_context <0..255> | certificate_list of
 *            { cert_data <1..2^24-1>, extensions <0..2^16-1> } */
#include "cp_parse.h"
#include "cp_anomaly.h"
#include "../util/cp_cursor.h"

cp_status cp_tls_certificate(const uint8_t *msg, size_t n, int tls13, cp_cert_cb cb, void *ctx, uint64_t *anom) {
    if (n < 4) return CP_NEED_MORE;
    if (msg[0] != 11) return CP_INVALID;
    size_t len = ((size_t)msg[1] << 16) | ((size_t)msg[2] << 8) | msg[3];
    if (n - 4 < len) return CP_NEED_MORE;
    cp_cur c = cp_cur_make(msg + 4, len);
    if (tls13) cp_skip(&c, cp_u8(&c));
    cp_cur list = cp_sub(&c, cp_u24be(&c));
    if (c.bad) { *anom |= CP_AN(CP_AN_TLS_CERT_BAD); return CP_INVALID; }
    while (cp_left(&list) > 0) {
        uint32_t cl = cp_u24be(&list);
        cp_cur der = cp_sub(&list, cl);
        if (tls13) cp_skip(&list, cp_u16be(&list));
        if (list.bad || cl == 0) { *anom |= CP_AN(CP_AN_TLS_CERT_BAD); return CP_INVALID; }
        cb(ctx, der.p, der.len);
    }
    return CP_OK;
}
