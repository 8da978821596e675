/* fuzz_dtls_handshake.c: libFuzzer harness for the dtls_handshake parser (exact-size input copy; ASan/UBSan). */
#include "fuzz_common.h"

static void sink(void *ctx, uint64_t off, const uint8_t *d, size_t n) {
    volatile uint8_t x = 0;
    for (size_t i = 0; i < n; i++) x ^= d[i];
    (void)ctx; (void)off;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    uint32_t ml = 0; uint64_t a = 0; cp_dtls_datagram(p, n, 1, sink, NULL, &ml, &a);
    free(p);
    (void)sink;
    return 0;
}
