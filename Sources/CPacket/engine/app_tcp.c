/* app_tcp.c: what the engine does with a TCP segment: raw SYN / SYN+ACK facts, handshake timing,
 * per-packet trace for SSH flows, and in-order bytes through protocol detection into the L7 parsers.
 * Detection is by content, never by port (TLS after HTTP CONNECT or SOCKS in the same flow): at each
 * message boundary we look for a TLS record, "SSH-", or an HTTP request line; if nothing matches, the
 * buffered bytes are dropped and detection retries at the next segment boundary (bounded). The protocols
 * themselves are app_tls.c, app_ssh.c and app_http.c, asked in the order of the registry below. */
#include "app.h"
#include <stdlib.h>
#include <string.h>

#define MAX_RESYNC 8

/* The TCP protocols, in the order detection asks them (f->d[dir].app = index + 1). */
static const cp_tcp_app *const cp_tcp_apps[] = { &cp_app_tls, &cp_app_ssh, &cp_app_http };
enum { N_APPS = (int)(sizeof cp_tcp_apps / sizeof cp_tcp_apps[0]) };

/* Index + 1 of the protocol these bytes start, 0 for none, -1 when more bytes are needed to tell. */
static int detect(const uint8_t *q, size_t m) {
    int need_more = 0;
    for (int i = 0; i < N_APPS; i++) {
        int r = cp_tcp_apps[i]->detect(q, m);
        if (r > 0) return i + 1;
        if (r < 0) need_more = 1;
    }
    return need_more ? -1 : 0;
}

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
        if (s->app == APP_DETECT) {
            int a = detect(q, m);
            if (a < 0) return at;
            if (a == 0) {
                if (++s->resyncs > MAX_RESYNC) s->done = 1;
                return n;                     /* retry at the next segment boundary */
            }
            s->app = (uint8_t)a;
            s->stage = 0;
            if (cp_tcp_apps[a - 1]->recognised) cp_tcp_apps[a - 1]->recognised(e, f);
            continue;
        }
        if (s->app > N_APPS) { s->done = 1; return n; }
        k = cp_tcp_apps[s->app - 1]->step(e, f, dir, q, m);
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

/* The stream layer's sink: in-order bytes into the parsers, gaps reset them. */
typedef struct tcp_ctx { cp_engine *e; cp_flow *f; } tcp_ctx;
static void sink_deliver(void *c, int dir, const uint8_t *d, uint32_t n) { tcp_ctx *t = c; cp_tcp_deliver(t->e, t->f, dir, d, n); }
static void sink_gap(void *c, int dir) { tcp_ctx *t = c; cp_tcp_gap(t->e, t->f, dir); }

static void stream_add(cp_engine *e, cp_flow *f, int dir, uint32_t seq, const uint8_t *d, uint32_t n) {
    tcp_ctx ctx = { e, f };
    cp_stream_sink sink = { sink_deliver, sink_gap, &ctx };
    if (cp_tcp_stream_add(&f->d[dir], dir, seq, d, n, &sink)) {
        f->anomalies |= CP_AN(CP_AN_TCP_GAP);
        e->st.anomalies[CP_AN_TCP_GAP]++;
    }
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
    if (f->tracing || f->n_pretrace < CP_PRETRACE) cp_trace_add(e, f, dir, p, cp_ssh_segment(&f->sf[dir], p));
    cp_dir *s = &f->d[dir];
    if (fl & CP_TH_SYN) {
        if (!s->seq_init) { s->next_seq = p->seq + 1; s->seq_init = 1; }
        if (p->payload_len) stream_add(e, f, dir, p->seq + 1, p->payload, p->payload_len);
    } else if (p->payload_len && !s->done) {
        stream_add(e, f, dir, p->seq, p->payload, p->payload_len);
    }
}
