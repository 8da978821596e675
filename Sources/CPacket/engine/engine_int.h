/* engine_int.h: engine internals shared by the engine's files (not part of the public API). */
#ifndef CP_ENGINE_INT_H
#define CP_ENGINE_INT_H
#include "cp_engine.h"
#include "cp_decode.h"
#include "cp_parse.h"
#include "cp_record.h"
#include "../util/cp_cursor.h"
#include "../stream/stream_int.h"
#include <pthread.h>
#include <stdatomic.h>

typedef struct cp_keylog cp_keylog;

#define CP_PRETRACE 16
typedef struct cp_flow {
    struct cp_flow *hnext, *lru_prev, *lru_next;
    uint32_t hash, id;
    uint8_t  ipv, proto;
    uint16_t port[2];              /* [0] = first packet's source */
    uint8_t  addr[2][16];
    uint64_t anomalies;
    cp_flow_rec sum;
    cp_dir   d[2];
    uint8_t  syn_done, synack_done, tl_state, closed;   /* tl_state: JA4L 2-part state machine */
    uint8_t  fin[2], rst, app_state, in_closed;                  /* app_state: after handshake, for D/E/F */
    uint8_t  tracing, pretrace_off, n_pretrace, udp_app;
    uint16_t n_certs;
    uint8_t  quic_odcid[20], quic_odcid_len;
    uint8_t  client_random[32], has_random;
    cp_trace_ent pretrace[CP_PRETRACE];
    cp_sshframe sf[2];
    cp_trace_ent *trace;
    uint32_t n_trace;
    uint32_t fwd_hi;               /* highest client->server sequence end seen (retransmit count) */
    uint8_t  fwd_hi_init;
} cp_flow;

struct cp_engine {
    cp_engine_config cfg;
    cp_ring *ring;
    /* flow table */
    cp_flow **buckets;
    uint32_t nbuckets;
    cp_flow *lru_head, *lru_tail;  /* open flows; head = most recently active */
    cp_flow *cl_head, *cl_tail;    /* closed flows (FIN both ways / RST) lingering; same order */
    uint32_t next_flow_id;
    uint64_t now_ns, pkt_ns;   /* now: latest packet time (expiry); pkt: current packet */
    /* counters: plain on the decode thread, published to `pub` periodically */
    cp_engine_stats st;
    pthread_mutex_t pub_lock;
    cp_engine_stats pub;
    /* thread */
    pthread_t thread;
    cp_capture *src;
    _Atomic int stop, running;
    int draining;                  /* decode thread only: ending every flow at the end of input */
    int thread_started;
    cp_keylog *keylog;             /* from pcapng DSBs; NULL when the input carried none */
};

void cp_keylog_ingest(cp_engine *e, const uint8_t *d, size_t n);
const uint8_t *cp_keylog_server_hs_secret(const cp_engine *e, const uint8_t *random, size_t *len);
void cp_keylog_free(cp_keylog *k);

/* flow.c */
cp_flow *cp_flow_lookup(cp_engine *e, const cp_pkt *p, int *dir, int *created);
void cp_flow_touch(cp_engine *e, cp_flow *f);
void cp_flow_mark_closed(cp_engine *e, cp_flow *f);
void cp_flow_end(cp_engine *e, cp_flow *f, uint8_t reason);
void cp_flow_expire(cp_engine *e);
void cp_flow_end_all(cp_engine *e);

/* emit.c */
cp_record *cp_rec_begin(cp_engine *e, const cp_flow *f, uint16_t kind, int dir, cp_out *o, size_t head);
void cp_rec_commit(cp_engine *e, cp_record *r, const cp_out *o, uint64_t anomalies, uint8_t flags);
void cp_emit_end(cp_engine *e, int status, uint64_t offset, const char *msg);
void cp_trace_add(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p, int is_ssh);
void cp_trace_flush(cp_engine *e, cp_flow *f);
void cp_trace_enable(cp_engine *e, cp_flow *f);

/* app_tcp.c / app_udp.c */
void cp_tcp_packet(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p);
void cp_udp_packet(cp_engine *e, cp_flow *f, int dir, const cp_pkt *p);
void cp_tls_handshake_bytes(cp_engine *e, cp_flow *f, int dir, int dtls_or_quic_flags);

#endif
