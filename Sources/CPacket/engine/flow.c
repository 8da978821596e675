/* flow.c: the flow table. Chained hash on the unordered endpoint pair, so both directions find the
 * same entry; an LRU list (most recent at the head) drives idle expiry and eviction at the cap.
 * Orientation: endpoint [0] is the source of the first packet seen. */
#include "engine_int.h"
#include <stdlib.h>
#include <string.h>

static inline uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static uint32_t key_hash(const cp_pkt *p) {
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, p->src, 8); memcpy(&a1, p->src + 8, 8);
    memcpy(&b0, p->dst, 8); memcpy(&b1, p->dst + 8, 8);
    /* symmetric: combine the two endpoints with commutative operations */
    uint64_t ea = mix(mix(a0, a1), p->sport), eb = mix(mix(b0, b1), p->dport);
    uint64_t h = (ea ^ eb) + (ea * eb | 1) + ((uint64_t)p->proto << 56);
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

static int match(const cp_flow *f, const cp_pkt *p, int *dir) {
    if (f->proto != p->proto || f->ipv != p->ip_version) return 0;
    size_t al = p->ip_version == 4 ? 4 : 16;
    if (f->port[0] == p->sport && f->port[1] == p->dport &&
        memcmp(f->addr[0], p->src, al) == 0 && memcmp(f->addr[1], p->dst, al) == 0) { *dir = 0; return 1; }
    if (f->port[0] == p->dport && f->port[1] == p->sport &&
        memcmp(f->addr[0], p->dst, al) == 0 && memcmp(f->addr[1], p->src, al) == 0) { *dir = 1; return 1; }
    return 0;
}

/* Two recency lists: open flows, and closed flows lingering for their last ACKs. A flow is on the
 * list its in_closed flag names; head = most recent, tail = least recent. */
static cp_flow **list_head(cp_engine *e, const cp_flow *f) { return f->in_closed ? &e->cl_head : &e->lru_head; }
static cp_flow **list_tail(cp_engine *e, const cp_flow *f) { return f->in_closed ? &e->cl_tail : &e->lru_tail; }

static void lru_unlink(cp_engine *e, cp_flow *f) {
    if (f->lru_prev) f->lru_prev->lru_next = f->lru_next; else *list_head(e, f) = f->lru_next;
    if (f->lru_next) f->lru_next->lru_prev = f->lru_prev; else *list_tail(e, f) = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_push_head(cp_engine *e, cp_flow *f) {
    cp_flow **h = list_head(e, f), **t = list_tail(e, f);
    f->lru_prev = NULL;
    f->lru_next = *h;
    if (*h) (*h)->lru_prev = f; else *t = f;
    *h = f;
}

void cp_flow_touch(cp_engine *e, cp_flow *f) {
    if (*list_head(e, f) == f) return;
    lru_unlink(e, f);
    lru_push_head(e, f);
}

void cp_flow_mark_closed(cp_engine *e, cp_flow *f) {
    if (f->in_closed) return;
    lru_unlink(e, f);
    f->in_closed = 1;
    lru_push_head(e, f);
}

cp_flow *cp_flow_lookup(cp_engine *e, const cp_pkt *p, int *dir, int *created) {
    uint32_t h = key_hash(p);
    cp_flow **slot = &e->buckets[h & (e->nbuckets - 1)];
    *created = 0;
    for (cp_flow *f = *slot; f; f = f->hnext)
        if (f->hash == h && match(f, p, dir)) return f;
    if (e->st.flows_active >= e->cfg.max_flows && (e->cl_tail || e->lru_tail)) {
        cp_flow *victim = e->cl_tail ? e->cl_tail : e->lru_tail;   /* closed flows go first */
        e->st.flows_evicted++;
        e->st.anomalies[CP_AN_FLOW_EVICTED]++;
        victim->anomalies |= CP_AN(CP_AN_FLOW_EVICTED);
        cp_flow_end(e, victim, 3);
        slot = &e->buckets[h & (e->nbuckets - 1)];
    }
    cp_flow *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->hash = h;
    f->id = ++e->next_flow_id;
    f->ipv = p->ip_version;
    f->proto = p->proto;
    f->port[0] = p->sport; f->port[1] = p->dport;
    memcpy(f->addr[0], p->src, 16);
    memcpy(f->addr[1], p->dst, 16);
    f->hnext = *slot;
    *slot = f;
    lru_push_head(e, f);
    e->st.flows++;
    e->st.flows_active++;
    *dir = 0;
    *created = 1;
    return f;
}

static void unhash(cp_engine *e, cp_flow *f) {
    cp_flow **pp = &e->buckets[f->hash & (e->nbuckets - 1)];
    while (*pp && *pp != f) pp = &(*pp)->hnext;
    if (*pp) *pp = f->hnext;
}

void cp_flow_end(cp_engine *e, cp_flow *f, uint8_t reason) {
    cp_trace_flush(e, f);
    f->sum.ended_by = reason;
    cp_out o;
    cp_record *r = cp_rec_begin(e, f, CP_REC_FLOW_END, 0, &o, sizeof(cp_flow_rec));
    if (r) {
        memcpy(o.buf, &f->sum, sizeof f->sum);
        cp_rec_commit(e, r, &o, f->anomalies, 0);
    }
    unhash(e, f);
    lru_unlink(e, f);
    cp_dir_free(&f->d[0]);
    cp_dir_free(&f->d[1]);
    free(f->trace);
    free(f);
    e->st.flows_active--;
}

#define CLOSED_LINGER_NS 5000000000ull   /* closed flows wait 5 s (packet time) for their last ACKs */

void cp_flow_expire(cp_engine *e) {
    uint64_t idle = (uint64_t)e->cfg.idle_timeout_s * 1000000000ull;
    while (e->cl_tail && e->cl_tail->sum.last_ns + CLOSED_LINGER_NS <= e->now_ns) cp_flow_end(e, e->cl_tail, 1);
    while (e->lru_tail && e->lru_tail->sum.last_ns + idle <= e->now_ns) cp_flow_end(e, e->lru_tail, 2);
}

static int by_id(const void *a, const void *b) {
    uint32_t x = (*(cp_flow *const *)a)->id, y = (*(cp_flow *const *)b)->id;
    return x < y ? -1 : x > y;
}

void cp_flow_end_all(cp_engine *e) {
    /* end in creation order so the output order is stable */
    size_t n = 0;
    for (cp_flow *f = e->lru_head; f; f = f->lru_next) n++;
    for (cp_flow *f = e->cl_head; f; f = f->lru_next) n++;
    cp_flow **v = n ? malloc(n * sizeof *v) : NULL;
    if (!v) {
        while (e->cl_tail) cp_flow_end(e, e->cl_tail, 1);
        while (e->lru_tail) cp_flow_end(e, e->lru_tail, 0);
        return;
    }
    n = 0;
    for (cp_flow *f = e->lru_head; f; f = f->lru_next) v[n++] = f;
    for (cp_flow *f = e->cl_head; f; f = f->lru_next) v[n++] = f;
    qsort(v, n, sizeof *v, by_id);
    for (size_t i = 0; i < n; i++) cp_flow_end(e, v[i], v[i]->closed ? 1 : 0);   /* closed: FIN/RST seen */
    free(v);
}
