/* fuzz_capture_engine.c: whole pipeline: input is a capture file (pcap/pcapng) read from memory,
 * every packet decoded and fed through flows, streams and all L7 parsers; the ring is drained as
 * the Swift consumer would. Seeds: the corpus pcaps. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    cp_capture_err err;
    char msg[256];
    cp_capture *cap = cp_capture_open_buffer(p, n, &err, msg, sizeof msg);
    if (cap) {
        cp_engine_config cfg;
        cp_engine_config_defaults(&cfg);
        cfg.ring_slots = 64;
        cfg.max_flows = 64;
        cp_engine *e = cp_engine_create(&cfg);
        cp_ring *r = cp_engine_ring(e);
        cp_pkthdr h;
        const uint8_t *pkt;
        int k = 0;
        while (cp_capture_next(cap, &h, &pkt) == 1 && k++ < 100000) {
            uint8_t *copy = exact_copy(pkt, h.caplen);
            cp_engine_feed(e, &h, copy);
            free(copy);
            while (cp_ring_peek(r)) cp_ring_release(r);
        }
        cp_engine_flush(e);
        while (cp_ring_peek(r)) cp_ring_release(r);
        cp_engine_destroy(e);
        cp_capture_close(cap);
    }
    free(p);
    return 0;
}

