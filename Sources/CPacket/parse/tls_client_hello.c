/* tls_client_hello.c: ClientHello (RFC 8446 §4.1.2; RFC 5246 §7.4.1.2; DTLS RFC 6347 §4.2.1).
 *   Handshake: msg_type=1 (1) | length (3) [DTLS: message_seq (2) | frag_off (3) | frag_len (3)]
 *   Body: legacy_version (2) | random (32) | session_id <0..32> (1-byte len) [DTLS: cookie <0..255>]
 *         | cipher_suites <2..2^16-2> (2-byte len) | compression <1..255> (1-byte len)
 *         | extensions <0..2^16-1> (2-byte len, absent in pre-TLS-1.0-extension hellos)
 *   Extension: type (2) | length (2) | data. Parsed: 0 server_name, 10 supported_groups,
 *   11 ec_point_formats, 13 signature_algorithms, 16 ALPN, 43 supported_versions. */
#include "tls_common.h"

cp_status cp_tls_handshake_frame(const uint8_t *p, size_t n, uint8_t *type, size_t *msg_len) {
    if (n < 4) return CP_NEED_MORE;
    *type = p[0];
    size_t len = ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if (n - 4 < len) { *msg_len = 4 + len; return CP_NEED_MORE; }
    *msg_len = 4 + len;
    return CP_OK;
}

/* Extensions shared by both hellos. `client` selects the ClientHello encodings (lists vs. selections). */
int cp_tls_extensions(cp_cur *c, int client, cp_tls_hello_rec *h, cp_out *o, uint64_t *anom) {
    uint16_t ext_types[CP_HELLO_LIST_MAX];
    size_t n_ext = 0;
    const uint8_t *sni = NULL;      /* written last: the payload before it does not depend on the name */
    size_t sni_len = 0;
    while (cp_left(c) > 0) {
        uint16_t type = cp_u16be(c), len = cp_u16be(c);
        cp_cur e = cp_sub(c, len);
        if (c->bad) return 0;
        if (n_ext < CP_HELLO_LIST_MAX) ext_types[n_ext++] = type;
        else *anom |= CP_AN(CP_AN_TLS_LIST_CAPPED);
        switch (type) {
        case 0x0000:
            if (client) {
                h->has_sni = 1;
                cp_cur l = cp_sub(&e, cp_u16be(&e));
                while (cp_left(&l) > 0 && !l.bad) {
                    uint8_t nt = cp_u8(&l);
                    uint16_t nl = cp_u16be(&l);
                    cp_cur name = cp_sub(&l, nl);
                    if (l.bad) break;
                    if (nt == 0 && !sni && nl > 0) {
                        sni = name.p;
                        sni_len = nl;
                        for (size_t i = 0; i < nl; i++)
                            if (name.p[i] < 0x21 || name.p[i] > 0x7e) { *anom |= CP_AN(CP_AN_NONPRINTABLE); break; }
                    }
                }
                if (l.bad || e.bad) *anom |= CP_AN(CP_AN_TLS_HELLO_BAD);
            }
            break;
        case 0x000a: {
            cp_cur l = cp_sub(&e, cp_u16be(&e));
            if (e.bad || !cp_tls_put_u16_list(&l, &h->groups, o, anom)) *anom |= CP_AN(CP_AN_TLS_HELLO_BAD);
            break;
        }
        case 0x000b: {
            uint8_t ln = cp_u8(&e);
            cp_cur l = cp_sub(&e, ln);
            if (e.bad) { *anom |= CP_AN(CP_AN_TLS_HELLO_BAD); break; }
            h->ec_formats.off = cp_out_put(o, l.p, ln, 1);
            h->ec_formats.len = o->full ? 0 : ln;
            break;
        }
        case 0x000d: {
            h->has_sig_algs = 1;
            cp_cur l = cp_sub(&e, cp_u16be(&e));
            if (e.bad || !cp_tls_put_u16_list(&l, &h->sig_algs, o, anom)) *anom |= CP_AN(CP_AN_TLS_HELLO_BAD);
            break;
        }
        case 0x0010: {
            h->has_alpn = 1;
            cp_cur l = cp_sub(&e, cp_u16be(&e));
            if (cp_left(&l) > 0) {
                uint8_t pl = cp_u8(&l);
                cp_cur proto = cp_sub(&l, pl);
                if (!l.bad && pl > 0) {
                    h->alpn.off = cp_out_put(o, proto.p, pl, 1);
                    h->alpn.len = o->full ? 0 : pl;
                }
            }
            if (e.bad || l.bad) *anom |= CP_AN(CP_AN_TLS_HELLO_BAD);
            break;
        }
        case 0x002b: {
            h->has_supported_versions = 1;
            if (client) {
                uint8_t ln = cp_u8(&e);
                cp_cur l = cp_sub(&e, ln);
                if (e.bad || !cp_tls_put_u16_list(&l, &h->versions, o, anom)) *anom |= CP_AN(CP_AN_TLS_HELLO_BAD);
            } else {
                uint16_t v = cp_u16be(&e);
                if (e.bad) { *anom |= CP_AN(CP_AN_TLS_HELLO_BAD); break; }
                h->versions.off = cp_out_put(o, &v, 2, 2);
                h->versions.len = o->full ? 0 : 2;
            }
            break;
        }
        default:
            break;
        }
    }
    h->extensions.off = cp_out_put(o, ext_types, n_ext * 2, 2);
    h->extensions.len = o->full ? 0 : (uint16_t)(n_ext * 2);
    if (sni) {
        h->sni.off = cp_out_put(o, sni, sni_len, 1);
        h->sni.len = o->full ? 0 : (uint16_t)sni_len;
    }
    return !c->bad;
}

int cp_tls_put_u16_list(cp_cur *l, cp_span *dst, cp_out *o, uint64_t *anom) {
    uint16_t v[CP_HELLO_LIST_MAX];
    size_t n = 0;
    if (cp_left(l) & 1) return 0;
    while (cp_left(l) >= 2) {
        uint16_t x = cp_u16be(l);
        if (n < CP_HELLO_LIST_MAX) v[n++] = x;
        else *anom |= CP_AN(CP_AN_TLS_LIST_CAPPED);
    }
    dst->off = cp_out_put(o, v, n * 2, 2);
    dst->len = o->full ? 0 : (uint16_t)(n * 2);
    return !l->bad;
}

cp_status cp_tls_client_hello(const uint8_t *msg, size_t n, int dtls, cp_tls_hello_rec *h,
                              cp_out *o, uint64_t *anom) {
    size_t hdr = dtls ? 12 : 4;
    if (n < hdr) return CP_NEED_MORE;
    if (msg[0] != 1) return CP_INVALID;
    size_t len = ((size_t)msg[1] << 16) | ((size_t)msg[2] << 8) | msg[3];
    if (n - hdr < len) return CP_NEED_MORE;
    cp_cur c = cp_cur_make(msg + hdr, len);
    h->legacy_version = cp_u16be(&c);
    cp_skip(&c, 32);
    cp_skip(&c, cp_u8(&c));                      /* session id */
    if (dtls) cp_skip(&c, cp_u8(&c));            /* cookie */
    uint16_t cs_len = cp_u16be(&c);
    cp_cur cs = cp_sub(&c, cs_len);
    cp_skip(&c, cp_u8(&c));                      /* compression methods */
    if (c.bad || (cs_len & 1)) { *anom |= CP_AN(CP_AN_TLS_HELLO_BAD); return CP_INVALID; }
    if (!cp_tls_put_u16_list(&cs, &h->ciphers, o, anom)) { *anom |= CP_AN(CP_AN_TLS_HELLO_BAD); return CP_INVALID; }
    if (cp_left(&c) >= 2) {
        cp_cur ex = cp_sub(&c, cp_u16be(&c));
        if (c.bad) { *anom |= CP_AN(CP_AN_TLS_HELLO_BAD); return CP_INVALID; }
        if (!cp_tls_extensions(&ex, 1, h, o, anom)) { *anom |= CP_AN(CP_AN_TLS_HELLO_BAD); return CP_INVALID; }
    } else {
        h->extensions.off = (uint16_t)o->len; h->extensions.len = 0;
    }
    if (cp_left(&c) > 0) *anom |= CP_AN(CP_AN_TLS_HELLO_BAD);   /* trailing bytes: evidence, not fatal */
    if (o->full) *anom |= CP_AN(CP_AN_TLS_LIST_CAPPED);
    return CP_OK;
}
