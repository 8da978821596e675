/* emit.c: record production into the ring. A slot is reserved, filled in place and committed; when
 * the ring is full the record is dropped and counted, unless the input is offline
 * (block_when_full), where waiting for the consumer loses nothing and never stalls a wire. */
#include "engine_int.h"
#include <sched.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

static cp_record *reserve(cp_engine *e, int must) {
    for (unsigned spins = 0;; spins++) {
        cp_record *r = cp_ring_reserve(e->ring);
        if (r) return r;
        /* While draining (the final flush of every open flow), wait: the consumer is still reading. */
        if (!must && !e->draining && (!e->cfg.block_when_full || atomic_load_explicit(&e->stop, memory_order_relaxed))) {
            cp_ring_drop(e->ring);
            e->st.ring_drops++;
            return NULL;
        }
        if (spins == 0) e->st.ring_waits++;
        cp_ring_wait_writable(e->ring, 10000);
    }
}

cp_record *cp_rec_begin(cp_engine *e, const cp_flow *f, uint16_t kind, int dir, cp_out *o, size_t head) {
    cp_record *r = reserve(e, 0);
    if (!r) return NULL;
    r->version = CP_RECORD_VERSION;
    r->kind = kind;
    r->flow_id = f->id;
    r->ts_ns = e->pkt_ns;
    memcpy(r->src, f->addr[0], 16);
    memcpy(r->dst, f->addr[1], 16);
    r->sport = f->port[0];
    r->dport = f->port[1];
    r->ip_version = f->ipv;
    r->proto = f->proto;
    r->dir = (uint8_t)dir;
    r->flags = 0;
    r->payload_len = 0;
    r->anomalies = 0;
    o->buf = (uint8_t *)(r + 1);
    o->cap = CP_PAYLOAD_MAX;
    o->len = head;
    o->full = 0;
    memset(o->buf, 0, head);
    return r;
}

void cp_rec_commit(cp_engine *e, cp_record *r, const cp_out *o, uint64_t anomalies, uint8_t flags) {
    r->payload_len = (uint32_t)o->len;
    r->anomalies = (uint32_t)anomalies;
    r->flags = flags;
    cp_ring_commit(e->ring);
    e->st.records++;
}

void cp_emit_end(cp_engine *e, int status, uint64_t offset, const char *msg) {
    cp_record *r = reserve(e, 1);
    memset(r, 0, sizeof *r + sizeof(cp_end_rec));
    r->version = CP_RECORD_VERSION;
    r->kind = CP_REC_INPUT_END;
    r->ts_ns = e->now_ns;
    cp_end_rec *x = (cp_end_rec *)(r + 1);
    x->status = status;
    x->offset = offset;
    if (msg) { strncpy(x->message, msg, sizeof x->message - 1); }
    r->payload_len = sizeof *x;
    cp_ring_commit(e->ring);
    e->st.records++;
}

/* Per-packet trace for SSH flows (JA4SSH input). Before a flow is known to be SSH the first
 * CP_PRETRACE packets are kept inline, so the handshake's bare ACK still counts once the banner shows. */
void cp_trace_enable(cp_engine *e, cp_flow *f) {
    if (f->tracing) return;
    f->trace = malloc(CP_TRACE_MAX * sizeof(cp_trace_ent));
    if (!f->trace) return;
    f->tracing = 1;
    memcpy(f->trace, f->pretrace, f->n_pretrace * sizeof(cp_trace_ent));
    f->n_trace = f->n_pretrace;
    (void)e;
}

void cp_trace_flush(cp_engine *e, cp_flow *f) {
    if (!f->tracing || f->n_trace == 0) return;
    cp_out o;
    cp_record *r = cp_rec_begin(e, f, CP_REC_PKT_TRACE, 0, &o, 8);
    if (r) {
        cp_trace_rec *t = (cp_trace_rec *)o.buf;
        t->count = f->n_trace;
        memcpy(t->ent, f->trace, f->n_trace * sizeof(cp_trace_ent));
        o.len = 8 + f->n_trace * sizeof(cp_trace_ent);
        cp_rec_commit(e, r, &o, 0, 0);
    }
    f->n_trace = 0;
}

void cp_trace_add(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p, int is_ssh) {
    cp_trace_ent t = { (uint16_t)(p->payload_len > 0xffff ? 0xffff : p->payload_len),
                       (uint8_t)(dir | (is_ssh ? CP_TRACE_SSH : 0)), (uint8_t)(p->tcp_flags & 0xff) };
    if (f->tracing) {
        f->trace[f->n_trace++] = t;
        if (f->n_trace == CP_TRACE_MAX) cp_trace_flush(e, f);
    } else if (f->n_pretrace < CP_PRETRACE) {
        f->pretrace[f->n_pretrace++] = t;
    }
}
