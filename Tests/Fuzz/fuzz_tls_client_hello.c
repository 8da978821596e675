/* fuzz_tls_client_hello.c: libFuzzer harness for the tls_client_hello parser (exact-size input copy; ASan/UBSan). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    cp_tls_hello_rec h = {0}; cp_out o = fuzz_out(sizeof h); uint64_t a = 0; cp_tls_client_hello(p, n, n > 0 && (d[0] & 0x80), &h, &o, &a);
    free(p);
    return 0;
}
