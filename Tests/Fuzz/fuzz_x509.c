/* fuzz_x509.c: libFuzzer harness for the x509 parser (exact-size input copy; ASan/UBSan). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    cp_x509_rec x = {0}; cp_out o = fuzz_out(sizeof x); uint64_t a = 0; cp_x509_oids(p, n, &x, &o, &a);
    free(p);
    return 0;
}
