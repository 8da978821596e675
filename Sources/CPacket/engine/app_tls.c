/* app_tls.c: TLS over TCP for the sensor: records, handshake messages joined across records (and read from
 * a TLS 1.3 server flight when the capture carries its key), ClientHello/ServerHello/Certificate records. */
#include "app.h"
#include <string.h>

#define TLS_HS_CAP 65536u
#define MAX_HELLOS 4

/* Emit a hello record parsed straight into the slot. Returns 1 if it was a HelloRetryRequest. */
int cp_emit_hello(cp_engine *e, cp_flow *f, int dir, const uint8_t *msg, size_t n, int server, int dtls, uint8_t rflags) {
    cp_out o;
    cp_record *r = cp_rec_begin(e, f, server ? CP_REC_TLS_SERVER_HELLO : CP_REC_TLS_CLIENT_HELLO, dir, &o,
                                sizeof(cp_tls_hello_rec));
    if (!r) return 0;
    cp_tls_hello_rec h;
    memset(&h, 0, sizeof h);
    uint64_t an = 0;
    int hrr = 0;
    cp_status st = server ? cp_tls_server_hello(msg, n, dtls, &h, &o, &an, &hrr)
                          : cp_tls_client_hello(msg, n, dtls, &h, &o, &an);
    f->anomalies |= an;
    cp_count_anoms(e, an);
    if (st != CP_OK) { e->st.parse_errors++; return 0; }
    memcpy(o.buf, &h, sizeof h);
    f->sum.app |= (rflags & CP_RF_QUIC) ? CP_APP_QUIC : (rflags & CP_RF_DTLS) ? CP_APP_DTLS : CP_APP_TLS;
    cp_rec_commit(e, r, &o, an, (uint8_t)(rflags | (hrr ? CP_RF_HRR : 0)));
    return hrr;
}

typedef struct cert_ctx { cp_engine *e; cp_flow *f; int dir; } cert_ctx;

static void on_cert(void *vctx, const uint8_t *der, size_t n) {
    cert_ctx *c = vctx;
    cp_out o;
    cp_record *r = cp_rec_begin(c->e, c->f, CP_REC_TLS_CERT, c->dir, &o, sizeof(cp_x509_rec));
    if (!r) return;
    cp_x509_rec x;
    memset(&x, 0, sizeof x);
    uint64_t an = 0;
    if (cp_x509_oids(der, n, &x, &o, &an) != CP_OK) {
        c->f->anomalies |= an;
        cp_count_anoms(c->e, an);
        c->e->st.parse_errors++;
        return;
    }
    x.index = c->f->n_certs++;
    memcpy(o.buf, &x, sizeof x);
    cp_rec_commit(c->e, r, &o, an, 0);
}

/* Walk complete handshake messages joined in d->hs. */
void cp_tls_handshake_bytes(cp_engine *e, cp_flow *f, int dir, int rflags) {
    cp_dir *s = &f->d[dir];
    while (!s->done && s->hs.len) {
        uint8_t type;
        size_t ml = 0;
        cp_status st = cp_tls_handshake_frame(s->hs.p, s->hs.len, &type, &ml);
        if (st == CP_NEED_MORE) {
            if (ml > TLS_HS_CAP) { f->anomalies |= CP_AN(CP_AN_TLS_RECORD_BAD); cp_count_anoms(e, CP_AN(CP_AN_TLS_RECORD_BAD)); s->done = 1; }
            return;
        }
        switch (type) {
        case 1:
            if (!f->has_random && ml >= 4 + 2 + 32) { memcpy(f->client_random, s->hs.p + 6, 32); f->has_random = 1; }
            if (s->n_hello++ < MAX_HELLOS) cp_emit_hello(e, f, dir, s->hs.p, ml, 0, 0, (uint8_t)rflags);
            break;
        case 2: {
            int hrr = s->n_hello++ < MAX_HELLOS ? cp_emit_hello(e, f, dir, s->hs.p, ml, 1, 0, (uint8_t)rflags) : 0;
            if (!hrr && ml >= 6 && (s->hs.p[4] == 3 && s->hs.p[5] == 3)) {
                /* TLS 1.3 (supported_versions = 0x0304): everything after is encrypted */
                const uint8_t *m = s->hs.p;
                for (size_t i = 4 + 2 + 32; i + 6 <= ml; i++)
                    if (m[i] == 0x00 && m[i + 1] == 0x2b && m[i + 2] == 0 && m[i + 3] == 2 && m[i + 4] == 3 && m[i + 5] == 4) {
                        s->done = 1;
                        /* With the server's handshake secret from the capture, keep reading: the
                         * encrypted flight carries the certificates (JA4X). */
                        size_t sl = 0;
                        const uint8_t *sec = f->has_random ? cp_keylog_server_hs_secret(e, f->client_random, &sl) : NULL;
                        size_t sid = ml > 38 ? m[38] : 0;
                        if (sec && ml >= 39 + sid + 2 && !s->dec) {
                            uint16_t suite = (uint16_t)(m[39 + sid] << 8 | m[40 + sid]);
                            s->dec = cp_tls13_new(suite, sec, sl);
                            if (s->dec) s->done = 0;
                        }
                        break;
                    }
            }
            break;
        }
        case 11: {
            cert_ctx c = { e, f, dir };
            uint64_t an = 0;
            if (cp_tls_certificate(s->hs.p, ml, s->dec != NULL, on_cert, &c, &an) != CP_OK) e->st.parse_errors++;
            if (s->dec) s->done = 1;          /* TLS 1.3: the certificates were all we decrypted for */
            f->anomalies |= an;
            cp_count_anoms(e, an);
            break;
        }
        case 25: {                            /* CompressedCertificate (RFC 8879), TLS 1.3 only */
            cert_ctx c = { e, f, dir };
            uint64_t an = 0;
            if (cp_tls_compressed_certificate(s->hs.p, ml, on_cert, &c, &an) != CP_OK) e->st.parse_errors++;
            f->anomalies |= an;
            cp_count_anoms(e, an);
            if (s->dec) s->done = 1;
            break;
        }
        case 14:
        case 20:                              /* ServerHelloDone / Finished: nothing after is needed */
            s->done = 1;
            break;
        default:
            break;
        }
        cp_buf_consume(&s->hs, ml);
    }
}

/* One TLS record. Returns bytes consumed, 0 when more are needed. */
static size_t tls_record(cp_engine *e, cp_flow *f, int dir, const uint8_t *q, size_t m) {
    cp_dir *s = &f->d[dir];
    if (m < 5) return 0;
    uint8_t type = q[0];
    size_t len = cp_rd16(q + 3);
    if (q[1] != 3 || q[2] > 4 || len > 18432 || type < 20 || type > 24) {
        f->anomalies |= CP_AN(CP_AN_TLS_RECORD_BAD);
        cp_count_anoms(e, CP_AN(CP_AN_TLS_RECORD_BAD));
        s->done = 1;
        return m;
    }
    if (m - 5 < len) return 0;
    switch (type) {
    case 22:
        if (s->ccs_seen) {
            /* After ChangeCipherSpec only a plaintext ClientHello (TLS 1.3 after a HelloRetryRequest)
             * can follow; anything else is an encrypted Finished. */
            size_t hl = len >= 4 ? (((size_t)q[6] << 16) | ((size_t)q[7] << 8) | q[8]) : 0;
            if (!(len >= 4 && q[5] == 1 && hl + 4 == len && s->hs.len == 0)) { s->done = 1; return m; }
        }
        if (!cp_buf_append(&s->hs, q + 5, len, TLS_HS_CAP)) {
            f->anomalies |= CP_AN(CP_AN_TLS_RECORD_BAD);
            s->done = 1;
            return m;
        }
        cp_tls_handshake_bytes(e, f, dir, 0);
        break;
    case 20: s->ccs_seen = 1; break;
    case 23:
        if (s->dec && s->dec->seq < 16) {
            uint8_t plain[18432], inner = 0;
            long pl = cp_tls13_open(s->dec, q, 5 + len, plain, sizeof plain, &inner);
            if (pl < 0) { s->done = 1; break; }
            if (inner == 22) {
                if (!cp_buf_append(&s->hs, plain, (size_t)pl, TLS_HS_CAP)) { s->done = 1; break; }
                cp_tls_handshake_bytes(e, f, dir, 0);
            }
            break;
        }
        s->done = 1;
        break;
    default: break;                              /* alert, heartbeat */
    }
    return 5 + len;
}

static int tls_detect(const uint8_t *q, size_t m) {
    if (q[0] != 0x16) return 0;
    if (m < 3) return -1;
    return q[1] == 3 && q[2] <= 4;
}

const cp_tcp_app cp_app_tls = { "tls", tls_detect, tls_record, NULL };
