/* fuzz_http_request.c: libFuzzer harness for the http_request parser (exact-size input copy; ASan/UBSan). */
#include "fuzz_common.h"

static void sink(void *ctx, uint64_t off, const uint8_t *d, size_t n) {
    volatile uint8_t x = 0;
    for (size_t i = 0; i < n; i++) x ^= d[i];
    (void)ctx; (void)off;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    cp_http_rec r; memset(&r, 0, sizeof r); cp_out o = fuzz_out(sizeof r); size_t used; uint64_t body, a = 0; int ch; cp_http_request(p, n, &r, &o, &used, &body, &ch, &a);
    free(p);
    (void)sink;
    return 0;
}
