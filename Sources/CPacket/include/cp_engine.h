/* cp_engine.h: the decode thread. Packets in (from a capture backend, or fed directly), records out
 * through the SPSC ring: decode -> flow table -> per-direction TCP streams -> L7 parsers. */
#ifndef CP_ENGINE_H
#define CP_ENGINE_H
#include <stdint.h>
#include "cp_anomaly.h"
#include "cp_capture.h"
#include "cp_ring.h"

typedef struct cp_engine_config {
    uint32_t ring_slots;        /* power of two; default 4096 */
    uint32_t stream_bytes;      /* per-direction L7 byte budget; default 65536 */
    uint32_t max_flows;         /* flow table cap (LRU eviction beyond); default 1048576 */
    uint32_t idle_timeout_s;    /* in packet time; live sources also advance it by the wall clock when idle; default 120 */
    int      block_when_full;   /* offline input: wait for the consumer instead of dropping records */
} cp_engine_config;

typedef struct cp_engine_stats {
    uint64_t packets, bytes, input_bytes, input_size;
    uint64_t non_ip, icmp, other_l4;
    uint64_t flows, flows_active, flows_evicted;
    uint64_t records, ring_drops, parse_errors;
    uint64_t ring_waits;        /* offline: times the decode thread waited for the consumer */
    uint64_t decode_cpu_ns;     /* CPU time of the decode thread (set when it finishes) */
    /* Live sources (pcap_stats, read on the decode thread at each publish): packets the kernel
     * handed to the socket, dropped because the ring/buffer was full, and dropped by the interface. */
    uint64_t kernel_received, kernel_dropped, if_dropped;
    uint64_t publishes;         /* counter snapshots taken (a liveness signal for the caller) */
    uint64_t anomalies[CP_AN__COUNT];
} cp_engine_stats;

typedef struct cp_engine cp_engine;

void cp_engine_config_defaults(cp_engine_config *c);
cp_engine *cp_engine_create(const cp_engine_config *c);
void cp_engine_destroy(cp_engine *e);
cp_ring *cp_engine_ring(cp_engine *e);

/* Threaded use: read a whole capture on a new thread; ends with a CP_REC_INPUT_END record.
 * Returns 0, or -1 with msg filled if the thread could not start. */
int cp_engine_start(cp_engine *e, cp_capture *src, char *msg, size_t msglen);
void cp_engine_request_stop(cp_engine *e);
void cp_engine_join(cp_engine *e);
int cp_engine_running(const cp_engine *e);

/* Synchronous use (tests, fuzzing): feed packets on the caller's thread, then flush. */
void cp_engine_feed(cp_engine *e, const cp_pkthdr *h, const uint8_t *data);
/* Let the engine read TLS key logs from the capture's pcapng Decryption Secrets Blocks. */
void cp_engine_attach_secrets(cp_engine *e, cp_capture *src);
void cp_engine_flush(cp_engine *e);

/* Snapshot of counters; safe to call from another thread while running (values lag slightly). */
void cp_engine_get_stats(cp_engine *e, cp_engine_stats *out);

/* CPU time (user + system) of the calling thread, ns (RUSAGE_THREAD is _GNU_SOURCE-only). */
uint64_t cp_thread_cpu_ns(void);


#endif
