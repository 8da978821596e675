/* engine.c: engine lifecycle, the per-packet entry point, the reader thread and counters. */
#include "engine_int.h"
#include <sys/resource.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cp_engine_config_defaults(cp_engine_config *c) {
    c->ring_slots = 4096;
    c->stream_bytes = 65536;
    c->max_flows = 1u << 20;
    c->idle_timeout_s = 120;
    c->block_when_full = 0;
}

cp_engine *cp_engine_create(const cp_engine_config *cfg) {
    cp_engine *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    cp_engine_config_defaults(&e->cfg);
    if (cfg) e->cfg = *cfg;
    if (e->cfg.ring_slots == 0) e->cfg.ring_slots = 4096;
    if (e->cfg.stream_bytes < 1024) e->cfg.stream_bytes = 1024;
    if (e->cfg.stream_bytes > (1u << 24)) e->cfg.stream_bytes = 1u << 24;
    if (e->cfg.max_flows == 0) e->cfg.max_flows = 1u << 20;
    if (e->cfg.idle_timeout_s == 0) e->cfg.idle_timeout_s = 120;
    uint32_t nb = 1024;
    while (nb < e->cfg.max_flows && nb < (1u << 22)) nb <<= 1;
    e->nbuckets = nb;
    e->buckets = calloc(nb, sizeof *e->buckets);
    e->ring = cp_ring_create(e->cfg.ring_slots);
    if (!e->buckets || !e->ring) { cp_engine_destroy(e); return NULL; }
    pthread_mutex_init(&e->pub_lock, NULL);
    return e;
}

void cp_engine_destroy(cp_engine *e) {
    if (!e) return;
    if (e->thread_started) { cp_engine_request_stop(e); cp_engine_join(e); }
    /* free flows without emitting records */
    for (int l = 0; l < 2; l++) {
        cp_flow *f = l ? e->cl_head : e->lru_head;
        while (f) {
            cp_flow *next = f->lru_next;
            cp_dir_free(&f->d[0]);
            cp_dir_free(&f->d[1]);
            free(f->trace);
            free(f);
            f = next;
        }
    }
    free(e->buckets);
    cp_keylog_free(e->keylog);
    cp_ring_destroy(e->ring);
    pthread_mutex_destroy(&e->pub_lock);
    free(e);
}

cp_ring *cp_engine_ring(cp_engine *e) { return e->ring; }

void cp_count_anoms(cp_engine *e, uint64_t bits) {
    while (bits) {
        unsigned b = (unsigned)__builtin_ctzll(bits);
        bits &= bits - 1;
        if (b < CP_AN__COUNT) e->st.anomalies[b]++;
    }
}

static uint64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void publish(cp_engine *e) {
    if (e->src) {
        e->st.input_bytes = e->src->bytes_read; e->st.input_size = e->src->size;
        uint64_t rx, drop, ifdrop;
        if (cp_capture_kernel_stats(e->src, &rx, &drop, &ifdrop) == 0) {
            e->st.kernel_received = rx; e->st.kernel_dropped = drop; e->st.if_dropped = ifdrop;
        }
    }
    e->st.publishes++;
    e->st.ring_drops = cp_ring_drops(e->ring);
    pthread_mutex_lock(&e->pub_lock);
    e->pub = e->st;
    pthread_mutex_unlock(&e->pub_lock);
}

void cp_engine_get_stats(cp_engine *e, cp_engine_stats *out) {
    pthread_mutex_lock(&e->pub_lock);
    *out = e->pub;
    pthread_mutex_unlock(&e->pub_lock);
}

void cp_engine_feed(cp_engine *e, const cp_pkthdr *h, const uint8_t *data) {
    e->st.packets++;
    e->st.bytes += h->caplen;
    e->pkt_ns = h->ts_ns;
    if (h->ts_ns > e->now_ns) e->now_ns = h->ts_ns;
    if ((e->st.packets & 1023) == 0) cp_flow_expire(e);
    if ((e->st.packets & 65535) == 0) publish(e);
    cp_pkt p;
    p.anomalies = 0; p.ip_version = 0; p.is_icmp = 0; p.tunnel_depth = 0; p.has_l4 = 0; p.fragment = 0;
    p.ts_ns = h->ts_ns;
    if (!cp_decode(data, h->caplen, h->linktype, &p)) {
        e->st.non_ip++;
        cp_count_anoms(e, p.anomalies);
        return;
    }
    if (p.anomalies) cp_count_anoms(e, p.anomalies);
    if (p.is_icmp) { e->st.icmp++; return; }
    if (!p.has_l4 || (p.proto != 6 && p.proto != 17)) { e->st.other_l4++; return; }
    int dir, created;
    cp_flow *f = cp_flow_lookup(e, &p, &dir, &created);
    if (!f) return;
    uint16_t sa = p.tcp_flags & (CP_TH_SYN | CP_TH_ACK);
    if (!created && p.proto == 6 && sa == CP_TH_SYN && f->closed) {
        /* a new connection reusing the 4-tuple of a closed one */
        cp_flow_end(e, f, 1);
        f = cp_flow_lookup(e, &p, &dir, &created);
        if (!f) return;
    }
    cp_flow_rec *sum = &f->sum;
    if (created) {
        sum->first_ns = h->ts_ns;
        sum->client_dir = (p.proto == 6 && sa == (CP_TH_SYN | CP_TH_ACK)) ? 1 : 0;
        if (p.proto == 6 && (p.dport == 22 || p.sport == 22)) cp_trace_enable(e, f);
    }
    if (!created && h->ts_ns >= sum->last_ns) {
        uint64_t iat = h->ts_ns - sum->last_ns;
        if (sum->packets[0] + sum->packets[1] == 1 || iat < sum->iat_min_ns) sum->iat_min_ns = iat;
        if (iat > sum->iat_max_ns) sum->iat_max_ns = iat;
    }
    sum->last_ns = h->ts_ns;
    sum->packets[dir]++;
    sum->bytes[dir] += p.payload_len;
    int client = dir == sum->client_dir;
    if (client && !sum->ttl_c) sum->ttl_c = p.ttl;
    if (!client && !sum->ttl_s) sum->ttl_s = p.ttl;
    f->anomalies |= p.anomalies;
    cp_flow_touch(e, f);
    if (p.proto == 6) cp_tcp_packet(e, f, dir, &p);
    else cp_udp_packet(e, f, dir, &p);
}

void cp_engine_flush(cp_engine *e) {
    cp_flow_end_all(e);
    publish(e);
}

static void *reader(void *arg) {
    cp_engine *e = arg;
    cp_pkthdr h;
    const uint8_t *d;
    int r;
    uint64_t n = 0, last_pub = wall_ns();
    unsigned idle_after_stop = 0, after_stop = 0;
    while ((r = cp_capture_next(e->src, &h, &d)) >= 1) {
        if (r == 1) {
            cp_engine_feed(e, &h, d);
            if ((++n & 1023) != 0) goto check_stop;
        }
        /* Every 1024 packets, and whenever a live source is idle: counters out at least every
         * 250 ms; an idle live source moves time forward by the wall clock so idle flows expire. */
        uint64_t now = wall_ns();
        if (r == 2) {
            if (now > e->now_ns) e->now_ns = now;
            cp_flow_expire(e);
        }
        if (now - last_pub >= 250000000ull) { publish(e); last_pub = now; }
    check_stop:
        if (atomic_load_explicit(&e->stop, memory_order_relaxed)) {
            /* A live source still holds what the kernel captured before the stop: read on until it has
             * been idle twice in a row (a partly filled TPACKET_V3 block retires on its timeout), for at
             * most 2^20 packets, so a graceful stop loses nothing already on the box. */
            if (r == 2 && ++idle_after_stop >= 2) { r = 0; break; }
            if (r == 1) idle_after_stop = 0;
            if (++after_stop > (1u << 20)) { r = 0; break; }
            if (e->src->ops->live) continue;
            r = 0;
            break;
        }
    }
    e->draining = 1;
    cp_flow_end_all(e);
    e->st.decode_cpu_ns = cp_thread_cpu_ns();
    publish(e);
    if (r < 0) cp_emit_end(e, (int)e->src->err, e->src->err_offset, e->src->message);
    else cp_emit_end(e, 0, e->src->bytes_read, NULL);
    publish(e);
    atomic_store(&e->running, 0);
    return NULL;
}

static void on_secrets(void *ctx, uint32_t type, const uint8_t *d, size_t n) {
    if (type == 0x544c534bu) cp_keylog_ingest(ctx, d, n);      /* "TLSK": TLS key log */
}

void cp_engine_attach_secrets(cp_engine *e, cp_capture *src) {
    src->on_secrets = on_secrets;
    src->secrets_ctx = e;
}

int cp_engine_start(cp_engine *e, cp_capture *src, char *msg, size_t msglen) {
    e->src = src;
    cp_engine_attach_secrets(e, src);
    atomic_store(&e->running, 1);
    atomic_store(&e->stop, 0);
    int rc = pthread_create(&e->thread, NULL, reader, e);
    if (rc != 0) {
        atomic_store(&e->running, 0);
        if (msg) snprintf(msg, msglen, "cannot start the decode thread (error %d)", rc);
        return -1;
    }
    e->thread_started = 1;
    return 0;
}

void cp_engine_request_stop(cp_engine *e) { atomic_store(&e->stop, 1); }

void cp_engine_join(cp_engine *e) {
    if (!e->thread_started) return;
    pthread_join(e->thread, NULL);
    e->thread_started = 0;
}

uint64_t cp_thread_cpu_ns(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

int cp_engine_running(const cp_engine *e) { return atomic_load(&((cp_engine *)e)->running); }

