/* fuzz_http_request.c: libFuzzer harness for the http_request parser (exact-size input copy; ASan/UBSan). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    cp_http_rec r; memset(&r, 0, sizeof r); cp_out o = fuzz_out(sizeof r); size_t used; uint64_t body, a = 0; int ch; cp_http_request(p, n, &r, &o, &used, &body, &ch, &a);
    free(p);
    return 0;
}
