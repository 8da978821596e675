/* app_tcp.c: what the engine does with a TCP segment: raw SYN / SYN+ACK facts, handshake timing,
 * per-packet trace for SSH flows, and in-order bytes through protocol detection into the L7 parsers.
 * Detection is by content, never by port (TLS after HTTP CONNECT or SOCKS in the same flow): at each
 * message boundary we look for a TLS record, "SSH-", or an HTTP request line; if nothing matches, the
 * buffered bytes are dropped and detection retries at the next segment boundary (bounded). */
#include "engine_int.h"
#include <stdlib.h>
#include <string.h>

void cp_tcp_stream_add(cp_engine *e, cp_flow *f, int dir, uint32_t seq, const uint8_t *d, uint32_t n);
void cp_count_anoms(cp_engine *e, uint64_t bits);

#define TLS_HS_CAP 65536u
#define MAX_RESYNC 8
#define MAX_HELLOS 4

static void syn_record(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p) {
    cp_out o;
    cp_record *r = cp_rec_begin(e, f, CP_REC_TCP_SYN, dir, &o, sizeof(cp_tcp_syn_rec));
    if (!r) return;
    cp_tcp_syn_rec *s = (cp_tcp_syn_rec *)o.buf;
    s->window = p->window; s->urg_ptr = p->urg_ptr;
    s->seq = p->seq; s->ack = p->ack;
    s->tcp_flags = p->tcp_flags;
    s->ip_id = p->ip_id;
    s->ttl = p->ttl; s->ip_hdr_len = p->ip_hdr_len;
    s->tos = p->tos; s->ipv4_flags = p->ipv4_flags;
    s->flow_label = p->flow_label;
    s->payload_len = (uint16_t)(p->payload_len > 0xffff ? 0xffff : p->payload_len);
    s->opt_len = p->tcp_opt_len;
    s->tunnelled = p->tunnel_depth > 0;
    memcpy(s->opts, p->tcp_opts, p->tcp_opt_len);
    cp_rec_commit(e, r, &o, p->anomalies, 0);
}

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

static int detect(const uint8_t *q, size_t m) {
    if (q[0] == 0x16) {
        if (m < 3) return -1;
        return (q[1] == 3 && q[2] <= 4) ? APP_TLS : APP_OTHER;
    }
    if (q[0] == 'S') {
        size_t k = m < 4 ? m : 4;
        if (memcmp(q, "SSH-", k) == 0) return m < 4 ? -1 : APP_SSH;
    }
    int h = cp_http_looks_like_request(q, m);
    if (h < 0) return -1;
    return h ? APP_HTTP : APP_OTHER;
}

static size_t ssh_step(cp_engine *e, cp_flow *f, int dir, const uint8_t *q, size_t m) {
    cp_dir *s = &f->d[dir];
    uint64_t an = 0;
    if (s->stage == 0) {
        size_t lo = 0, ll = 0, used = 0;
        cp_status st = cp_ssh_banner(q, m, &lo, &ll, &used, &an);
        f->anomalies |= an;
        if (st == CP_NEED_MORE) return 0;
        cp_count_anoms(e, an);
        if (st != CP_OK) { e->st.parse_errors++; s->done = 1; return m; }
        cp_out o;
        cp_record *r = cp_rec_begin(e, f, CP_REC_SSH_BANNER, dir, &o, sizeof(cp_text_rec));
        if (r) {
            cp_text_rec t;
            t.text.off = cp_out_put(&o, q + lo, ll, 1);
            t.text.len = o.full ? 0 : (uint16_t)ll;
            memcpy(o.buf, &t, sizeof t);
            cp_rec_commit(e, r, &o, an, 0);
        }
        s->stage = 1;
        if (an & CP_AN(CP_AN_SSH_VERSION1)) s->done = 1;   /* SSH-1.x has no KEXINIT */
        return used;
    }
    size_t used = 0;
    cp_out o;
    cp_record *r = cp_rec_begin(e, f, CP_REC_SSH_KEXINIT, dir, &o, sizeof(cp_kexinit_rec));
    if (!r) { s->done = 1; return m; }
    cp_kexinit_rec k;
    memset(&k, 0, sizeof k);
    cp_status st = cp_ssh_kexinit(q, m, &k, &o, &used, &an);
    f->anomalies |= an;
    if (st == CP_NEED_MORE) return 0;
    cp_count_anoms(e, an);
    s->done = 1;
    if (st != CP_OK) { e->st.parse_errors++; return m; }
    memcpy(o.buf, &k, sizeof k);
    cp_rec_commit(e, r, &o, an, 0);
    return used;
}

/* Parse one HTTP request head straight into a record slot (TCP streams and UDP datagrams). Returns the
 * parser's status; *used and *body are set on CP_OK. A slot is only committed for a complete request. */
cp_status cp_emit_http(cp_engine *e, cp_flow *f, int dir, const uint8_t *q, size_t m, size_t *used, uint64_t *body) {
    cp_out o;
    cp_record *r = cp_rec_begin(e, f, CP_REC_HTTP_REQUEST, dir, &o, sizeof(cp_http_rec));
    if (!r) return CP_INVALID;
    cp_http_rec h;
    memset(&h, 0, sizeof h);
    uint64_t an = 0;
    int chunked = 0;
    cp_status st = cp_http_request(q, m, &h, &o, used, body, &chunked, &an);
    if (st == CP_NEED_MORE) return st;
    f->anomalies |= an;
    cp_count_anoms(e, an);
    if (st != CP_OK) { e->st.parse_errors++; return st; }
    memcpy(o.buf, &h, sizeof h);
    cp_rec_commit(e, r, &o, an, 0);
    f->sum.app |= CP_APP_HTTP;
    return CP_OK;
}

static size_t http_step(cp_engine *e, cp_flow *f, int dir, const uint8_t *q, size_t m) {
    cp_dir *s = &f->d[dir];
    size_t used = 0;
    uint64_t body = 0;
    cp_status st = cp_emit_http(e, f, dir, q, m, &used, &body);
    if (st == CP_NEED_MORE) return 0;
    if (st != CP_OK) { s->done = 1; return m; }
    s->skip = body;
    s->app = APP_DETECT;          /* next: another request, or TLS after CONNECT */
    return used;
}

/* Run the parsers over n in-order bytes; returns how many were consumed. */
static size_t dispatch(cp_engine *e, cp_flow *f, int dir, const uint8_t *p, size_t n) {
    cp_dir *s = &f->d[dir];
    size_t at = 0;
    while (at < n && !s->done) {
        const uint8_t *q = p + at;
        size_t m = n - at, k;
        if (s->skip) {
            k = m < s->skip ? m : (size_t)s->skip;
            s->skip -= k;
            at += k;
            continue;
        }
        switch (s->app) {
        case APP_DETECT: {
            int a = detect(q, m);
            if (a < 0) return at;
            if (a == APP_OTHER) {
                if (++s->resyncs > MAX_RESYNC) s->done = 1;
                return n;                     /* retry at the next segment boundary */
            }
            s->app = (uint8_t)a;
            s->stage = 0;
            if (a == APP_SSH) { f->sum.app |= CP_APP_SSH; cp_trace_enable(e, f); }
            continue;
        }
        case APP_TLS: k = tls_record(e, f, dir, q, m); break;
        case APP_SSH: k = ssh_step(e, f, dir, q, m); break;
        case APP_HTTP: k = http_step(e, f, dir, q, m); break;
        default: s->done = 1; return n;
        }
        if (k == 0) return at;
        at += k;
    }
    return s->done ? n : at;
}

void cp_tcp_gap(cp_engine *e, cp_flow *f, int dir) {
    cp_dir *s = &f->d[dir];
    s->buf.len = 0;
    s->hs.len = 0;
    s->skip = 0;
    s->app = APP_DETECT;
    (void)e;
}

void cp_tcp_deliver(cp_engine *e, cp_flow *f, int dir, const uint8_t *d, uint32_t n) {
    cp_dir *s = &f->d[dir];
    if (s->done) return;
    uint32_t budget = e->cfg.stream_bytes;
    int limited = 0;
    if (s->delivered >= budget) limited = 1, n = 0;
    else if (n > budget - s->delivered) { n = budget - s->delivered; limited = 1; }
    s->delivered += n;
    if (s->buf.len == 0) {
        size_t used = dispatch(e, f, dir, d, n);
        if (!s->done && used < n && !cp_buf_append(&s->buf, d + used, n - used, budget)) s->done = 1;
    } else {
        if (!cp_buf_append(&s->buf, d, n, budget)) s->done = 1;
        else {
            size_t used = dispatch(e, f, dir, s->buf.p, s->buf.len);
            cp_buf_consume(&s->buf, used);
        }
    }
    if (limited && !s->done) {
        if (s->buf.len || s->hs.len) { f->anomalies |= CP_AN(CP_AN_STREAM_LIMIT); e->st.anomalies[CP_AN_STREAM_LIMIT]++; }
        s->done = 1;
    }
    if (s->done) { cp_buf_free(&s->buf); cp_buf_free(&s->hs); }
}

void cp_tcp_packet(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p) {
    uint16_t fl = p->tcp_flags & 0x1ff;
    uint16_t sa = fl & (CP_TH_SYN | CP_TH_ACK);
    cp_flow_rec *sum = &f->sum;
    if (sa == CP_TH_SYN && !f->syn_done) {
        f->syn_done = 1;
        sum->syn_seen = 1;
        syn_record(e, f, dir, p);
    } else if (sa == (CP_TH_SYN | CP_TH_ACK)) {
        if (!f->synack_done) {
            f->synack_done = 1;
            sum->synack_seen = 1;
            syn_record(e, f, dir, p);
        } else if (sum->n_synack_retx < CP_RETX_MAX && dir != sum->client_dir) {
            sum->t_synack_retx[sum->n_synack_retx++] = e->pkt_ns;
        }
    }
    if ((fl & CP_TH_RST) && f->synack_done && !sum->t_rst) sum->t_rst = e->pkt_ns;
    /* JA4L: A = SYN, B = SYN+ACK, C = first ACK without SYN after it (fingerprints.md §7; ECN bits
     * and PSH do not matter, RST/FIN do). */
    uint16_t core = fl & (CP_TH_SYN | CP_TH_ACK | CP_TH_RST | CP_TH_FIN);
    switch (f->tl_state) {
    case 0: if (core == CP_TH_SYN) { sum->t_syn = e->pkt_ns; sum->ttl_syn = p->outer_ttl; f->tl_state = 1; } break;
    case 1: if (core == (CP_TH_SYN | CP_TH_ACK)) { sum->t_synack = e->pkt_ns; sum->ttl_synack = p->outer_ttl; f->tl_state = 2; } break;
    case 2: if (core == CP_TH_ACK) { sum->t_ack = e->pkt_ns; f->tl_state = 3; } break;
    default: break;
    }
    /* JA4L 3-part: D, E, F = alternating first payload packets after the handshake. */
    if (f->tl_state == 3 && p->payload_len > 0) {
        int client = dir == sum->client_dir;
        if (f->app_state == 0 && client) { sum->t_d = e->pkt_ns; f->app_state = 1; }
        else if (f->app_state == 1 && !client) { sum->t_e = e->pkt_ns; f->app_state = 2; }
        else if (f->app_state == 2 && client) { sum->t_f = e->pkt_ns; f->app_state = 3; }
    }
    if (p->payload_len && dir == sum->client_dir) {
        uint32_t end = p->seq + p->payload_len;
        if (!f->fwd_hi_init) { f->fwd_hi = end; f->fwd_hi_init = 1; }
        else if ((int32_t)(p->seq - f->fwd_hi) < 0) sum->retransmits++;       /* starts in bytes already seen */
        if ((int32_t)(end - f->fwd_hi) > 0) f->fwd_hi = end;
    }
    if (fl & CP_TH_FIN) f->fin[dir] = 1;
    if (fl & CP_TH_RST) f->rst = 1;
    if (!f->closed && (f->rst || (f->fin[0] && f->fin[1]))) { f->closed = 1; cp_flow_mark_closed(e, f); }
    if (f->tracing || f->n_pretrace < CP_PRETRACE) cp_trace_add(e, f, dir, p, cp_ssh_segment(f, dir, p));
    cp_dir *s = &f->d[dir];
    if (fl & CP_TH_SYN) {
        if (!s->seq_init) { s->next_seq = p->seq + 1; s->seq_init = 1; }
        if (p->payload_len) cp_tcp_stream_add(e, f, dir, p->seq + 1, p->payload, p->payload_len);
    } else if (p->payload_len && !s->done) {
        cp_tcp_stream_add(e, f, dir, p->seq, p->payload, p->payload_len);
    }
}
