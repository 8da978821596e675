/* engine_only.c: the C core alone (read, decode, flows, streams, parsers, records; ring drained
 * without decoding), to split sniff's time between the C core and the Swift consumer. */
#include "CPacket.h"
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: engine_only FILE\n"); return 2; }
    cp_capture_err err;
    char msg[256];
    cp_capture *cap = cp_capture_open_file(argv[1], &err, msg, sizeof msg);
    if (!cap) { fprintf(stderr, "%s\n", msg); return 1; }
    cp_engine_config cfg;
    cp_engine_config_defaults(&cfg);
    cp_engine *e = cp_engine_create(&cfg);
    cp_ring *r = cp_engine_ring(e);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cp_pkthdr h;
    const uint8_t *d;
    unsigned long long recs = 0;
    while (cp_capture_next(cap, &h, &d) == 1) {
        cp_engine_feed(e, &h, d);
        while (cp_ring_peek(r)) { cp_ring_release(r); recs++; }
    }
    cp_engine_flush(e);
    while (cp_ring_peek(r)) { cp_ring_release(r); recs++; }
    clock_gettime(CLOCK_MONOTONIC, &b);
    cp_engine_stats st;
    cp_engine_get_stats(e, &st);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%llu packets %llu records %llu flows %.3f s %.0f packets/s\n",
           (unsigned long long)st.packets, recs, (unsigned long long)st.flows, s, st.packets / s);
    cp_engine_destroy(e);
    cp_capture_close(cap);
    return 0;
}
