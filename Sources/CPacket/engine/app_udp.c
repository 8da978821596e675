/* app_udp.c: UDP flows. The first datagrams decide what the flow is: a QUIC Initial (client side),
 * a DTLS handshake record, or an HTTP request line (SSDP and friends); otherwise the flow is only
 * counted. QUIC and DTLS hellos are reassembled by offset and parsed like TLS ones. */
#include "app.h"
#include <stdlib.h>
#include <string.h>

void cp_count_anoms(cp_engine *e, uint64_t bits);

enum { UDP_UNKNOWN = 0, UDP_QUIC, UDP_DTLS, UDP_HTTP, UDP_DONE };
#define UDP_DETECT_TRIES 4

typedef struct rctx { cp_dir *s; } rctx;

static void on_crypto(void *vctx, uint64_t off, const uint8_t *d, size_t n) {
    rctx *c = vctx;
    if (!c->s->crypto) { c->s->crypto = calloc(1, sizeof(cp_reasm)); if (!c->s->crypto) return; }
    cp_reasm_put(c->s->crypto, off, d, n);
}

static void quic(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p) {
    cp_flow_rec *sum = &f->sum;
    int from_server = dir != sum->client_dir;
    cp_dir *s = &f->d[dir];
    if (s->done && sum->q_d) return;
    rctx c = { s };
    cp_quic_info info;
    uint64_t an = 0;
    cp_quic_datagram(p->payload, p->payload_len, f->quic_odcid, f->quic_odcid_len, from_server,
                     s->done ? NULL : on_crypto, &c, &info, &an);
    if (an) { f->anomalies |= an; cp_count_anoms(e, an); }
    /* JA4L over QUIC, keyed on each datagram's first long-header packet: A client Initial,
     * B server Initial, C last server Handshake before D, D first client Handshake. */
    switch (f->app_state) {
    case 0: if (!from_server && info.first_type == 0) { sum->q_a = e->pkt_ns; sum->quic_ttl_c = p->outer_ttl; f->app_state = 1; } break;
    case 1: if (from_server && info.first_type == 0) { sum->q_b = e->pkt_ns; sum->quic_ttl_s = p->outer_ttl; f->app_state = 2; } break;
    case 2: if (from_server && info.first_type == 2) { sum->q_c = e->pkt_ns; f->app_state = 3; } break;
    case 3:
        if (from_server && info.first_type == 2) sum->q_c = e->pkt_ns;
        else if (!from_server && info.first_type == 2) { sum->q_d = e->pkt_ns; f->app_state = 4; }
        break;
    default: break;
    }
    if (s->done || !s->crypto) return;
    uint8_t type;
    size_t ml = 0;
    if (cp_tls_handshake_frame(s->crypto->data, s->crypto->contiguous, &type, &ml) == CP_OK) {
        cp_emit_hello(e, f, dir, s->crypto->data, ml, type == 2, 0, CP_RF_QUIC);
        s->done = 1;
        free(s->crypto);
        s->crypto = NULL;
    } else if (ml > CP_REASM_CAP) {
        s->done = 1;
    }
}

static void dtls(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p) {
    cp_dir *s = &f->d[dir];
    if (s->done) return;
    int from_server = dir != f->sum.client_dir;
    rctx c = { s };
    uint64_t an = 0;
    uint32_t ml = 0;
    if (cp_dtls_datagram(p->payload, p->payload_len, from_server ? 2 : 1, on_crypto, &c, &ml, &an) != CP_OK) {
        if (an) { f->anomalies |= an; cp_count_anoms(e, an); }
        return;
    }
    if (ml) s->crypto_msg_len = ml;
    if (!s->crypto || s->crypto_msg_len == 0 || s->crypto->contiguous < s->crypto_msg_len) {
        if (s->crypto_msg_len > CP_REASM_CAP) s->done = 1;
        return;
    }
    /* Rebuild a DTLS handshake header (12 bytes) in front of the reassembled body. */
    size_t n = 12 + (size_t)s->crypto_msg_len;
    uint8_t *msg = malloc(n);
    if (msg) {
        uint32_t L = s->crypto_msg_len;
        uint8_t h[12] = { (uint8_t)(from_server ? 2 : 1), (uint8_t)(L >> 16), (uint8_t)(L >> 8), (uint8_t)L, 0, 0,
                          0, 0, 0, (uint8_t)(L >> 16), (uint8_t)(L >> 8), (uint8_t)L };
        memcpy(msg, h, 12);
        memcpy(msg + 12, s->crypto->data, L);
        cp_emit_hello(e, f, dir, msg, n, from_server, 1, CP_RF_DTLS);
        free(msg);
    }
    s->done = 1;
    free(s->crypto);
    s->crypto = NULL;
}

static void http(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p) {
    if (cp_http_looks_like_request(p->payload, p->payload_len) != 1) return;
    size_t used = 0;
    uint64_t body = 0;
    cp_emit_http(e, f, dir, p->payload, p->payload_len, &used, &body);   /* one request per datagram */
}

void cp_udp_packet(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p) {
    if (f->udp_app == UDP_DONE || p->payload_len == 0) return;
    if (f->udp_app == UDP_UNKNOWN) {
        const uint8_t *q = p->payload;
        size_t n = p->payload_len;
        if (dir == f->sum.client_dir && cp_quic_looks_like_initial(q, n)) {
            f->udp_app = UDP_QUIC;
            f->quic_odcid_len = q[5];
            memcpy(f->quic_odcid, q + 6, q[5]);
        } else if (cp_dtls_looks_like_handshake(q, n)) {
            f->udp_app = UDP_DTLS;
        } else if (cp_http_looks_like_request(q, n) == 1) {
            f->udp_app = UDP_HTTP;
        } else {
            if (++f->d[dir].n_pkts_udp >= UDP_DETECT_TRIES) f->udp_app = UDP_DONE;
            return;
        }
    }
    switch (f->udp_app) {
    case UDP_QUIC: quic(e, f, dir, p); break;
    case UDP_DTLS: dtls(e, f, dir, p); break;
    case UDP_HTTP: http(e, f, dir, p); break;
    default: break;
    }
}
